#!/usr/bin/env bash
# The one command that regenerates results/conformance/:
#
#   conformance/run.sh [SCENARIO...]     (default: scenarios/conformance/*.yaml)
#
# Uses the engine at $DOCKER_HOST when one answers there; otherwise starts a
# private one with conformance/engine.sh (and stops it at the end). Exit
# status: 0 all checks match, 1 some mismatch, 3 no engine could start
# (the reason is printed), 2 bad input.
set -uo pipefail
cd "$(dirname "$0")/.."
ENGINE=conformance/engine.sh
started=0
if [ -n "${DOCKER_HOST:-}" ] && /usr/bin/docker version >/dev/null 2>&1; then
    echo "conformance: using the engine at $DOCKER_HOST"
else
    if ! $ENGINE start; then
        echo "conformance: SKIPPED: no Docker engine could be started here (see the lines above)"
        $ENGINE stop >/dev/null 2>&1 || true
        exit 3
    fi
    started=1
    eval "$($ENGINE env)"
    export DOCKER_HOST
fi
if [ $# -eq 0 ]; then set -- scenarios/conformance/*.yaml; fi
cargo build --quiet || exit 2
target/debug/swarmsim conform "$@" --out results/conformance
rc=$?
if [ $started = 1 ]; then $ENGINE stop; fi
exit $rc
