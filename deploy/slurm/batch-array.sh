#!/bin/bash
# A sharded swarmsim batch as a Slurm job array: array task i runs
# `swarmsim batch SCENARIO --runs RUNS --shard i/N --out OUT/shard-i`, N being
# the number of tasks in the array (SLURM_ARRAY_TASK_COUNT). The size is set
# in one place: the --array option. Submit the array and its merge with
#   deploy/slurm/submit.sh              (SWARMSIM_SHARDS=8 by default)
# or by hand with
#   sbatch --array=0-7 deploy/slurm/batch-array.sh
#   sbatch --dependency=afterok:<jobid> --kill-on-invalid-dep=yes deploy/slurm/merge.sh
# (docs/deploy.md). sbatch passes the submitting shell's environment to the
# job, so these variables are read from where you run sbatch:
#   SWARMSIM             the binary; default `swarmsim` on PATH (put it there
#                        with `cargo install --path .`)
#   SWARMSIM_SCENARIO    default scenarios/planner-400.yaml
#   SWARMSIM_RUNS        runs in all, default 100000
#   SWARMSIM_SEED_START  default 1
#   SWARMSIM_OUT         shard folders' parent, default results/planner-400-shards
# Relative paths are taken from the folder sbatch was run in
# (SLURM_SUBMIT_DIR), so the job works whatever its working folder; that
# folder, the scenario and the binary must be on a filesystem every node
# shares. The array must be one contiguous range (0-7, 1-8, 0-99%10).
#SBATCH --job-name=swarmsim-batch
#SBATCH --array=0-7
#SBATCH --cpus-per-task=2
#SBATCH --mem=512M
#SBATCH --time=01:00:00
#SBATCH --output=slurm-%A_%a.out
set -euo pipefail

fail() { echo "batch-array.sh: $*" >&2; exit 2; }
base="${SLURM_SUBMIT_DIR:-$PWD}"
abs() { case "$1" in /*) printf '%s\n' "$1" ;; *) printf '%s\n' "$base/$1" ;; esac; }

bin="${SWARMSIM:-swarmsim}"
case "$bin" in */*) bin="$(abs "$bin")" ;; esac
command -v "$bin" >/dev/null 2>&1 \
    || fail "no swarmsim binary '$bin': put it on PATH with \`cargo install --path .\` or set SWARMSIM=/path/to/swarmsim"
scenario="$(abs "${SWARMSIM_SCENARIO:-scenarios/planner-400.yaml}")"
out="$(abs "${SWARMSIM_OUT:-results/planner-400-shards}")"
runs="${SWARMSIM_RUNS:-100000}"
seed_start="${SWARMSIM_SEED_START:-1}"

[ -n "${SLURM_ARRAY_TASK_ID:-}" ] || fail "not an array task: submit with sbatch --array=0-N-1 (or deploy/slurm/submit.sh)"
count="${SLURM_ARRAY_TASK_COUNT:?}"
min="${SLURM_ARRAY_TASK_MIN:?}"
max="${SLURM_ARRAY_TASK_MAX:?}"
[ $((max - min + 1)) -eq "$count" ] \
    || fail "the array $min..$max has $count tasks: give one contiguous range, e.g. --array=0-$((count - 1))"
index=$((SLURM_ARRAY_TASK_ID - min))

exec "$bin" batch "$scenario" \
    --runs "$runs" --seed-start "$seed_start" \
    --jobs "${SLURM_CPUS_PER_TASK:-1}" \
    --shard "$index/$count" \
    --out "$out/shard-$index"
