#!/usr/bin/env bash
# Races inside Swarm judged as races (docs/conformance.md, "Races"):
#
#   conformance/races.sh [N] [SCENARIO...]
#
# runs each scenario (default scenarios/conformance/auto-rollback.yaml) N
# times (default 8) on a private single-node engine it starts and stops
# itself (conformance/engine.sh; a scenario of scenarios/conformance-cluster/
# on a private three-node swarm, conformance/cluster.sh, calibrated on
# the calibration run's cluster/), keeps each real run in
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

single=(); multi=()
for s in "$@"; do
    case "$s" in
        *conformance-cluster/*) multi+=("$s") ;;
        *) single+=("$s") ;;
    esac
done

# record KIND SCENARIO...: N real runs of each, on the engine of DOCKER_HOST.
record() {
    local cal=$1 s stem i; shift
    local tmp; tmp="$(mktemp -d)"
    for s in "$@"; do
        stem="$(basename "$s" .yaml)"
        rm -rf "${OUT:?}/$stem"; mkdir -p "$OUT/$stem"
        for i in $(seq 1 "$N"); do
            "$SWARMSIM" conform "$s" --out "$tmp/run" --calibration "$cal" >/dev/null 2>&1
            mkdir -p "$OUT/$stem/run-$i"
            cp "$tmp/run/$stem/real-trace.jsonl" "$tmp/run/$stem/real-transcript.txt" "$OUT/$stem/run-$i/"
            echo "races: $stem run $i of $N recorded"
        done
    done
    rm -rf "$tmp"
}

if [ "$N" -gt 0 ]; then
    if [ -n "${DOCKER_HOST:-}" ]; then
        echo "races: DOCKER_HOST is set; the races only run on an engine they start (unset it)"; exit 2
    fi
    trap 'conformance/engine.sh stop >/dev/null 2>&1 || true; conformance/cluster.sh stop >/dev/null 2>&1 || true' EXIT
    trap 'exit 124' TERM INT
    if [ ${#single[@]} -gt 0 ]; then
        conformance/engine.sh start || { echo "races: SKIPPED: no Docker engine could be started here"; exit 3; }
        ( eval "$(conformance/engine.sh env)"; export DOCKER_HOST; record "$CAL" "${single[@]}" )
        conformance/engine.sh stop >/dev/null 2>&1 || true
    fi
    if [ ${#multi[@]} -gt 0 ]; then
        # Three nodes (conformance/cluster.sh), as conformance/run.sh.
        export SWARMSIM_CLUSTER_DIR="${SWARMSIM_CLUSTER_DIR:-/tmp/ssim-rc$$}"
        export SWARMSIM_CLUSTER_TAG="${SWARMSIM_CLUSTER_TAG:-$$}"
        conformance/cluster.sh start manager1 worker1 worker2 \
            || { echo "races: SKIPPED: the three-node swarm could not be started here"; exit 3; }
        ( eval "$(conformance/cluster.sh env)"; export DOCKER_HOST SWARMSIM_NODE_CTL; record "$CAL/cluster" "${multi[@]}" )
        conformance/cluster.sh stop >/dev/null 2>&1 || true
    fi
fi
rc=0
if [ ${#single[@]} -gt 0 ]; then
    "$SWARMSIM" conform --races "$OUT" --calibration "$CAL" "${single[@]}" || rc=$?
fi
if [ ${#multi[@]} -gt 0 ]; then
    "$SWARMSIM" conform --races "$OUT" --calibration "$CAL/cluster" "${multi[@]}" || { r=$?; [ $r -gt $rc ] && rc=$r; }
fi
exit $rc
