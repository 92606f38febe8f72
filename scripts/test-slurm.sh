#!/usr/bin/env bash
# Brings up a real one-node SLURM cluster on loopback (munged, slurmctld, slurmd from Debian's packages;
# no systemd, no cgroups), submits slurm/stemrun-run.sbatch and the job array slurm/stemrun-campaign.sbatch
# with sbatch on small simulated datasets, waits, checks outputs and job states (scontrol and a jobcomp/filetxt
# file), and always shuts the daemons down. Prints "N passed, M failed"; exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BIN=${STEMRUN_BIN:-$ROOT/.build/release/stemrun}
pass=0; fail=0
ok() { echo "PASS: $*"; pass=$((pass+1)); }
bad() { echo "FAIL: $*"; fail=$((fail+1)); }
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }

for tool in munged slurmctld slurmd sbatch scontrol; do
  if ! command -v "$tool" >/dev/null; then
    echo "test-slurm: $tool not found (scripts/install-deps.sh installs slurm-wlm and munge)"; echo "0 passed, 1 failed"; exit 1
  fi
done
[ -x "$BIN" ] || { echo "test-slurm: $BIN not built (swift build -c release)"; echo "0 passed, 1 failed"; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "test-slurm: needs root (slurmd, munged as user munge)"; echo "0 passed, 1 failed"; exit 1; }

S=$(mktemp -d /tmp/stemrun-slurm.XXXXXX)
chmod 755 "$S"
mkdir -p "$S/munge" "$S/state" "$S/spool" "$S/log" "$S/work"
cleanup() {
  for d in slurmd slurmctld; do
    [ -f "$S/$d.pid" ] && kill "$(cat "$S/$d.pid")" 2>/dev/null || true
  done
  [ -f "$S/munge/munged.pid" ] && kill "$(cat "$S/munge/munged.pid")" 2>/dev/null || true
  sleep 0.5
  for d in slurmd slurmctld; do
    [ -f "$S/$d.pid" ] && kill -9 "$(cat "$S/$d.pid")" 2>/dev/null || true
  done
  [ "${KEEP_SLURM_SCRATCH:-0}" = 1 ] || rm -rf "$S"
}
trap cleanup EXIT

# munged as user munge, with its own key and socket in a folder of mode 755.
chown munge:munge "$S/munge"
chmod 755 "$S/munge"
dd if=/dev/urandom of="$S/munge/munge.key" bs=1024 count=1 status=none
chown munge:munge "$S/munge/munge.key"; chmod 600 "$S/munge/munge.key"
runuser -u munge -- munged --key-file="$S/munge/munge.key" --socket="$S/munge/munge.socket" \
  --pid-file="$S/munge/munged.pid" --log-file="$S/munge/munged.log" --seed-file="$S/munge/munged.seed" --force

