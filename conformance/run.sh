#!/usr/bin/env bash
# The one command that regenerates results/conformance/:
#
#   conformance/run.sh [SCENARIO...]
#
# Default: scenarios/conformance/*.yaml on a single-node Swarm (results in
# results/conformance/), then scenarios/conformance-cluster/*.yaml on a
# three-node Swarm (results in results/conformance/cluster/). Named
# scenarios go to the single node, or to the cluster when they live in
# scenarios/conformance-cluster/.
#
# Single node: uses the engine at $DOCKER_HOST when one answers there;
# otherwise starts a private one with conformance/engine.sh (and stops it at
# the end). Cluster: always a private one, conformance/cluster.sh (network
# namespaces), stopped at the end; where namespaces cannot be made, the
# cluster scenarios are SKIPPED with the reason. Exit status: 0 all checks
# match, 1 some mismatch, 3 no engine could start at all (the reason is
# printed), 2 bad input.
set -uo pipefail
cd "$(dirname "$0")/.."
ENGINE=conformance/engine.sh
CLUSTER=conformance/cluster.sh
export SWARMSIM_CLUSTER_DIR="${SWARMSIM_CLUSTER_DIR:-/tmp/swarmsim-cluster}"

single=(); multi=()
if [ $# -eq 0 ]; then
    single=(scenarios/conformance/*.yaml)
    multi=(scenarios/conformance-cluster/*.yaml)
else
    for s in "$@"; do
        case "$s" in
            *conformance-cluster/*) multi+=("$s") ;;
            *) single+=("$s") ;;
        esac
    done
fi
cargo build --quiet || exit 2

rc=0; ran=0
if [ ${#single[@]} -gt 0 ]; then
    started=0
    if [ -n "${DOCKER_HOST:-}" ] && /usr/bin/docker version >/dev/null 2>&1; then
        echo "conformance: using the engine at $DOCKER_HOST"
        ok=1
    elif $ENGINE start; then
        started=1; ok=1
        eval "$($ENGINE env)"
        export DOCKER_HOST
    else
        echo "conformance: single node SKIPPED: no Docker engine could be started here (see the lines above)"
        $ENGINE stop >/dev/null 2>&1 || true
        ok=0
    fi
    if [ $ok = 1 ]; then
        ran=1
        target/debug/swarmsim conform "${single[@]}" --out results/conformance
        r=$?; [ $r -gt $rc ] && rc=$r
        if [ $started = 1 ]; then $ENGINE stop; fi
    fi
fi

if [ ${#multi[@]} -gt 0 ]; then
    if $CLUSTER start manager1 worker1 worker2; then
        ran=1
        (
            eval "$($CLUSTER env)"
            export DOCKER_HOST SWARMSIM_NODE_CTL
            target/debug/swarmsim conform "${multi[@]}" --out results/conformance/cluster
        )
        r=$?; [ $r -gt $rc ] && rc=$r
    else
        echo "conformance: multi-node SKIPPED: the three-node swarm could not be started here (see the lines above)"
    fi
    $CLUSTER stop >/dev/null 2>&1 || true
fi

if [ $ran = 0 ]; then exit 3; fi
exit $rc
