#!/usr/bin/env bash
# Run deploy/swarm/batch-job.sh for real on a private single-node Docker
# Swarm and check its merged output byte for byte against the unsharded
# `swarmsim batch`.
#
#   deploy/swarm/test.sh
#
# The engine is the conformance suite's (conformance/engine.sh: Debian's
# docker.io, its own dockerd, offline, swarm on 127.0.0.1) in
# $SWARMSIM_ENGINE_DIR (default /tmp/swarmsim-deploy); the test starts it
# and stops it at the end, or uses it and leaves it running when it already
# runs there. $SWARMSIM_SWARM_PORT picks the swarm's port (engine.sh).
#   1. deploy/image/build.sh builds the image (FROM scratch, no network);
#   2. batch-job.sh runs 8 shards (the shipped default) of SWARMSIM_RUNS
#      runs (default 16) as a replicated job and merges them in a second
#      job: the merged files must equal the unsharded batch's, byte for byte;
#   3. a scenario with an error: batch-job.sh must exit 1, not wait;
#   4. the Kubernetes Indexed Job's and merge Job's container commands
#      (deploy/kubernetes/), expanded for each pod index, run in the same
#      image with `docker run` (this is not Kubernetes), the run count made
#      small: the merge must equal the unsharded batch too.
# Nothing is written into the repository.
#
# Environment: SWARMSIM (the binary; default: `cargo build` then
# target/debug/swarmsim), SWARMSIM_RUNS (16), SWARMSIM_KEEP=1 (keep the
# temporary folder).
#
# Exit codes: 0 the bytes match; 1 a mismatch, a failed job or a test error;
# 3 SKIPPED (no Docker engine could start here; the reason is printed).
set -euo pipefail

REPO="$(cd "$(dirname "$0")/../.." && pwd)"
RUNS="${SWARMSIM_RUNS:-16}"
export SWARMSIM_ENGINE_DIR="${SWARMSIM_ENGINE_DIR:-/tmp/swarmsim-deploy}"
export DOCKER="${SWARMSIM_DOCKER:-/usr/bin/docker}"
IMAGE=swarmsim:deploy-test
say() { echo "swarm-test: $*" >&2; }
skip() { say "SKIPPED: $*"; exit 3; }
fail() { say "FAILED: $*"; exit 1; }

bin="${SWARMSIM:-}"
if [ -z "$bin" ]; then
    (cd "$REPO" && cargo build -q) || fail "cargo build failed"
    bin="${CARGO_TARGET_DIR:-$REPO/target}/debug/swarmsim"
fi
[ -x "$bin" ] || fail "no swarmsim binary at $bin"
bin="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"

started=""
TMP="$(mktemp -d /tmp/ssim-swarm.XXXXXX)"
finish() {
    if [ -n "$started" ]; then
        "$REPO/conformance/engine.sh" stop >/dev/null 2>&1 || true
    else
        "$DOCKER" image rm "$IMAGE" >/dev/null 2>&1 || true
    fi
    if [ -n "${SWARMSIM_KEEP:-}" ]; then say "kept $TMP"; else rm -rf "$TMP"; fi
}
trap finish EXIT
trap 'exit 130' INT TERM

if "$REPO/conformance/engine.sh" status >/dev/null 2>&1; then
    say "using the running engine in $SWARMSIM_ENGINE_DIR"
else
    [ "$(id -u)" -eq 0 ] || skip "starting a Docker engine needs root"
    started=1
    if ! "$REPO/conformance/engine.sh" start >"$TMP/engine.log" 2>&1; then
        tail -n 8 "$TMP/engine.log" >&2
        skip "no Docker engine could start on this machine (conformance/engine.sh start failed)"
    fi
fi
eval "$("$REPO/conformance/engine.sh" env)"
export DOCKER_HOST
say "engine: Docker $("$DOCKER" version --format '{{.Server.Version}}'), swarm $("$DOCKER" info --format '{{.Swarm.LocalNodeState}}')"

# --- 1. the image -------------------------------------------------------------
SWARMSIM="$bin" "$REPO/deploy/image/build.sh" "$IMAGE" || fail "the image did not build"

# --- 2. the sharded batch as a replicated job -----------------------------------
cp "$REPO/scenarios/planner-400.yaml" "$TMP/planner-400.yaml"
t0=$SECONDS
SWARMSIM_IMAGE="$IMAGE" SWARMSIM_SHARDS=8 SWARMSIM_RUNS="$RUNS" SWARMSIM_JOBS=1 \
    SWARMSIM_NAME=swarmsim-deploy-test SWARMSIM_TIMEOUT=600 \
    "$REPO/deploy/swarm/batch-job.sh" "$TMP/planner-400.yaml" "$TMP/out" \
    || fail "batch-job.sh failed"