# Free ports, so a cluster of someone else on this machine is not disturbed.
read -r CTLD_PORT SLURMD_PORT < <(python3 -c 'import socket
def p():
    s=socket.socket(); s.bind(("127.0.0.1",0)); n=s.getsockname()[1]; s.close(); return n
print(p(), p())')
HOST=$(hostname -s)
CPUS=$(nproc)
export SLURM_CONF=$S/slurm.conf
cat > "$SLURM_CONF" <<CONF
ClusterName=stemrun-test
SlurmctldHost=$HOST(127.0.0.1)
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=root
AuthType=auth/munge
AuthInfo=socket=$S/munge/munge.socket
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=pmix
ReturnToService=2
StateSaveLocation=$S/state
SlurmdSpoolDir=$S/spool
SlurmctldPidFile=$S/slurmctld.pid
SlurmdPidFile=$S/slurmd.pid
SlurmctldLogFile=$S/log/slurmctld.log
SlurmdLogFile=$S/log/slurmd.log
JobCompType=jobcomp/filetxt
JobCompLoc=$S/jobcomp.txt
MinJobAge=600
NodeName=$HOST NodeAddr=127.0.0.1 CPUs=$CPUS State=UNKNOWN
PartitionName=debug Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
CONF
slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF"
for _ in $(seq 1 50); do
  state=$(sinfo -h -o %T 2>/dev/null | head -1 || true)
  [ "$state" = idle ] && break
  sleep 0.2
done
check "one-node cluster is up (node $HOST idle)" test "${state:-}" = idle

# Small simulated datasets (stemrun simulate: polycrystal, 16 x 16 scan of 64 x 64 patterns), one per seed;
# the campaign also lists a broken one (an HDF5 file cut short).
W=$S/work
for i in 0 1 2 3; do
  "$BIN" simulate -o "$W/sim$i.h5" --scan 16x16 --detector 64x64 --grains 3 --seed $((i + 1)) >/dev/null
done
head -c 3000 "$W/sim0.h5" > "$W/broken.h5"
check "simulated datasets written" test -s "$W/sim3.h5"
printf 'schema_version = 1\n[virtual]\n' > "$W/pipeline.toml"
# The run job: the whole pipeline (small NMF sweep so the job takes seconds).
cat > "$W/run.toml" <<'TOML'
schema_version = 1
[input]
path = "sim0.h5"
[output]
folder = "run-out"
[virtual]
[register]
reconstruction = false
[match]
step = 4.0
[nmf]
k_range = [2, 3]
k = 2
max_iterations = 50
loss_iterations = 20
restarts = 0
TOML
printf 'name,input\nd0,sim1.h5\nd1,sim2.h5\nbroken,broken.h5\nd2,sim3.h5\n' > "$W/campaign.csv"

export STEMRUN=$BIN
cd "$W"
RUN=$(sbatch --parsable -n 2 -t 5 -o "$W/run-%j.out" "$ROOT/slurm/stemrun-run.sbatch" "$W/run.toml")
CAMP=$(sbatch --parsable --array=0-1 -n 1 -t 5 -o "$W/campaign-%A_%a.out" "$ROOT/slurm/stemrun-campaign.sbatch" \
  "$W/campaign.csv" --config "$W/pipeline.toml")
echo "submitted run job $RUN and campaign array $CAMP"

wait_for() {  # job ids...
  for _ in $(seq 1 600); do
    if [ -z "$(squeue -h -j "$(IFS=,; echo "$*")" 2>/dev/null)" ]; then return 0; fi
    sleep 0.2
  done
  return 1
}
check "jobs finished within 120 s" wait_for "$RUN" "$CAMP"

job_state() { scontrol show job "$1" 2>/dev/null | grep -o 'JobState=[A-Z_]*' | head -1 | cut -d= -f2; }
job_exit() { scontrol show job "$1" 2>/dev/null | grep -o ' ExitCode=[0-9:]*' | head -1 | cut -d= -f2; }
check "run job $RUN COMPLETED (scontrol)" test "$(job_state "$RUN")" = COMPLETED
check "run job exit code 0:0" test "$(job_exit "$RUN")" = 0:0
check "run job in jobcomp file as COMPLETED" grep -q "JobId=$RUN .*JobState=COMPLETED" "$S/jobcomp.txt"
check "run: result.h5 complete" bash -c "h5dump -a /complete '$W/run-out/result.h5' | grep -q '(0): 1'"
check "run: bright-field map through result.h5" bash -c "h5dump -d /virtual/bright_field '$W/run-out/result.h5' | grep -q 'DATASPACE  SIMPLE { ( 16, 16 )'"
for d in /registration/maps/spot_count /matching/phase /nmf/raw/labels; do
  check "run: $d through result.h5" bash -c "h5dump -H -d $d '$W/run-out/result.h5' | grep -q 'DATASPACE  SIMPLE { ( 16, 16 )'"
done
check "run: four stages computed under srun" grep -q "4 stage(s) computed (virtual, register, match, nmf)" "$W/run-$RUN.out"
check "run: report.html written" test -s "$W/run-out/report.html"
check "run: pipeline.json complete" grep -q '"complete" : true' "$W/run-out/pipeline.json"
check "run: 2 ranks under srun" grep -q '"ranks" : 2' "$W/run-out/pipeline.json"

# Array task 0 has d0 and broken (fails: exit 1), task 1 has d1 and d2.
check "campaign task 0 FAILED (it holds the broken dataset)" test "$(job_state "${CAMP}_0")" = FAILED
check "campaign task 1 COMPLETED" test "$(job_state "${CAMP}_1")" = COMPLETED
check "campaign task 0 in jobcomp file as FAILED, exit 1" grep -q "JobState=FAILED .*ArrayJobId=$CAMP ArrayTaskId=0 .*ExitCode=1:0" "$S/jobcomp.txt"
check "campaign task 1 in jobcomp file as COMPLETED" grep -q "JobState=COMPLETED .*ArrayJobId=$CAMP ArrayTaskId=1 .*ExitCode=0:0" "$S/jobcomp.txt"
for d in d0 d1 d2; do
  check "campaign: $d done, result.h5 complete" bash -c "h5dump -a /complete '$W/campaign-out/$d/result.h5' | grep -q '(0): 1'"
done
STATUS=$("$BIN" campaign "$W/campaign.csv" --config "$W/pipeline.toml" --status || true)
echo "$STATUS"
check "campaign ledger: 3 done, 1 failed" grep -q "done 3, failed 1" <<<"$STATUS"
broken_error() { grep '^broken ' <<<"$STATUS" | grep -q 'failed.*broken.h5'; }
check "campaign ledger: broken dataset's error recorded" broken_error

# Resubmitting the array does nothing more.
CAMP2=$(sbatch --parsable --array=0-1 -n 1 -t 5 -o "$W/campaign2-%A_%a.out" "$ROOT/slurm/stemrun-campaign.sbatch" \
  "$W/campaign.csv" --config "$W/pipeline.toml")
check "resubmitted campaign finished" wait_for "$CAMP2"
check "resubmitted campaign attempted nothing" bash -c "grep -h 'this task:' '$W'/campaign2-*.out | grep -c '0 attempted' | grep -qx 2"

if [ "$fail" -ne 0 ]; then
  echo "--- job outputs"; tail -n 20 "$W"/*.out 2>/dev/null || true
  echo "--- slurmctld log"; tail -n 20 "$S/log/slurmctld.log" || true
  echo "--- slurmd log"; tail -n 20 "$S/log/slurmd.log" || true
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
