#!/usr/bin/env bash
# Tests the conformance suite itself: each named mutant of the simulator
# (src/mutant.rs, switched on by SWARMSIM_MUTANT) must make some scenario
# mismatch against the real engine. No engine is needed: the real runs
# recorded by conformance/run.sh (RUN/<scenario>/real-trace.jsonl and
# real-transcript.txt) are judged again with `swarmsim conform --replay`.
#
#   conformance/mutants.sh
#
# Two recorded runs, each judged with the latencies of the other (held
# out): results/conformance (calibrated on
# results/conformance/calibration-run) and results/conformance/calibration-run
# (calibrated on results/conformance). In each, first the simulator as it
# is: a scenario that already mismatches cannot tell a mutant and is left
# out; then each mutant. Writes results/conformance/mutants.md: each mutant
# and the scenarios (and run) that caught it. Exit status: 0 every mutant
# was caught; 1 a mutant survived; 2 bad input (no recordings).
set -uo pipefail
cd "$(dirname "$0")/.."
MAIN="${SWARMSIM_CONFORM_OUT:-results/conformance}"
CAL="results/conformance/calibration-run"
cargo build --quiet || exit 2
SWARMSIM=${CARGO_TARGET_DIR:-target}/debug/swarmsim
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

# judge RUN CALIBRATION MUTANT: the scenarios recorded in RUN that
# mismatch, one a line (`cluster/` before the three-node ones).
judge() {
    local run=$1 cal=$2 m=$3 single=() multi=() s
    for s in scenarios/conformance/*.yaml; do
        [ -f "$run/$(basename "$s" .yaml)/real-trace.jsonl" ] && single+=("$s")
    done
    for s in scenarios/conformance-cluster/*.yaml; do
        [ -f "$run/cluster/$(basename "$s" .yaml)/real-trace.jsonl" ] && multi+=("$s")
    done
    {
        if [ ${#single[@]} -gt 0 ]; then
            SWARMSIM_MUTANT="$m" "$SWARMSIM" conform --replay "$run" --out "$TMP/out" \
                --calibration "$cal" "${single[@]}" 2>&1 >/dev/null
        fi
        if [ ${#multi[@]} -gt 0 ]; then
            SWARMSIM_MUTANT="$m" "$SWARMSIM" conform --replay "$run/cluster" --out "$TMP/out" \
                --calibration "$cal/cluster" "${multi[@]}" 2>&1 >/dev/null \
                | sed 's/^conform: /conform: cluster\//'
        fi
    } | sed -n 's/^conform: \([^ ]*\): \([0-9]*\) of \([0-9]*\) checks match.*/\1 \2 \3/p' \
      | awk '$2 != $3 {print $1}'
}

runs=()
[ -d "$MAIN" ] && [ -d "$CAL" ] && runs=("$MAIN|$CAL" "$CAL|$MAIN")
if [ ${#runs[@]} -eq 0 ]; then
    echo "mutants: need the recorded runs $MAIN and $CAL (conformance/run.sh)"; exit 2
fi
declare -A base
for pair in "${runs[@]}"; do
    run=${pair%%|*}; cal=${pair##*|}
    base[$run]="$(judge "$run" "$cal" "")"
    echo "mutants: $run, the simulator as it is mismatches in: $(echo ${base[$run]:-none})"
done

report="$MAIN/mutants.md"
{
    echo "# Mutants: does the conformance suite catch a wrong simulator?"
    echo
    echo "Each mutant is a deliberate bug in the simulator (src/mutant.rs, switched on by"
    echo "\`SWARMSIM_MUTANT=<name>\`), judged against two recorded real runs, each with the"
    echo "latencies of the other (\`swarmsim conform --replay\`): \`$MAIN\` (A) and \`$CAL\` (B)."
    echo "Scenarios that already mismatch without a mutant are left out of that run:"
    for pair in "${runs[@]}"; do
        run=${pair%%|*}
        echo "- \`$run\`: $(echo ${base[$run]:-none} | sed 's/ /, /g')"
    done
    echo
    echo "Regenerate with \`conformance/mutants.sh\`."
    echo
    echo "| mutant | what it breaks | caught by |"
    echo "| --- | --- | --- |"
} > "$report"

rc=0
grep -A1 '^    ($' src/mutant.rs | grep -o '"[a-z0-9-]*"' | tr -d '"' > "$TMP/names"
while read -r m; do
    what="$(grep -A2 "\"$m\"," src/mutant.rs | sed -n '2p' | sed 's/^ *"//; s/",$//')"
    caught=""
    for pair in "${runs[@]}"; do
        run=${pair%%|*}; cal=${pair##*|}
        tag=A; [ "$run" = "$CAL" ] && tag=B
        for s in $(judge "$run" "$cal" "$m"); do
            echo "${base[$run]}" | grep -qx "$s" || caught="$caught $s ($tag)"
        done
    done
    if [ -n "$caught" ]; then
        echo "mutants: $m caught by:$caught"
        echo "| \`$m\` | $what | $(echo "$caught" | sed 's/^ //; s/) /), /g') |" >> "$report"
    else
        echo "mutants: $m SURVIVED (no scenario mismatches)"
        echo "| \`$m\` | $what | **not caught** |" >> "$report"
        rc=1
    fi
done < "$TMP/names"
exit $rc
