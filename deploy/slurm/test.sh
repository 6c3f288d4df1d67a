#!/usr/bin/env bash
# Run the shipped Slurm job for real and check its merged output byte for
# byte against the unsharded `swarmsim batch`.
#
#   deploy/slurm/test.sh
#
# It installs Debian's slurm-wlm and munge when missing (root only), starts
# a private single-node cluster on localhost in a temporary folder (munged,
# slurmctld and slurmd as child processes of this script, stopped by their
# PIDs at the end; no systemd), then, from a folder outside the repository:
#   1. deploy/slurm/submit.sh --wait with the binary on PATH, 8 shards
#      (the shipped default) and SWARMSIM_RUNS runs (default 16): the merged
#      files must equal those of `swarmsim batch --runs 16`, byte for byte;
#   2. the same with a binary that does not exist: every shard fails and the
#      merge job must be cancelled (--kill-on-invalid-dep), not left pending.
# Nothing is written into the repository.
#
# Environment: SWARMSIM (the binary; default: `cargo build` then
# target/debug/swarmsim), SWARMSIM_RUNS (16), SWARMSIM_SLURM_PORT (the
# slurmctld port, slurmd gets the next one; default 6817), SWARMSIM_KEEP=1
# (keep the temporary folder, with the daemons' logs, for a look).
#
# Exit codes: 0 the bytes match and the failing job ended; 1 a mismatch, a
# job that failed or hung, or a test error; 3 SKIPPED (Slurm could not be
# installed or could not start here; the reason is printed).
set -euo pipefail

REPO="$(cd "$(dirname "$0")/../.." && pwd)"
RUNS="${SWARMSIM_RUNS:-16}"
PORT="${SWARMSIM_SLURM_PORT:-6817}"
say() { echo "slurm-test: $*" >&2; }
skip() { say "SKIPPED: $*"; exit 3; }
fail() { say "FAILED: $*"; exit 1; }

