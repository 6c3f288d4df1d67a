#!/bin/sh
# Whole runs of the scale scenarios, measured with /usr/bin/time -v:
# CPU seconds, wall time and peak memory of `swarmsim run` (all result
# files, events.csv streamed) and of a batch of small runs. Figures, not
# tests. Usage: sh benches/whole-runs.sh   (from the repository root)
set -eu
cargo build --release --quiet
bin=target/release/swarmsim
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
measure() {
    label=$1; shift
    /usr/bin/time -v "$@" >/dev/null 2>"$out/time" || { cat "$out/time"; exit 1; }
    user=$(sed -n 's/.*User time (seconds): //p' "$out/time")
    sys=$(sed -n 's/.*System time (seconds): //p' "$out/time")
    wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$out/time")
    rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$out/time")
    printf '%-44s user %6ss  sys %5ss  wall %8s  peak %6d MB\n' "$label" "$user" "$sys" "$wall" $((rss / 1024))
}
echo "machine: $(nproc) cores, $(uname -m), load $(cut -d' ' -f1-3 /proc/loadavg)"
for p in p1 p3 p10; do
    measure "run $p (all result files)" $bin run benches/scale/$p.yaml --quiet --out "$out/$p"
    measure "run $p, simulation only (batch --runs 1)" $bin batch benches/scale/$p.yaml --runs 1 --jobs 1 --out "$out/$p-b"
done
measure "batch small 100,000 runs --jobs 1" $bin batch benches/scale/small.yaml --runs 100000 --jobs 1 --out "$out/s1"
measure "batch small 100,000 runs --jobs 2" $bin batch benches/scale/small.yaml --runs 100000 --jobs 2 --out "$out/s2"
measure "batch small 10,000 runs --jobs 2" $bin batch benches/scale/small.yaml --runs 10000 --jobs 2 --out "$out/s3"
