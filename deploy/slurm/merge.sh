#!/bin/bash
# Join the shard folders of deploy/slurm/batch-array.sh into the files the
# unsharded batch writes (`swarmsim merge`). Submit it after the array:
#   sbatch --dependency=afterok:<array jobid> --kill-on-invalid-dep=yes deploy/slurm/merge.sh
# (deploy/slurm/submit.sh does both). afterok alone would leave this job
# pending forever when a shard fails (DependencyNeverSatisfied);
# --kill-on-invalid-dep=yes, also set below, cancels it instead, so
# `sbatch --wait` returns.
# Variables, as in batch-array.sh (relative paths from the submit folder):
#   SWARMSIM             the binary; default `swarmsim` on PATH
#   SWARMSIM_OUT         shard folders' parent, default results/planner-400-shards
#   SWARMSIM_SHARDS      N: merge shard-0..shard-(N-1); default every shard-*
#   SWARMSIM_MERGED      merged folder, default results/planner-400-merged
#SBATCH --job-name=swarmsim-merge
#SBATCH --cpus-per-task=1
#SBATCH --mem=512M
#SBATCH --time=00:30:00
#SBATCH --kill-on-invalid-dep=yes
#SBATCH --output=slurm-%j.out
set -euo pipefail

fail() { echo "merge.sh: $*" >&2; exit 2; }
base="${SLURM_SUBMIT_DIR:-$PWD}"
abs() { case "$1" in /*) printf '%s\n' "$1" ;; *) printf '%s\n' "$base/$1" ;; esac; }

bin="${SWARMSIM:-swarmsim}"
case "$bin" in */*) bin="$(abs "$bin")" ;; esac
command -v "$bin" >/dev/null 2>&1 \
    || fail "no swarmsim binary '$bin': put it on PATH with \`cargo install --path .\` or set SWARMSIM=/path/to/swarmsim"
out="$(abs "${SWARMSIM_OUT:-results/planner-400-shards}")"
merged="$(abs "${SWARMSIM_MERGED:-results/planner-400-merged}")"

dirs=()
if [ -n "${SWARMSIM_SHARDS:-}" ]; then
    for ((i = 0; i < SWARMSIM_SHARDS; i++)); do dirs+=("$out/shard-$i"); done
else
    for d in "$out"/shard-*; do [ -d "$d" ] && dirs+=("$d"); done
    [ ${#dirs[@]} -gt 0 ] || fail "no shard folders in $out"
fi
# merge refuses missing or repeated shards and mixed scenarios.
exec "$bin" merge "${dirs[@]}" --out "$merged"
