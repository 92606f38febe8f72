#!/usr/bin/env bash
# Benchmark: stemrun match against pyxem's template matching, side by side on the same simulated data, the same
# library (two cubic phases, Al and Cu, 1 degree step, same excitation-error tolerance and radius range) and the
# same cores. Prints patterns/s, library generation time and accuracy (bench/matching/accuracy.py) for both.
#   bench/matching/run.sh [SCAN]        SCAN defaults to 64x64 (4096 patterns of 128 x 128 px)
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/mpi-env.sh
SCAN=${1:-64x64}
NP=$(nproc)
OUT=bench-out/matching
mkdir -p "$OUT"
VENV=.venv-pyxem
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --upgrade pip
  "$VENV/bin/pip" install --quiet pyxem diffsims h5py
fi
swift build -c release >/dev/null
BIN=.build/release/stemrun
CPU=$(grep -m1 "model name" /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')

$BIN simulate --output "$OUT/sample.h5" --scan "$SCAN" --phases Al,Cu --grains 12 --seed 42 >/dev/null
COMMON=(--phases Al,Cu --step 1 --min-radius 7 --max-radius 60 --excitation-tolerance 0.03)

# stemrun: library generation alone (1 rank), then matching with 1 rank and with one rank per core.
run_stemrun() {   # ranks, output
  local log
  log=$(/usr/bin/time -f "cpu %U %S" -o "$OUT/time-$1.txt" mpirun -np "$1" $BIN match "$OUT/sample.h5" -o "$2" "${COMMON[@]}")
  echo "$log" >&2
  local lib match n
  lib=$(echo "$log" | sed -n 's/.*templates built in \([0-9.]*\) s.*/\1/p')
  match=$(echo "$log" | sed -n 's/.*matching \([0-9.]*\) s.*/\1/p')
  n=$(echo "$log" | sed -n 's/^match: \([0-9]*\) positions.*/\1/p')
  t=$(echo "$log" | sed -n 's/.*library of \([0-9]*\) templates.*/\1/p')
  local cpu
  cpu=$(awk '/^cpu/ {print $2 + $3}' "$OUT/time-$1.txt")
  echo "$lib $match $n $t $cpu"
}
read -r LIB1 MATCH1 N TEMPLATES CPU1 < <(run_stemrun 1 "$OUT/stemrun-1.h5")
read -r LIBN MATCHN _ _ CPUN < <(run_stemrun "$NP" "$OUT/stemrun-$NP.h5")
ACC_S=$("$VENV/bin/python" bench/matching/accuracy.py "$OUT/sample.h5" --stemrun "$OUT/stemrun-$NP.h5" --json)

# pyxem on the same data and cores (its dask/numba threads use every core).
PX=$("$VENV/bin/python" bench/matching/pyxem_match.py "$OUT/sample.h5" "$OUT/pyxem.npz" --phases Al,Cu --step 1 \
      --rpx 0.02 --rmin 7 --rmax 60 --tolerance 0.03 2>/dev/null | tail -1)
ACC_P=$("$VENV/bin/python" bench/matching/accuracy.py "$OUT/sample.h5" --pyxem "$OUT/pyxem.npz" --json)

"$VENV/bin/python" - "$N" "$NP" "$LIB1" "$MATCH1" "$MATCHN" "$ACC_S" "$PX" "$ACC_P" "$CPU" "$SCAN" "$TEMPLATES" "$CPUN" "$(cat /proc/loadavg | cut -d" " -f1)" "$CPU1" <<'PY' | tee "$OUT/results.md"
import json, sys
n, np_, lib1, m1, mn = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
acc_s, px, acc_p, cpu, scan = json.loads(sys.argv[6]), json.loads(sys.argv[7]), json.loads(sys.argv[8]), sys.argv[9], sys.argv[10]
templates, px_templates = sys.argv[11], px['templates']
cpu_s, load, cpu_1 = float(sys.argv[12]), sys.argv[13], float(sys.argv[14])
px_time = px["centre_s"] + px["polar_s"] + px["match_s"]
rate_s, rate_1, rate_p = n / mn, n / m1, n / px_time
print(f"### Template matching: stemrun match vs pyxem ({scan} scan = {n} patterns of 128 x 128 px, Al + Cu, 1 deg step)\n")
print(f"Machine: {cpu}, {np_} cores. Same simulated data (stemrun simulate, seed 42, 12 grains, Poisson noise, descan),")
print(f"same cores ({np_}), same step, excitation-error tolerance (0.03 1/A) and radius range (7-60 px).\n")
print("| | stemrun | pyxem | ratio |")
print("|---|---|---|---|")
print(f"| templates (both phases) | {templates} | {px_templates} | |")
print(f"| library generation (s) | {lib1:.3f} (1 rank) | {px['library_s']:.2f} | {px['library_s'] / max(lib1, 1e-9):.0f}x |")
print(f"| patterns/s, {np_} cores (centring + polar transform + matching) | {rate_s:.0f} ({np_} ranks) | {rate_p:.1f} | {rate_s / rate_p:.1f}x |")
print(f"| patterns/s, stemrun 1 rank | {rate_1:.0f} | | |")
print(f"| patterns per CPU-second (user + system time of all threads and ranks) | {n / cpu_s:.0f} ({np_} ranks) | {n / px['cpu_s']:.1f} | {px['cpu_s'] / cpu_s:.1f}x |")
print(f"| patterns per CPU-second, stemrun 1 rank (no MPI waiting) | {n / cpu_1:.0f} | | {px['cpu_s'] / cpu_1:.1f}x |")
print(f"| right phase (grain interiors) | {100 * acc_s['right_phase']:.1f}% | {100 * acc_p['right_phase']:.1f}% | |")
print(f"| right phase and within 2 deg | {100 * acc_s['within']:.1f}% | {100 * acc_p['within']:.1f}% | |")
print(f"| median orientation error (deg) | {acc_s['median_error_deg']:.2f} | {acc_p['median_error_deg']:.2f} | |")
print(f"\nLoad average when the run ended: {load} (the machine is shared; wall-clock rates suffer from other jobs, CPU-time rates much less).")
print(f"\npyxem times: centring {px['centre_s']:.2f} s, polar transform {px['polar_s']:.2f} s, matching {px['match_s']:.2f} s (after a warm-up run that compiles numba).")
PY
