#!/usr/bin/env bash
# How far the simulator, as it is, lands from the real engine when a real
# run is judged with the latencies of another real run (held out): the
# data behind the live duration bound (docs/conformance.md, "Noise").
#
#   conformance/noise.sh [RUN...]
#
# RUN is a folder written by conformance/run.sh (RUN/<scenario>/ and
# RUN/cluster/<scenario>/ with real-trace.jsonl and real-transcript.txt) or
# by conformance/races.sh (RUN/<scenario>/run-I/). Default: the committed
# runs (results/conformance, its confirm/ runs, calibration-run and every
# races/ run). Every ordered pair of runs of a scenario is judged with
# `swarmsim conform --replay` (no engine), the first run with the second's
# latencies; each update or rollback episode finished on both sides gives
# one line `scenario episode real sim error relative` on stdout, and the
# summary (stderr) the largest errors and how many pairs exceed the live
# bound (src/conform/compare.rs, LIVE_S and LIVE_REL).
set -uo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet || exit 2
SWARMSIM=${CARGO_TARGET_DIR:-target}/debug/swarmsim
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

[ $# -gt 0 ] || set -- results/conformance results/conformance/confirm \
    results/conformance/calibration-run results/conformance/races/*/run-*

# One folder per run, TMP/r<K>/<scenario>/ and TMP/r<K>/cluster/<scenario>/.
k=0
for run in "$@"; do
    k=$((k + 1)); r="$TMP/r$k"; mkdir -p "$r/cluster"
    echo "$run" > "$r/name"
    if [ -f "$run/real-trace.jsonl" ]; then # a races.sh run: RUN = races/<scenario>/run-I
        s="$(basename "$(dirname "$run")")"
        ln -s "$(realpath "$run")" "$r/$s"
        continue
    fi
    for d in "$run"/*/ "$run"/cluster/*/; do
        [ -f "$d/real-trace.jsonl" ] && [ -f "$d/real-transcript.txt" ] || continue
        s="$(basename "$d")"
        case "$d" in
            "$run"/cluster/*) [ -f "scenarios/conformance-cluster/$s.yaml" ] && ln -s "$(realpath "$d")" "$r/cluster/$s" ;;
            *) [ -f "scenarios/conformance/$s.yaml" ] && ln -s "$(realpath "$d")" "$r/$s" ;;
        esac
    done
done

# judge X Y SUB FOLDER: run X judged with run Y's latencies, for the
# scenarios both recorded.
judge() {
    local x=$1 y=$2 sub=$3 folder=$4 list=() d s
    for d in "$x$sub"/*; do
        [ -e "$d" ] || continue
        s="$(basename "$d")"
        [ "$s" = cluster ] || [ "$s" = name ] && continue
        [ -e "$y$sub/$s" ] && list+=("$folder/$s.yaml")
    done
    [ ${#list[@]} -gt 0 ] || return 0
    rm -rf "$TMP/out"
    "$SWARMSIM" conform --replay "$x$sub" --calibration "$y$sub" --out "$TMP/out" "${list[@]}" >/dev/null 2>&1
    for s in "${list[@]}"; do
        s="$(basename "$s" .yaml)"
        [ -f "$TMP/out/$s/report.md" ] || continue
        # The episodes of the strict check (the live one lists the same).
        awk '/^### / { on = ($0 ~ /update\/rollback durations \(0\.3s or 5%\)/) } on' "$TMP/out/$s/report.md" \
            | sed -n 's/^\(ok  \|DIFF\) real \([a-z]*\) .* = \([0-9.]*\)s (.*) \/ sim [a-z]* .* = \([0-9.]*\)s (.*)$/\2 \3 \4/p' \
            | nl -w1 -s' ' \
            | awk -v s="${sub:+cluster/}$s" -v x="$(cat "$x/name")" -v y="$(cat "$y/name")" \
                '{ e = $4 - $3; if (e < 0) e = -e; printf "%s %s-%s %.1f %.1f %.1f %.3f %s %s\n", s, $2, $1, $3, $4, e, e / $3, x, y }'
    done
}

for x in "$TMP"/r*; do
    for y in "$TMP"/r*; do
        [ "$x" = "$y" ] && continue
        judge "$x" "$y" "" scenarios/conformance
        judge "$x" "$y" /cluster scenarios/conformance-cluster
    done
done > "$TMP/all"
cat "$TMP/all"
# The summary leaves out the scenarios marked `# conformance: not gating:`
# (a race not modelled: their two branches differ by far more than noise).
notgating="$(grep -l '^# conformance: not gating:' scenarios/conformance/*.yaml scenarios/conformance-cluster/*.yaml 2>/dev/null \
    | sed 's|scenarios/conformance-cluster/|cluster/|; s|scenarios/conformance/||; s|\.yaml$||')"
awk -v ng="$notgating" 'BEGIN { n = split(ng, a, "\n"); for (i = 1; i <= n; i++) skip[a[i]] = 1 } !($1 in skip)' "$TMP/all" > "$TMP/gating"
mv "$TMP/gating" "$TMP/all"

live_s="$(sed -n 's/^pub const LIVE_S: f64 = \(.*\);/\1/p' src/conform/compare.rs)"
live_rel="$(sed -n 's/^pub const LIVE_REL: f64 = \(.*\);/\1/p' src/conform/compare.rs)"
{
    echo "noise: $(wc -l < "$TMP/all") episodes judged ($# runs, every ordered pair sharing a scenario; left out, marked not gating: $(echo ${notgating:-none}))"
    awk '{ print $5 }' "$TMP/all" | sort -n | awk '{ v[NR] = $1 } END { if (NR) printf "noise: |sim - real| median %.1f s, 95th %.1f s, 99th %.1f s, max %.1f s\n", v[int((NR + 1) / 2)], v[int(NR * 0.95 + 0.5)], v[int(NR * 0.99 + 0.5)], v[NR] }'
    awk '{ print $6 }' "$TMP/all" | sort -n | awk '{ v[NR] = $1 } END { if (NR) printf "noise: |sim - real| / real median %.1f %%, 95th %.1f %%, 99th %.1f %%, max %.1f %%\n", 100 * v[int((NR + 1) / 2)], 100 * v[int(NR * 0.95 + 0.5)], 100 * v[int(NR * 0.99 + 0.5)], 100 * v[NR] }'
    echo "noise: the ten largest errors (scenario episode real sim error relative run calibration):"
    sort -k5,5nr "$TMP/all" | head -n 10 | sed 's/^/noise:   /'
    if [ -n "$live_s" ] && [ -n "$live_rel" ]; then
        awk -v a="$live_s" -v r="$live_rel" '{ b = r * $3; if (b < a) b = a; if ($5 > b + 1e-9) n++ } END { printf "noise: outside the live bound (%s s or %.0f %%): %d of %d\n", a, 100 * r, n, NR }' "$TMP/all"
    fi
} >&2
