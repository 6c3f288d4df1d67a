#!/usr/bin/env bash
# The one command that regenerates results/conformance/:
#
#   conformance/run.sh [SCENARIO...]
#
# Default: scenarios/conformance/*.yaml on a single-node Swarm (results in
# results/conformance/), then scenarios/conformance-cluster/*.yaml on a
# three-node Swarm (results in results/conformance/cluster/). Named
# scenarios go to the single node, or to the cluster when they live in
# scenarios/conformance-cluster/. $SWARMSIM_CONFORM_OUT replaces
# results/conformance.
#
# The suite only talks to engines it started itself: a private single-node
# engine (conformance/engine.sh) and a private three-node swarm
# (conformance/cluster.sh), each in a folder, containerd namespace, network
# namespaces and bridge of its own (named after this script's pid unless
# SWARMSIM_ENGINE_DIR / SWARMSIM_CLUSTER_DIR are set), stopped when the
# script ends, however it ends. A $DOCKER_HOST set by the caller is refused
# (the suite removes every service of the engine it runs on), unless
# SWARMSIM_CONFORM_USE_DOCKER_HOST=1 says that engine may be used for the
# single-node scenarios.
#
# Held out: the simulation takes its image latencies from another real run
# of each scenario, $SWARMSIM_CONFORM_CALIBRATION (default
# results/conformance/calibration-run, committed; `none`: this run itself),
# never from the run it is compared with.
#
# Every scenario that cannot run is named with the reason
# (`conformance: SKIPPED <scenario>: <reason>`). Exit status: 0 every
# scenario ran and every check matched; 1 some check did not match (see the
# reports); 2 bad input; 3 no scenario could run (no engine could start
# here); 4 some scenarios were skipped, every check of the others matched.
set -uo pipefail
cd "$(dirname "$0")/.."
ENGINE=conformance/engine.sh
CLUSTER=conformance/cluster.sh
OUT="${SWARMSIM_CONFORM_OUT:-results/conformance}"
CAL="${SWARMSIM_CONFORM_CALIBRATION:-results/conformance/calibration-run}"
cal_args() { # subfolder
    if [ "$CAL" != none ]; then echo "--calibration $CAL$1"; fi
}
export SWARMSIM_ENGINE_DIR="${SWARMSIM_ENGINE_DIR:-/tmp/ssim-e$$}"
export SWARMSIM_CLUSTER_DIR="${SWARMSIM_CLUSTER_DIR:-/tmp/ssim-c$$}"
export SWARMSIM_CLUSTER_TAG="${SWARMSIM_CLUSTER_TAG:-$$}"

single=(); multi=()
if [ $# -eq 0 ]; then
    single=(scenarios/conformance/*.yaml)
    multi=(scenarios/conformance-cluster/*.yaml)
else
    for s in "$@"; do
        [ -f "$s" ] || { echo "conformance: no such scenario: $s" >&2; exit 2; }
        case "$s" in
            *conformance-cluster/*) multi+=("$s") ;;
            *) single+=("$s") ;;
        esac
    done
fi
cargo build --quiet || exit 2
SWARMSIM=${CARGO_TARGET_DIR:-target}/debug/swarmsim

# Whatever ends this script (a mismatch, an error, SIGTERM from a timeout),
# the engines it started are stopped.
engine_started=0; cluster_started=0
cleanup() {
    if [ $engine_started = 1 ]; then $ENGINE stop >/dev/null 2>&1 || true; fi
    if [ $cluster_started = 1 ]; then $CLUSTER stop >/dev/null 2>&1 || true; fi
    engine_started=0; cluster_started=0
}
trap cleanup EXIT
trap 'cleanup; exit 124' TERM INT

rc=0; ran=0; skipped=0
skip() { # reason, scenarios...
    local reason=$1; shift
    for s in "$@"; do echo "conformance: SKIPPED $s: $reason"; skipped=$((skipped + 1)); done
}
worst() { if [ "$1" -gt "$rc" ]; then rc=$1; fi; }

if [ ${#single[@]} -gt 0 ]; then
    ok=0
    if [ -n "${DOCKER_HOST:-}" ] && [ "${SWARMSIM_CONFORM_USE_DOCKER_HOST:-}" != 1 ]; then
        echo "conformance: DOCKER_HOST=$DOCKER_HOST is set but the suite only uses engines it starts itself (its clean-up removes every service); unset it, or set SWARMSIM_CONFORM_USE_DOCKER_HOST=1 to use that engine"
        exit 2
    elif [ -n "${DOCKER_HOST:-}" ]; then
        if /usr/bin/docker version >/dev/null 2>&1; then
            echo "conformance: using the engine at $DOCKER_HOST (SWARMSIM_CONFORM_USE_DOCKER_HOST=1)"
            ok=1
        else
            skip "the engine at DOCKER_HOST=$DOCKER_HOST does not answer" "${single[@]}"
        fi
    else
        engine_started=1
        if $ENGINE start; then
            ok=1
            eval "$($ENGINE env)"
            export DOCKER_HOST
        else
            skip "no Docker engine could be started here (see the engine: lines above)" "${single[@]}"
        fi
    fi
    if [ $ok = 1 ]; then
        ran=1
        # shellcheck disable=SC2046
        "$SWARMSIM" conform "${single[@]}" --out "$OUT" $(cal_args "")
        worst $?
    fi
    if [ $engine_started = 1 ]; then $ENGINE stop; engine_started=0; fi
    unset DOCKER_HOST
fi

if [ ${#multi[@]} -gt 0 ]; then
    cluster_started=1
    if $CLUSTER start manager1 worker1 worker2; then
        ran=1
        (
            eval "$($CLUSTER env)"
            export DOCKER_HOST SWARMSIM_NODE_CTL
            # shellcheck disable=SC2046
            "$SWARMSIM" conform "${multi[@]}" --out "$OUT/cluster" $(cal_args /cluster)
        )
        worst $?
    else
        skip "the three-node swarm could not be started here (see the cluster: lines above)" "${multi[@]}"
    fi
    $CLUSTER stop >/dev/null 2>&1 || true
    cluster_started=0
fi

if [ $ran = 0 ]; then exit 3; fi
if [ $rc = 0 ] && [ $skipped -gt 0 ]; then
    echo "conformance: $skipped scenario(s) SKIPPED (named above); every check of the others matched"
    exit 4
fi
exit $rc
