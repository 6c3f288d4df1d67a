#!/usr/bin/env bash
# A sharded swarmsim batch on a Docker Swarm: the shards run as one
# replicated job (`docker service create --mode replicated-job --replicas N`),
# each task taking its task slot as the shard index, then a one-task job
# merges the shard folders into the files the unsharded batch writes.
#
#   deploy/swarm/batch-job.sh SCENARIO OUT
#
#   SCENARIO  the scenario file on the host; its folder is mounted read-only
#   OUT       a host folder that does not exist yet or is empty; shard I
#             writes OUT/shard-I, the merge writes OUT/merged
#
# Environment (all optional):
#   SWARMSIM_SHARDS=8            N, the job's replicas
#   SWARMSIM_RUNS=100000         runs in all (seeds S..S+RUNS-1)
#   SWARMSIM_SEED_START=1        S
#   SWARMSIM_JOBS                worker threads per task (default: all cores)
#   SWARMSIM_MAX_CONCURRENT      tasks at a time (default: N)
#   SWARMSIM_IMAGE=swarmsim:local   built by deploy/image/build.sh
#   SWARMSIM_NAME=swarmsim-batch    prefix of the two services' names
#   SWARMSIM_TIMEOUT=86400       seconds before the script gives up
#   DOCKER=docker                the docker CLI (the engine is $DOCKER_HOST's)
#
# On a swarm of several nodes, the image must be on every node (push it to
# your registry and set SWARMSIM_IMAGE, or `docker save | docker load` it)
# and SCENARIO's folder and OUT must be the same shared folder (e.g. NFS)
# at the same path on every node, because they are bind mounts.
#
# The task slot: swarmkit gives the tasks of a replicated job the slots
# 0..N-1 (manager/orchestrator/jobs/replicated/reconciler.go), but the
# template {{.Task.Slot}} expands slot 0 to the node ID (template/context.go,
# NewContext: "fall back to node id for slot when there is no slot"). The
# task's shell therefore maps "slot equals {{.Node.ID}}" to shard 0; see
# docs/deploy.md.
#
# Exit codes: 0 merged; 1 a task failed, the merge failed or the timeout
# passed (the task errors and logs are printed, the services removed);
# 2 bad arguments.
set -euo pipefail

usage() { echo "usage: $0 SCENARIO OUT (see the comment at the top)" >&2; exit 2; }
[ $# -eq 2 ] || usage
DOCKER="${DOCKER:-docker}"
SHARDS="${SWARMSIM_SHARDS:-8}"
RUNS="${SWARMSIM_RUNS:-100000}"
SEED_START="${SWARMSIM_SEED_START:-1}"
IMAGE="${SWARMSIM_IMAGE:-swarmsim:local}"
NAME="${SWARMSIM_NAME:-swarmsim-batch}"
TIMEOUT="${SWARMSIM_TIMEOUT:-86400}"
for v in SHARDS RUNS SEED_START TIMEOUT; do
    case "${!v}" in ''|*[!0-9]*) echo "$0: $v must be a whole number, not '${!v}'" >&2; exit 2 ;; esac
done
[ "$SHARDS" -ge 1 ] || { echo "$0: SWARMSIM_SHARDS must be at least 1" >&2; exit 2; }
JOBS_ARG=""
if [ -n "${SWARMSIM_JOBS:-}" ]; then JOBS_ARG="--jobs ${SWARMSIM_JOBS}"; fi

[ -f "$1" ] || { echo "$0: no scenario file $1" >&2; exit 2; }
SCEN_DIR="$(cd "$(dirname "$1")" && pwd)"
SCEN_FILE="$(basename "$1")"
mkdir -p "$2"
OUT="$(cd "$2" && pwd)"
if [ -n "$(ls -A "$OUT")" ]; then
    echo "$0: $OUT is not empty; give a new folder" >&2; exit 2
fi

SHARD_SVC="$NAME-shards"
MERGE_SVC="$NAME-merge"
cleanup() { "$DOCKER" service rm "$SHARD_SVC" "$MERGE_SVC" >/dev/null 2>&1 || true; }
trap 'cleanup; exit 130' INT TERM