say "sharded job and merge done in $((SECONDS - t0)) s"
"$bin" batch "$TMP/planner-400.yaml" --runs "$RUNS" --out "$TMP/unsharded" >/dev/null
n=0
for f in "$TMP"/unsharded/*; do
    n=$((n + 1))
    cmp "$f" "$TMP/out/merged/$(basename "$f")" \
        || fail "merged/$(basename "$f") differs from the unsharded batch"
done
[ "$n" -gt 0 ] || fail "the unsharded batch wrote nothing"
[ "$(ls "$TMP/out/merged" | wc -l)" -eq "$n" ] \
    || fail "merged/ holds other files than the unsharded batch: $(ls "$TMP/out/merged")"
for ((i = 0; i < 8; i++)); do
    grep -q "\"shard\": {\"index\": $i, \"count\": 8}" "$TMP/out/shard-$i/batch.json" \
        || fail "shard-$i/batch.json is not shard $i of 8"
done
say "merged output of 8 tasks = unsharded batch, $n files byte for byte ($RUNS runs)"

# --- 3. a failing task ends the script ------------------------------------------
printf 'name: broken\nno_such_key: 1\n' > "$TMP/broken.yaml"
t0=$SECONDS
set +e
SWARMSIM_IMAGE="$IMAGE" SWARMSIM_SHARDS=2 SWARMSIM_RUNS=4 SWARMSIM_NAME=swarmsim-deploy-test \
    SWARMSIM_TIMEOUT=120 "$REPO/deploy/swarm/batch-job.sh" "$TMP/broken.yaml" "$TMP/broken" \
    2>"$TMP/broken.err"
rc=$?
set -e
[ $rc -eq 1 ] || { cat "$TMP/broken.err" >&2; fail "batch-job.sh on a broken scenario exited $rc, not 1"; }
grep -q 'unknown key `no_such_key`' "$TMP/broken.err" \
    || { cat "$TMP/broken.err" >&2; fail "batch-job.sh did not show the task's error"; }
[ -z "$("$DOCKER" service ls -q --filter name=swarmsim-deploy-test)" ] \
    || fail "batch-job.sh left its services behind"
say "a broken scenario: batch-job.sh exited 1 with the task's error in $((SECONDS - t0)) s"

# --- 4. the Kubernetes Jobs' containers, in the same image, on Docker ----------
# Not Kubernetes: each pod's command and args as the kubelet would expand
# them (deploy/kubernetes/check.py --print-command), run with `docker run`
# on a shared folder, the run count made small. It shows that the image and
# the manifests fit (paths, PATH, the shell for the merge's glob) and that
# the merge equals the unsharded batch.
K8S="$REPO/deploy/kubernetes"
if ! /usr/bin/python3 -c 'import yaml' 2>/dev/null; then
    say "step 4 SKIPPED: /usr/bin/python3 with yaml (Debian's python3-yaml) is missing"
else
    t0=$SECONDS
    mkdir -p "$TMP/k8s"
    n_pods="$(sed -n 's/^ *completions: *\([0-9]*\).*/\1/p' "$K8S/batch-indexed-job.yaml")"
    run_pod() { # FILE INDEX: run the pod's container; rewrite --runs=N to $RUNS
        local words=() w out=() seen=0
        mapfile -t words < <(/usr/bin/python3 "$K8S/check.py" --print-command "$1" "$2")
        [ ${#words[@]} -gt 0 ] || fail "no command in $1"
        for w in "${words[@]}"; do
            case "$w" in --runs=*) out+=("--runs=$RUNS"); seen=1 ;; *) out+=("$w") ;; esac
        done
        case "$1" in *batch-indexed-job.yaml) [ $seen -eq 1 ] || fail "no --runs= in $1" ;; esac
        "$DOCKER" run --rm --network none -v "$TMP/k8s:/results" \
            --entrypoint "${out[0]}" "$IMAGE" "${out[@]:1}" >/dev/null 2>"$TMP/pod.err" \
            || { tail -n 5 "$TMP/pod.err" >&2; fail "pod $2 of $(basename "$1") failed in the image"; }
    }
    for ((i = 0; i < n_pods; i++)); do run_pod "$K8S/batch-indexed-job.yaml" "$i"; done
    run_pod "$K8S/merge-job.yaml" 0
    for f in "$TMP"/unsharded/*; do
        cmp "$f" "$TMP/k8s/merged/$(basename "$f")" \
            || fail "the Kubernetes Jobs' merged/$(basename "$f") differs from the unsharded batch"
    done
    [ "$(ls "$TMP/k8s/merged" | wc -l)" -eq "$n" ] || fail "the Kubernetes merge wrote other files"
    say "the Kubernetes Jobs' $n_pods pod commands + merge, run in the image on Docker: $n files byte for byte in $((SECONDS - t0)) s"
fi
say "PASSED"
