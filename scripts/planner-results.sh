#!/usr/bin/env sh
# Regenerates the committed capacity-planning results in results/:
#   results/planner-400/    batch of 200 runs of scenarios/planner-400.yaml
#   results/planner-sweep/  batch of 200 runs and a 4 x 2 policy sweep of
#                           100 runs per cell of scenarios/planner-sweep.yaml
# Each folder also gets the printed table (table.txt, sweep.txt).
# Checked by tests/planner_results.rs. Usage: sh scripts/planner-results.sh
set -eu
cd "$(dirname "$0")/.."
cargo build --release --quiet
B=target/release/swarmsim
$B batch scenarios/planner-400.yaml --runs 200 --out results/planner-400 \
  > results/planner-400/table.txt
$B batch scenarios/planner-sweep.yaml --runs 200 --out results/planner-sweep \
  > results/planner-sweep/table.txt
$B sweep scenarios/planner-sweep.yaml \
  --set web.update_config.parallelism=1,2,4,8 \
  --set web.update_config.delay=0s,5s \
  --runs 100 --require 'min_running>=36' --minimize p95_duration \
  --out results/planner-sweep > results/planner-sweep/sweep.txt
