#!/usr/bin/env bash
# Registration benchmark: stemrun's full registration pipeline (read, prepare, centre, 3x3 mean, background,
# blur, prominence, refinement, record, reconstruction written to HDF5) against scikit-image's peak finding
# alone (peak_local_max) on the same simulated patterns and the same machine, at 128x128 and 512x512, with
# 1 and 2 ranks. Prints patterns/s per core side by side and the ratios, per wall-clock second and per CPU second
# (on a shared machine wall-clock rates are distorted by other jobs; CPU-second rates are what a core delivers;
# stemrun's CPU seconds are those of the whole command, start-up and output included, from /usr/bin/time).
# Usage: bench/registration/run.sh [OUTDIR]   (a few minutes on 2 cores; creates .venv-bench-registration)
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/mpi-env.sh
out=${1:-bench-out/registration}
mkdir -p "$out"
venv=.venv-bench-registration
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check scikit-image h5py numpy
fi
swift build -c release --build-tests >/dev/null
bin=.build/release/stemrun
echo "machine: $(lscpu | grep 'Model name' | sed 's/.*: *//'), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "peer: scikit-image $("$venv/bin/python" -c 'import skimage; print(skimage.__version__)')"
rate() { sed -n 's/.*, \([0-9.]*\) patterns\/s per rank (streaming pass.*/\1/p'; }
for spec in "128 32x32" "512 12x12"; do
  set -- $spec
  det=$1 scan=$2
  f="$out/sim$det.h5"
  [ -f "$f" ] || mpirun -np 2 $bin simulate -o "$f" --scan "$scan" --detector ${det}x${det} >/dev/null
  cat "$f" > /dev/null  # page cache
  echo "== $scan positions of ${det}x${det} uint16 (simulated polycrystal, Poisson noise)"
  peer_line=$(OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 "$venv/bin/python" bench/registration/peer_peaks.py "$f")
  echo "$peer_line"
  peer=$(echo "$peer_line" | sed -n 's/.*: \([0-9.]*\) patterns\/s on 1 core.*/\1/p')
  peer_cpu=$(echo "$peer_line" | sed -n 's/.*; \([0-9.]*\) patterns per CPU second.*/\1/p')
  n=$(echo "$peer_line" | sed -n 's/.*: \([0-9]*\) patterns of.*/\1/p')
  for np in 1 2; do
    line=$( { /usr/bin/time -f "cpu %U %S" mpirun -np $np $bin register "$f" -o "$out/reg$det-$np.h5"; } 2>&1 | grep 'patterns/s per rank\|^cpu ')
    r=$(echo "$line" | rate)
    cpu=$(echo "$line" | sed -n 's/^cpu \([0-9.]*\) \([0-9.]*\)/\1 \2/p' | awk '{ print $1 + $2 }')
    percpu=$(awk -v n="$n" -v c="$cpu" 'BEGIN { printf "%.1f", n / c }')
    echo "stemrun register np=$np: $r patterns/s per rank (full pipeline, streaming pass incl. read and HDF5 writes); $percpu patterns per CPU second (whole command)"
    [ $np = 1 ] && r1=$r
    awk -v a="$r" -v b="$peer" -v c="$percpu" -v d="$peer_cpu" -v np=$np 'BEGIN { printf "  ratio to peer peak finding, per core (np=%d): %.2fx wall, %.2fx per CPU second\n", np, a / b, c / d }'
  done
  awk -v a="$r1" -v b="$r" 'BEGIN { printf "  speed-up 1 -> 2 ranks: %.2fx (total patterns/s, wall clock)\n", 2 * b / a }'
done
