#!/usr/bin/env bash
# Tests the conformance suite itself: each named mutant of the simulator
# (src/mutant.rs, switched on by SWARMSIM_MUTANT) must make some scenario
# mismatch against the real engine. No engine is needed: the real runs
# recorded by conformance/run.sh (RESULTS/<scenario>/real-trace.jsonl and
# real-transcript.txt) are judged again with `swarmsim conform --replay`.
#
#   conformance/mutants.sh [RESULTS]     (default results/conformance)
#
# First the simulator as it is (every scenario must match, else a mutant
# caught proves nothing), then each mutant. Writes RESULTS/mutants.md: each
# mutant and the scenarios that caught it. Exit status: 0 every mutant was
# caught; 1 a mutant survived or the unmutated simulator mismatches; 2 bad
# input (no recordings).
set -uo pipefail
cd "$(dirname "$0")/.."
RESULTS="${1:-results/conformance}"
CAL="${SWARMSIM_CONFORM_CALIBRATION:-results/conformance/calibration-run}"
cargo build --quiet || exit 2
SWARMSIM=${CARGO_TARGET_DIR:-target}/debug/swarmsim
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

# The scenarios recorded in RESULTS (single node, then the cluster's).
single=(); multi=()
for s in scenarios/conformance/*.yaml; do
    [ -f "$RESULTS/$(basename "$s" .yaml)/real-trace.jsonl" ] && single+=("$s")
done
for s in scenarios/conformance-cluster/*.yaml; do
    [ -f "$RESULTS/cluster/$(basename "$s" .yaml)/real-trace.jsonl" ] && multi+=("$s")
done
if [ ${#single[@]} -eq 0 ] && [ ${#multi[@]} -eq 0 ]; then
    echo "mutants: no recordings in $RESULTS (run conformance/run.sh first)"; exit 2
fi

# judge NAME: replays every recording with SWARMSIM_MUTANT=NAME; prints
# the scenarios with a mismatch, one a line.
judge() {
    local m=$1 cal=()
    [ "$CAL" != none ] && cal=(--calibration "$CAL")
    if [ ${#single[@]} -gt 0 ]; then
        SWARMSIM_MUTANT="$m" "$SWARMSIM" conform --replay "$RESULTS" --out "$TMP/$m" \
            "${cal[@]}" "${single[@]}" 2>&1 >/dev/null
    fi
    [ "$CAL" != none ] && cal=(--calibration "$CAL/cluster")
    if [ ${#multi[@]} -gt 0 ]; then
        SWARMSIM_MUTANT="$m" "$SWARMSIM" conform --replay "$RESULTS/cluster" --out "$TMP/$m-cluster" \
            "${cal[@]}" "${multi[@]}" 2>&1 >/dev/null | sed 's/^conform: /conform: cluster\//'
    fi
}
caught() { # the mismatching scenarios in judge's output
    sed -n 's/^conform: \([^ ]*\): \([0-9]*\) of \([0-9]*\) checks match.*/\1 \2 \3/p' \
        | awk '$2 != $3 {print $1}'
}

rc=0
base="$(judge "" | caught)"
report="$RESULTS/mutants.md"
{
    echo "# Mutants: does the conformance suite catch a wrong simulator?"
    echo
    echo "Each mutant is a deliberate bug in the simulator (src/mutant.rs, switched on by"
    echo "\`SWARMSIM_MUTANT=<name>\`), judged against the real runs recorded in this folder"
    echo "(\`swarmsim conform --replay\`, latencies from $CAL). Regenerate with \`conformance/mutants.sh\`."
    echo
    if [ -n "$base" ]; then
        echo "The simulator without a mutant already mismatches in: $(echo $base | sed 's/ /, /g')"
        echo "(those scenarios cannot tell a mutant; the others can)."
        echo
    fi
    echo "| mutant | what it breaks | caught by |"
    echo "| --- | --- | --- |"
} > "$report"
if [ -n "$base" ]; then
    echo "mutants: the simulator without a mutant mismatches in: $(echo $base)"
    rc=1
fi
grep -A1 '^    ($' src/mutant.rs | grep -o '"[a-z0-9-]*"' | tr -d '"' > "$TMP/names"
while read -r m; do
    what="$(grep -A2 "\"$m\"," src/mutant.rs | sed -n '2p' | sed 's/^ *"//; s/",$//')"
    got="$(judge "$m" | caught)"
    # Only the scenarios that match without the mutant count.
    new=""
    for s in $got; do echo "$base" | grep -qx "$s" || new="$new $s"; done
    if [ -n "$new" ]; then
        echo "mutants: $m caught by:$new"
        echo "| \`$m\` | $what | $(echo $new | sed 's/ /, /g') |" >> "$report"
    else
        echo "mutants: $m SURVIVED (no scenario mismatches)"
        echo "| \`$m\` | $what | **not caught** |" >> "$report"
        rc=1
    fi
done < "$TMP/names"
exit $rc
