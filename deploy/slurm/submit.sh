#!/bin/bash
# Submit a sharded swarmsim batch to Slurm: the array job
# (deploy/slurm/batch-array.sh, SWARMSIM_SHARDS tasks, default 8) and the
# merge job (deploy/slurm/merge.sh) that runs when every shard succeeded and
# is cancelled when one fails.
#
#   deploy/slurm/submit.sh [--wait] [SBATCH OPTION...]
#
# --wait blocks until the merge job ends and exits 0 only when it completed
# (1 when a shard failed and the merge was cancelled). It prints the merge
# job's id on stdout. The other options go to
# both sbatch calls (e.g. --partition=long, --account=...). The SWARMSIM_*
# variables of batch-array.sh and merge.sh are passed on by sbatch; run it
# from the folder relative paths should start from.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
wait=()
if [ "${1:-}" = "--wait" ]; then wait=(--wait); shift; fi
shards="${SWARMSIM_SHARDS:-8}"
case "$shards" in ''|*[!0-9]*|0) echo "submit.sh: SWARMSIM_SHARDS must be a count >= 1, not '$shards'" >&2; exit 2 ;; esac
export SWARMSIM_SHARDS="$shards"

array="$(sbatch --parsable --array="0-$((shards - 1))" "$@" "$here/batch-array.sh")"
array="${array%%;*}"
echo "submit.sh: array job $array ($shards shards)" >&2
if [ ${#wait[@]} -gt 0 ]; then
    echo "submit.sh: merge job after $array; waiting" >&2
fi
merge="$(sbatch --parsable "${wait[@]}" --dependency="afterok:$array" --kill-on-invalid-dep=yes \
    "$@" "$here/merge.sh")" || rc=$?
merge="${merge%%;*}"
echo "$merge"
[ ${#wait[@]} -gt 0 ] || exit 0
# sbatch --wait exits 0 for a job cancelled before it started (a shard
# failed, so the dependency can never be met): ask for the job's state.
state="$(scontrol show job -o "$merge" 2>/dev/null | grep -o 'JobState=[A-Z_]*' || true)"
state="${state#JobState=}"
reason="$(scontrol show job -o "$merge" 2>/dev/null | grep -o 'Reason=[^ ]*' || true)"
echo "submit.sh: merge job $merge: ${state:-unknown (no longer listed)} ${reason}" >&2
if [ "${rc:-0}" -ne 0 ]; then exit "$rc"; fi
case "$state" in
    COMPLETED|"") exit 0 ;;
    *) exit 1 ;;
esac
