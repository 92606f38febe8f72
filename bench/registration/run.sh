#!/usr/bin/env bash
# Registration benchmark: stemrun's full registration pipeline (read, prepare, centre, 3x3 mean, background,
# blur, prominence, refinement, record, reconstruction written to HDF5) against scikit-image's peak finding
# alone (peak_local_max) on the same simulated patterns and the same machine, at 128x128 and 512x512, with
# 1 and 2 ranks. Prints patterns/s per core side by side and the ratios.
#
# Each figure is the best of RUNS runs (default 3), and the peer and stemrun runs alternate, so that both see
# the same machine: on a shared 2-core virtual machine a single run varies by +-30 %. The stemrun rate is the
# streaming pass per rank (read + register + write; the slowest rank); the per-CPU-second figure is the whole
# command (MPI start-up and output included) from /usr/bin/time. A last line gives the rate without writing the
# reconstructions (`--no-reconstruction`), to show what the output costs.
# Usage: bench/registration/run.sh [OUTDIR] [RUNS]   (about 3 minutes on 2 cores; creates .venv-bench-registration)
# SCAN128=NYxNX and SCAN512=NYxNX change the scans (default 64x64 and 24x24), for example SCAN512=48x48 for a
# steady-state figure at 512 px (2304 patterns, a 1.2 GB file; the peer then holds 2.4 GB of float32 patterns).
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/mpi-env.sh
out=${1:-bench-out/registration}
runs=${2:-3}
mkdir -p "$out"
venv=.venv-bench-registration
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check scikit-image h5py numpy
fi
swift build -c release --build-tests >/dev/null
bin=.build/release/stemrun
echo "machine: $(lscpu | grep 'Model name' | sed 's/.*: *//'), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "peer: scikit-image $("$venv/bin/python" -c 'import skimage; print(skimage.__version__)'); best of $runs runs each, alternating"
best() { sort -g | tail -1; }
stream_rate() { sed -n 's/.*, \([0-9.]*\) patterns\/s per rank (streaming pass.*/\1/p'; }
for spec in "128 ${SCAN128:-64x64}" "512 ${SCAN512:-24x24}"; do
  set -- $spec
  det=$1 scan=$2
  f="$out/sim$det-$scan.h5"
  [ -f "$f" ] || mpirun -np 2 $bin simulate -o "$f" --scan "$scan" --detector ${det}x${det} >/dev/null
  cat "$f" > /dev/null  # page cache
  echo "== $scan positions of ${det}x${det} uint16 (simulated polycrystal, Poisson noise)"
  : > "$out/peer.txt"; : > "$out/np1.txt"; : > "$out/np2.txt"; : > "$out/np1cpu.txt"; : > "$out/np2cpu.txt"; : > "$out/norec.txt"
  for i in $(seq "$runs"); do
    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 "$venv/bin/python" bench/registration/peer_peaks.py "$f" >> "$out/peer.txt"
    for np in 1 2; do
      rm -f "$out/reg$det-$np.h5"
      line=$( { /usr/bin/time -f "cpu %U %S" mpirun -np $np $bin register "$f" -o "$out/reg$det-$np.h5"; } 2>&1 | grep 'patterns/s per rank\|^cpu ')
      echo "$line" | stream_rate >> "$out/np$np.txt"
      echo "$line" | sed -n 's/^cpu \([0-9.]*\) \([0-9.]*\)/\1 \2/p' | awk '{ print $1 + $2 }' >> "$out/np${np}cpu.txt"
    done
    rm -f "$out/norec$det.h5"
    $bin register "$f" -o "$out/norec$det.h5" --no-reconstruction | stream_rate >> "$out/norec.txt"
  done
  n=$(sed -n 's/.*: \([0-9]*\) patterns of.*/\1/p' "$out/peer.txt" | head -1)
  peer=$(sed -n 's/.*: \([0-9.]*\) patterns\/s on 1 core.*/\1/p' "$out/peer.txt" | best)
  peaks=$(sed -n 's/.*(\([0-9.]*\) peaks per pattern).*/\1/p' "$out/peer.txt" | head -1)
  echo "peer skimage.peak_local_max: $n patterns, $peer patterns/s on 1 core ($peaks peaks per pattern)"
  for np in 1 2; do
    r=$(best < "$out/np$np.txt")
    cpu=$(sort -g "$out/np${np}cpu.txt" | head -1)
    percpu=$(awk -v n="$n" -v c="$cpu" 'BEGIN { printf "%.1f", n / c }')
    echo "stemrun register np=$np: $r patterns/s per rank (full pipeline, streaming pass incl. read and HDF5 writes); $percpu patterns per CPU second (whole command)"
    awk -v a="$r" -v b="$peer" -v np=$np 'BEGIN { printf "  ratio to peer peak finding, per core (np=%d): %.2fx\n", np, a / b }'
    [ $np = 1 ] && r1=$r
  done
  awk -v a="$r1" -v b="$r" 'BEGIN { printf "  speed-up 1 -> 2 ranks: %.2fx (total patterns/s)\n", 2 * b / a }'
  nr=$(best < "$out/norec.txt")
  awk -v a="$nr" -v b="$peer" 'BEGIN { printf "stemrun register np=1 --no-reconstruction: %s patterns/s (%.2fx the peer)\n", a, a / b }'
done