# --- packages ---------------------------------------------------------------
missing=()
for c in slurmctld slurmd sbatch; do command -v $c >/dev/null || { missing+=(slurm-wlm); break; }; done
command -v munged >/dev/null || missing+=(munge)
if [ ${#missing[@]} -gt 0 ]; then
    [ "$(id -u)" -eq 0 ] || skip "${missing[*]} not installed and not root to install them"
    say "installing ${missing[*]}"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"; } \
        >/dev/null 2>&1 || skip "apt-get could not install ${missing[*]}"
fi

# --- the binary -------------------------------------------------------------
bin="${SWARMSIM:-}"
if [ -z "$bin" ]; then
    (cd "$REPO" && cargo build -q) || fail "cargo build failed"
    bin="${CARGO_TARGET_DIR:-$REPO/target}/debug/swarmsim"
fi
[ -x "$bin" ] || fail "no swarmsim binary at $bin"
bin="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"

# --- a private cluster --------------------------------------------------------
DIR="$(mktemp -d /tmp/ssim-slurm.XXXXXX)"
# munged wants its socket folder searchable by all, writable by none else.
chmod 0755 "$DIR"
pids=()
stop() {
    local p
    if [ -f "$DIR/slurm.conf" ] && [ ${#pids[@]} -gt 1 ]; then
        SLURM_CONF="$DIR/slurm.conf" scancel --user="$(id -un)" >/dev/null 2>&1 || true
    fi
    # slurmd, slurmctld, munged: the reverse of their start.
    for ((p = ${#pids[@]} - 1; p >= 0; p--)); do kill "${pids[$p]}" 2>/dev/null || true; done
    for p in "${pids[@]}"; do
        for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    if [ -n "${SWARMSIM_KEEP:-}" ]; then say "kept $DIR"; else rm -rf "$DIR"; fi
}
trap stop EXIT
trap 'exit 130' INT TERM

user="$(id -un)"
mkdir -p "$DIR/state" "$DIR/spool" "$DIR/work" "$DIR/bin"

# munge: a fresh key, its own socket.
dd if=/dev/urandom of="$DIR/munge.key" bs=1024 count=1 status=none
chmod 0400 "$DIR/munge.key"
munged --foreground --socket="$DIR/munge.sock" --key-file="$DIR/munge.key" \
    --pid-file="$DIR/munged.pid" --log-file="$DIR/munged.log" --seed-file="$DIR/munged.seed" \
    >"$DIR/munged.out" 2>&1 &
pids+=($!)
for i in $(seq 1 50); do
    if munge -n -S "$DIR/munge.sock" 2>/dev/null | unmunge -S "$DIR/munge.sock" >/dev/null 2>&1; then break; fi
    if [ "$i" -eq 50 ] || ! kill -0 "${pids[0]}" 2>/dev/null; then
        tail -n 3 "$DIR/munged.out" >&2 || true
        skip "munged did not start"
    fi
    sleep 0.1
done

# The node: this machine's CPUs and most of its memory; RealMemory must be
# set, else a job's --mem (batch-array.sh asks 512M) is never satisfiable.
cpus="$(nproc)"
mem=$(( $(awk '/^MemTotal:/ {print $2}' /proc/meminfo) / 1024 * 3 / 4 ))
[ "$mem" -ge 600 ] || skip "only ${mem} MB usable memory; the job asks 512M per task"
cat > "$DIR/slurm.conf" <<EOF
ClusterName=swarmsimtest
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$PORT
SlurmdPort=$((PORT + 1))
SlurmUser=$user
SlurmdUser=$user
AuthType=auth/munge
AuthInfo=socket=$DIR/munge.sock
CredType=cred/munge
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/slurmctld.log
SlurmdLogFile=$DIR/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SlurmdParameters=config_overrides
MpiDefault=none
SwitchType=switch/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
ReturnToService=2
MinJobAge=600
NodeName=localhost NodeHostname=localhost NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=test Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF="$DIR/slurm.conf"

slurmctld -D -i -f "$SLURM_CONF" >"$DIR/slurmctld.out" 2>&1 &
pids+=($!)
slurmd -D -N localhost -f "$SLURM_CONF" >"$DIR/slurmd.out" 2>&1 &
pids+=($!)
state=""
for i in $(seq 1 150); do
    state="$(sinfo -h -N -o %T 2>/dev/null || true)"
    [ "$state" = idle ] && break
    if [ "$i" -eq 150 ] || ! kill -0 "${pids[1]}" 2>/dev/null || ! kill -0 "${pids[2]}" 2>/dev/null; then
        for f in slurmctld.log slurmd.log slurmctld.out slurmd.out; do
            [ -s "$DIR/$f" ] && { say "last lines of $f:"; tail -n 5 "$DIR/$f" >&2; }
        done
        skip "the single-node Slurm cluster did not come up (node state '${state:-none}')"
    fi
    sleep 0.2
done
say "cluster up: $(sinfo -h -N -o '%N %T cpus=%c mem=%m') ($(sbatch --version))"

# --- 1. the shipped job, binary on PATH ----------------------------------------
ln -s "$bin" "$DIR/bin/swarmsim"
cp "$REPO/scenarios/planner-400.yaml" "$DIR/work/planner-400.yaml"
cd "$DIR/work"
t0=$SECONDS
set +e
env -u SWARMSIM PATH="$DIR/bin:$PATH" SWARMSIM_RUNS="$RUNS" SWARMSIM_SCENARIO=planner-400.yaml \
    SWARMSIM_OUT=shards SWARMSIM_MERGED=merged \
    timeout 600 "$REPO/deploy/slurm/submit.sh" --wait >"$DIR/submit.out" 2>&1
rc=$?
set -e
cat "$DIR/submit.out" >&2
if [ $rc -ne 0 ]; then
    for f in slurm-*.out; do [ -s "$f" ] && { say "$f:"; tail -n 5 "$f" >&2; }; done
    [ $rc -eq 124 ] && fail "the job did not end within 600 s"
    fail "the merge job ended with status $rc"
fi
say "sharded job and merge done in $((SECONDS - t0)) s"
"$bin" batch planner-400.yaml --runs "$RUNS" --out unsharded >/dev/null
n=0
for f in unsharded/*; do
    n=$((n + 1))
    cmp "$f" "merged/$(basename "$f")" || fail "merged/$(basename "$f") differs from the unsharded batch"
done
[ "$(ls merged | wc -l)" -eq "$n" ] || fail "merged/ holds other files than the unsharded batch: $(ls merged)"
[ "$n" -gt 0 ] || fail "the unsharded batch wrote nothing"
say "merged output of 8 shards = unsharded batch, $n files byte for byte ($RUNS runs)"

# --- 2. a failing shard must not leave the merge pending -----------------------
t0=$SECONDS
set +e
SWARMSIM="$DIR/bin/no-such-swarmsim" SWARMSIM_SHARDS=2 SWARMSIM_RUNS=4 \
    SWARMSIM_SCENARIO=planner-400.yaml SWARMSIM_OUT=bad SWARMSIM_MERGED=bad-merged \
    timeout 120 "$REPO/deploy/slurm/submit.sh" --wait >"$DIR/submit-bad.out" 2>"$DIR/submit-bad.err"
rc=$?
set -e
cat "$DIR/submit-bad.err" >&2
[ $rc -eq 124 ] && fail "the merge job after failed shards was still pending after 120 s"
[ $rc -ne 0 ] || fail "submit.sh --wait exited 0 although every shard failed"
mid="$(tr -dc 0-9 <"$DIR/submit-bad.out")"
state="$(scontrol show job -o "$mid" | grep -o 'JobState=[A-Z_]* Reason=[^ ]*' || true)"
case "$state" in
    *CANCELLED*) ;;
    *) fail "the merge job $mid after failed shards is not cancelled: ${state:-not listed}" ;;
esac
say "failing shards: the merge job $mid ended ($state) in $((SECONDS - t0)) s; submit.sh --wait exited $rc"
[ ! -e bad-merged ] || fail "the merge ran although the shards failed"
say "PASSED"
