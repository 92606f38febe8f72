#!/usr/bin/env bash
# Foundation benchmark: read throughput (GB/s per rank) of raw and HDF5 inputs, and virtual-imaging
# patterns/s, for 1 and 2 ranks, from page cache; peak memory per rank for two dataset sizes.
# Usage: bench/foundation/run.sh [OUTDIR]   (about 2-4 minutes on 2 cores)
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/mpi-env.sh
out=${1:-bench-out/foundation}
mkdir -p "$out"
swift build -c release --build-tests >/dev/null
bin=.build/release/stemrun
echo "machine: $(lscpu | grep 'Model name' | sed 's/.*: *//'), $(nproc) cores"
for size in 64 128; do
  f="$out/sim$size"
  if [ ! -f "$f.h5" ]; then
    mpirun -np 2 $bin simulate -o "$f.h5" --raw-output "$f.raw" --scan ${size}x${size} --detector 128x128 --no-noise >/dev/null
  fi
  cat "$f.h5" "$f.raw" > /dev/null   # page cache
  bytes=$(stat -c %s "$f.raw")
  echo "== dataset ${size}x${size} positions of 128x128 uint16: $((bytes / 1000000)) MB"
  for np in 1 2; do
    for fmt in raw hdf5; do
      if [ $fmt = raw ]; then in=("$f.raw" --format raw --scan-shape ${size}x${size} --detector-shape 128x128 --dtype uint16)
      else in=("$f.h5"); fi
      mpirun -np $np $bin bench-read "${in[@]}" | sed "s/^/np=$np $fmt: /"
      mpirun -np $np $bin virtual "${in[@]}" -o "$out/v.h5" | grep 'streaming pass' | sed "s/^/np=$np $fmt: /"
    done
  done
done
