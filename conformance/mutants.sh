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
# mismatch, one a line (`cluster/` before the three-node ones), each
# followed by `live` when a check that gates the live run mismatched (any
# check but the strict durations, 0.3 s or 5 %; the live bound on durations
# is one of them), else `strict`.
judge() {
    local run=$1 cal=$2 m=$3 single=() multi=() s
    for s in scenarios/conformance/*.yaml; do
        [ -f "$run/$(basename "$s" .yaml)/real-trace.jsonl" ] && single+=("$s")
    done
    for s in scenarios/conformance-cluster/*.yaml; do
        [ -f "$run/cluster/$(basename "$s" .yaml)/real-trace.jsonl" ] && multi+=("$s")
    done
    rm -rf "$TMP/out" "$TMP/outc"
    if [ ${#single[@]} -gt 0 ]; then
        SWARMSIM_MUTANT="$m" "$SWARMSIM" conform --replay "$run" --out "$TMP/out" \
            --calibration "$cal" "${single[@]}" >/dev/null 2>&1
    fi
    if [ ${#multi[@]} -gt 0 ]; then
        SWARMSIM_MUTANT="$m" "$SWARMSIM" conform --replay "$run/cluster" --out "$TMP/outc" \
            --calibration "$cal/cluster" "${multi[@]}" >/dev/null 2>&1
    fi
    for t in "$TMP/out/README.md|" "$TMP/outc/README.md|cluster/"; do
        [ -f "${t%%|*}" ] || continue
        awk -F' [|] ' -v pre="${t##*|}" '/^[|] \[/ && $3 != "-" {
            s = $1; sub(/^[|] \[/, "", s); sub(/\].*/, "", s); k = "strict"
            n = split($3, c, "; "); for (i = 1; i <= n; i++) if (c[i] !~ /^update\/rollback durations \(0\.3s or 5%\)$/) k = "live"
            print pre s, k
        }' "${t%%|*}"
    done
}

runs=()
[ -d "$MAIN" ] && [ -d "$CAL" ] && runs=("$MAIN|$CAL" "$CAL|$MAIN")
if [ ${#runs[@]} -eq 0 ]; then
    echo "mutants: need the recorded runs $MAIN and $CAL (conformance/run.sh)"; exit 2
fi
declare -A base
for pair in "${runs[@]}"; do
    run=${pair%%|*}; cal=${pair##*|}
    base[$run]="$(judge "$run" "$cal" "" | cut -d' ' -f1)"
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
    echo "The last column: the scenarios where a check that gates the live run (every"
    echo "check but the strict durations, among them the live bound of 1 s or 20 % on"
    echo "durations) caught the mutant; \`none\` means only the strict durations (0.3 s"
    echo "or 5 %) caught it, which this engine-free step gates (docs/conformance.md)."
    echo
    echo "| mutant | what it breaks | caught by | caught by a check that gates the live run |"
    echo "| --- | --- | --- | --- |"
} > "$report"

rc=0
grep -A1 '^    ($' src/mutant.rs | grep -o '"[a-z0-9-]*"' | tr -d '"' > "$TMP/names"
while read -r m; do
    what="$(grep -A2 "\"$m\"," src/mutant.rs | sed -n '2p' | sed 's/^ *"//; s/",$//')"
    caught=""; live=""
    for pair in "${runs[@]}"; do
        run=${pair%%|*}; cal=${pair##*|}
        tag=A; [ "$run" = "$CAL" ] && tag=B
        while read -r s k; do
            [ -n "$s" ] || continue
            # A here-string, not `echo | grep -q`: with pipefail, grep -q
            # quitting early can fail the pipe (SIGPIPE) and hide a match.
            grep -qx -- "$s" <<< "${base[$run]}" && continue
            caught="$caught $s ($tag)"
            [ "$k" = live ] && live="$live $s ($tag)"
        done < <(judge "$run" "$cal" "$m")
    done
    if [ -n "$caught" ]; then
        echo "mutants: $m caught by:$caught"
        echo "mutants: $m caught by a check that gates the live run:${live:- none (only the strict durations, 0.3 s or 5 %: this step)}"
        echo "| \`$m\` | $what | $(echo "$caught" | sed 's/^ //; s/) /), /g') | $(echo "${live:- none: only this step}" | sed 's/^ //; s/) /), /g') |" >> "$report"
    else
        echo "mutants: $m SURVIVED (no scenario mismatches)"
        echo "| \`$m\` | $what | **not caught** | - |" >> "$report"
        rc=1
    fi
done < "$TMP/names"
exit $rc
