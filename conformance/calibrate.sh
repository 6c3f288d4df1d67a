#!/usr/bin/env bash
# Fits the engine's own step latencies (the scenario format's `engine:`
# block, docs/scenario-format.md) on the traces of a real run and writes the
# block into every conformance scenario, replacing the one there:
#
#   conformance/calibrate.sh [RUN]    (default results/conformance/calibration-run)
#
# One node: RUN/*/real-trace.jsonl into scenarios/conformance/*.yaml; three
# nodes: RUN/cluster/*/real-trace.jsonl into scenarios/conformance-cluster/.
# The comparison run must be another run (held out, docs/conformance.md).
set -euo pipefail
cd "$(dirname "$0")/.."
RUN="${1:-results/conformance/calibration-run}"
cargo build --quiet
SWARMSIM=${CARGO_TARGET_DIR:-target}/debug/swarmsim

write_block() { # traces dir, scenarios dir
    local traces=("$1"/*/real-trace.jsonl) block
    [ -f "${traces[0]}" ] || { echo "calibrate: no traces in $1" >&2; return 0; }
    block="$("$SWARMSIM" calibrate --engine "${traces[@]}" | sed "s|swarmsim calibrate --engine .*:|swarmsim calibrate --engine $1/*/real-trace.jsonl (conformance/calibrate.sh):|")"
    echo "$block"
    for f in "$2"/*.yaml; do
        # Drop an engine: block (and its comment line), put the new one
        # before `until:`; a race probability (rollback_race, failure_race:
        # calibrated on repeated runs, judged by conformance/races.sh, not
        # fitted here) stays.
        awk -v block="$block" '
            /^# swarmsim calibrate --engine/ { next }
            /^engine:/ { skip = 1; next }
            skip && /^[^ ]/ { skip = 0 }
            skip && /^  [a-z]+_race:/ { race = race $0 "\n"; next }
            skip { next }
            /^until:/ { print block; printf "%s", race }
            { print }
        ' "$f" > "$f.new"
        mv "$f.new" "$f"
    done
}
write_block "$RUN" scenarios/conformance
write_block "$RUN/cluster" scenarios/conformance-cluster
