#!/usr/bin/env bash
# Races inside Swarm judged as races (docs/conformance.md, "Races"):
#
#   conformance/races.sh [N] [SCENARIO...]
#
# runs each scenario (default scenarios/conformance/auto-rollback.yaml) N
# times (default 8) on a private single-node engine it starts and stops
# itself (conformance/engine.sh), keeps each real run in
# results/conformance/races/<scenario>/run-I/, then judges them with
# `swarmsim conform --races`: each branch's real count against the
# binomial 95 % interval of 200 seeded simulations (latencies from
# results/conformance/calibration-run). With N=0 it only judges the runs
# already recorded. Exit status as `swarmsim conform`.
set -uo pipefail
cd "$(dirname "$0")/.."
N="${1:-8}"; shift || true
[ $# -gt 0 ] || set -- scenarios/conformance/auto-rollback.yaml
OUT="${SWARMSIM_RACES_OUT:-results/conformance/races}"
CAL="${SWARMSIM_CONFORM_CALIBRATION:-results/conformance/calibration-run}"
export SWARMSIM_ENGINE_DIR="${SWARMSIM_ENGINE_DIR:-/tmp/ssim-r$$}"
cargo build --quiet || exit 2
SWARMSIM=${CARGO_TARGET_DIR:-target}/debug/swarmsim

if [ "$N" -gt 0 ]; then
    if [ -n "${DOCKER_HOST:-}" ]; then
        echo "races: DOCKER_HOST is set; the races only run on an engine they start (unset it)"; exit 2
    fi
    trap 'conformance/engine.sh stop >/dev/null 2>&1 || true' EXIT
    trap 'exit 124' TERM INT
    conformance/engine.sh start || { echo "races: SKIPPED: no Docker engine could be started here"; exit 3; }
    eval "$(conformance/engine.sh env)"; export DOCKER_HOST
    TMP="$(mktemp -d)"
    for s in "$@"; do
        stem="$(basename "$s" .yaml)"
        rm -rf "${OUT:?}/$stem"; mkdir -p "$OUT/$stem"
        for i in $(seq 1 "$N"); do
            "$SWARMSIM" conform "$s" --out "$TMP/run" --calibration "$CAL" >/dev/null 2>&1
            mkdir -p "$OUT/$stem/run-$i"
            cp "$TMP/run/$stem/real-trace.jsonl" "$TMP/run/$stem/real-transcript.txt" "$OUT/$stem/run-$i/"
            echo "races: $stem run $i of $N recorded"
        done
    done
    rm -rf "$TMP"
fi
"$SWARMSIM" conform --races "$OUT" --calibration "$CAL" "$@"