# wait_job SERVICE COUNT: 0 once COUNT tasks are complete; 1 (with each
# task's error and the service's logs) as soon as one failed, was rejected
# or orphaned, or when the timeout passes.
wait_job() {
    local svc="$1" want="$2" start=$SECONDS ids states done bad
    while :; do
        ids="$("$DOCKER" service ps -q "$svc" 2>/dev/null || true)"
        if [ -n "$ids" ]; then
            # shellcheck disable=SC2086
            states="$("$DOCKER" inspect --format '{{.Slot}} {{.Status.State}} {{.Status.Err}}' $ids)"
            done=$(awk '$2 == "complete"' <<<"$states" | wc -l)
            bad=$(awk '$2 == "failed" || $2 == "rejected" || $2 == "orphaned"' <<<"$states" | sort -u)
            if [ -n "$bad" ]; then
                echo "swarm: $svc: a task did not complete (slot, state, error):" >&2
                sed 's/^/  /' <<<"$bad" >&2
                "$DOCKER" service logs --raw "$svc" 2>&1 | awk '!seen[$0]++' | tail -n 20 | sed 's/^/  log: /' >&2 || true
                return 1
            fi
            [ "$done" -ge "$want" ] && return 0
        fi
        if [ $((SECONDS - start)) -ge "$TIMEOUT" ]; then
            echo "swarm: $svc: not complete after $TIMEOUT s" >&2
            "$DOCKER" service ps --no-trunc "$svc" >&2 || true
            return 1
        fi
        sleep 1
    done
}

common=(--mode replicated-job --restart-condition none --no-resolve-image --detach
        --user "$(id -u):$(id -g)"
        --mount "type=bind,source=$SCEN_DIR,target=/scenario,readonly"
        --mount "type=bind,source=$OUT,target=/out"
        --entrypoint /bin/sh)
max=()
if [ -n "${SWARMSIM_MAX_CONCURRENT:-}" ]; then max=(--max-concurrent "$SWARMSIM_MAX_CONCURRENT"); fi

echo "swarm: $SHARD_SVC: $SHARDS tasks, $RUNS runs of $SCEN_FILE into $OUT" >&2
# The script each task's /bin/sh runs; $SLOT and $NODE are the templates.
# shellcheck disable=SC2016
shard_sh='if [ "$SLOT" = "$NODE" ]; then I=0; else I=$SLOT; fi
exec swarmsim batch "/scenario/$SCEN" --runs "$RUNS" --seed-start "$SEED_START" $JOBS_ARG --shard "$I/$SHARDS" --out "/out/shard-$I"'
"$DOCKER" service create --name "$SHARD_SVC" "${common[@]}" "${max[@]}" --replicas "$SHARDS" \
    --env 'SLOT={{.Task.Slot}}' --env 'NODE={{.Node.ID}}' \
    --env "SCEN=$SCEN_FILE" --env "RUNS=$RUNS" --env "SEED_START=$SEED_START" \
    --env "SHARDS=$SHARDS" --env "JOBS_ARG=$JOBS_ARG" \
    "$IMAGE" -c "$shard_sh" >/dev/null
if ! wait_job "$SHARD_SVC" "$SHARDS"; then cleanup; exit 1; fi
"$DOCKER" service rm "$SHARD_SVC" >/dev/null

dirs=()
for ((i = 0; i < SHARDS; i++)); do dirs+=("/out/shard-$i"); done
echo "swarm: $MERGE_SVC: merging ${#dirs[@]} shards into $OUT/merged" >&2
"$DOCKER" service create --name "$MERGE_SVC" "${common[@]}" --replicas 1 \
    "$IMAGE" -c 'exec swarmsim merge "$@" --out /out/merged' merge "${dirs[@]}" >/dev/null
if ! wait_job "$MERGE_SVC" 1; then cleanup; exit 1; fi
"$DOCKER" service rm "$MERGE_SVC" >/dev/null
echo "swarm: done: $OUT/merged" >&2
