#!/bin/bash
# A swarmsim batch of 100,000 runs split into 8 shards as a Slurm job
# array: array task i runs `swarmsim batch ... --shard i/8`, the index
# coming from SLURM_ARRAY_TASK_ID (the array is 0-7 so that it matches
# swarmsim's 0-based shard index). Submit with
#   sbatch deploy/slurm/batch-array.sh
# and, when all tasks are done, join the shards with
#   sbatch --dependency=afterok:<jobid> --wrap \
#     'swarmsim merge results/planner-400-shards/shard-* --out results/planner-400-merged'
# (merge sorts by seed, so the order of the folders does not matter).
#SBATCH --job-name=swarmsim-planner-400
#SBATCH --array=0-7
#SBATCH --cpus-per-task=2
#SBATCH --mem=512M
#SBATCH --time=01:00:00
#SBATCH --output=slurm-%A_%a.out
set -euo pipefail
SHARDS=8
swarmsim batch scenarios/planner-400.yaml \
  --runs 100000 --seed-start 1 \
  --jobs "${SLURM_CPUS_PER_TASK:-2}" \
  --shard "${SLURM_ARRAY_TASK_ID}/${SHARDS}" \
  --out "results/planner-400-shards/shard-${SLURM_ARRAY_TASK_ID}"
