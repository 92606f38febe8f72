#!/usr/bin/env bash
# Operando benchmark, side by side in one command on the same images and cores:
#  1. azimuthal integration: stemrun's CSR kernel against pyFAI's CSR integrator (integrate1d, method
#     ("no", "csr", "cython"), OMP_NUM_THREADS=1) on the same 512 x 512 patterns, geometry (with tilt), 1000
#     bins in q (A^-1) and solid-angle correction; patterns/s per core, and the agreement of the profiles;
#  2. stemrun integration on 1 and 2 ranks (whole command: HDF5 read, integration, parallel write);
#  3. peak fitting (graphite (00l) window, pseudo-Voigt + linear background, Levenberg-Marquardt) in
#     profiles/s per rank and the wall-time speed-up of `stemrun operando analyse` from 1 to 2 ranks.
# Usage: bench/operando/run.sh [patterns (128)] [pattern size (512)] [fit scan ROWSxCOLS (40x60)]
set -euo pipefail
cd "$(dirname "$0")/../.."
patterns=${1:-128}; size=${2:-512}; fitscan=${3:-40x60}
venv=.venv-pyfai
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -c "import pyFAI, h5py" 2>/dev/null || "$venv/bin/pip" install -q pyFAI h5py
swift build -c release --build-tests >/dev/null
source scripts/mpi-env.sh
bin=.build/release/stemrun
out=bench-out/operando
rm -rf "$out"; mkdir -p "$out"
py="$venv/bin/python bench/operando/pyfai_bench.py"

echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)"
$py make "$out" "$patterns" "$size"
range=$(cat "$out/range.txt")
iargs=(operando integrate "$out/patterns.h5" --poni "$out/geometry.poni" --bins 1000 --radial-range "$range")

# Integration: pyFAI and stemrun alternate three times on one core each; best of each.
# Wall-clock rates, and rates per CPU second (what a loaded shared machine does not distort).
best_pyfai=0; best_stemrun=0; cpu_pyfai=0; cpu_stemrun=0
max() { awk -v a="$1" -v b="$2" 'BEGIN {print (b > a ? b : a)}'; }
for round in 1 2 3; do
  pr=$(OMP_NUM_THREADS=1 $py time "$out" 1000)
  p=$(echo "$pr" | awk '/pyfai_patterns_per_s/ {print $2}'); pc=$(echo "$pr" | awk '/pyfai_patterns_per_cpu_s/ {print $2}')
  sr=$($bin "${iargs[@]}" -o "$out/stemrun1.h5")
  s=$(echo "$sr" | sed -n 's/.*kernel \([0-9.]*\) patterns\/s per rank.*/\1/p')
  sc=$(echo "$sr" | sed -n 's/.*(\([0-9.]*\) per CPU second).*/\1/p')
  best_pyfai=$(max "$best_pyfai" "$p"); best_stemrun=$(max "$best_stemrun" "$s")
  cpu_pyfai=$(max "$cpu_pyfai" "$pc"); cpu_stemrun=$(max "$cpu_stemrun" "$sc")
  echo "round $round: pyFAI $p patterns/s ($pc per CPU s), stemrun kernel $s patterns/s ($sc per CPU s), one core each"
done
agreement=$($py agree "$out" "$out/stemrun1.h5" | awk '{print $2}')
pyfai_version=$($py time "$out" 1000 | awk '/pyfai_version/ {print $2}')

# Whole integrate command on 1 and 2 ranks.
wall() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null; t1=$(date +%s.%N); awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", b - a}'; }
w1=$(wall "$bin" "${iargs[@]}" -o "$out/i1.h5")
w2=$(wall mpirun -np 2 "$bin" "${iargs[@]}" -o "$out/i2.h5")

# Peak fitting: simulated profiles, analyse on 1 and 2 ranks.
$bin operando simulate -o "$out/sim" --scan-shape "$fitscan" --steps 10 >/dev/null
aargs=(operando analyse --fast "$out/sim/fast.h5" --fast-echem "$out/sim/fast.csv" --slow "$out/sim/slow.h5" --slow-echem "$out/sim/slow.csv")
fit1=$("$bin" "${aargs[@]}" -o "$out/a1.h5"); fit2=$(mpirun -np 2 "$bin" "${aargs[@]}" -o "$out/a2.h5")
rate1=$(echo "$fit1" | sed -n 's/.*fitting \([0-9.]*\) profiles\/s per rank, \([0-9.]*\) per CPU.*/\1 (\2 per CPU second)/p')
rate2=$(echo "$fit2" | sed -n 's/.*fitting \([0-9.]*\) profiles\/s per rank, \([0-9.]*\) per CPU.*/\1 (\2 per CPU second)/p')
t1=$(echo "$fit1" | sed -n 's/.* in \([0-9.]*\) s (fitting.*/\1/p'); t2=$(echo "$fit2" | sed -n 's/.* in \([0-9.]*\) s (fitting.*/\1/p')
nprof=$(echo "$fit1" | sed -n 's/.*positions, \([0-9]*\) profiles fitted.*/\1/p')

{
  echo "| measurement | value |"
  echo "|---|---|"
  echo "| machine | $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg) |"
  echo "| integration input | $patterns patterns of ${size}x${size} float32, tilted detector, 1000 bins in q (A^-1), solid angle on, no splitting |"
  echo "| pyFAI $pyfai_version integrate1d (\"no\", \"csr\", \"cython\"), 1 core | $best_pyfai patterns/s ($cpu_pyfai per CPU second) |"
  echo "| stemrun CSR kernel, 1 core | $best_stemrun patterns/s ($cpu_stemrun per CPU second) |"
  echo "| ratio stemrun / pyFAI per core, wall / per CPU second | $(awk -v a="$best_stemrun" -v b="$best_pyfai" 'BEGIN {printf "%.1fx", a / b}') / $(awk -v a="$cpu_stemrun" -v b="$cpu_pyfai" 'BEGIN {printf "%.1fx", a / b}') |"
  echo "| agreement, max over patterns of max\\|a-b\\|/max\\|b\\| | $agreement |"
  echo "| stemrun operando integrate, whole command (read, integrate, write), 1 rank / 2 ranks | $w1 s / $w2 s ($(awk -v a="$w1" -v b="$w2" 'BEGIN {printf "%.2fx", a / b}')) |"
  echo "| peak fitting, $nprof profiles (scan $fitscan, 10 steps, 2 rates), 1 rank | $rate1 profiles/s per rank |"
  echo "| peak fitting, 2 ranks | $rate2 profiles/s per rank |"
  echo "| stemrun operando analyse wall time, 1 rank / 2 ranks | $t1 s / $t2 s ($(awk -v a="$t1" -v b="$t2" 'BEGIN {printf "%.2fx", a / b}')) |"
} | tee "$out/results.md"
