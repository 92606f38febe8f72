#!/usr/bin/env bash
# Two stemrun binaries side by side on the registration benchmark's data (bench/registration/run.sh creates it):
# `stemrun register` on 1 rank, runs interleaved (old, new, old, new, ...) so both see the same machine load.
# Prints, per binary and detector size, the median streaming rate (patterns/s) and the median CPU seconds of
# the whole command (user + system, /usr/bin/time), and the new/old ratios. CPU seconds are the figure that
# depends least on the other jobs of a shared machine.
# Usage: bench/registration/compare-binaries.sh OLD_BIN NEW_BIN [RUNS=5] [DATADIR=bench-out/registration]
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/mpi-env.sh
old=$1 new=$2 runs=${3:-5} dir=${4:-bench-out/registration}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
median() { sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
for det in ${DETS:-128 512}; do
  f="$dir/sim$det.h5"
  [ -f "$f" ] || { echo "missing $f (run bench/registration/run.sh first)" >&2; exit 1; }
  for i in $(seq "$runs"); do
    for which in old new; do
      bin=${!which}
      out=$( { /usr/bin/time -f "cpu %U %S" "$bin" register "$f" -o "$tmp/$which.h5"; } 2>&1 )
      echo "$out" | sed -n 's/.*, \([0-9.]*\) patterns\/s per rank (streaming pass.*/\1/p' >> "$tmp/$which-$det.rate"
      echo "$out" | sed -n 's/^cpu \([0-9.]*\) \([0-9.]*\)/\1 \2/p' | awk '{ print $1 + $2 }' >> "$tmp/$which-$det.cpu"
    done
  done
  ro=$(median < "$tmp/old-$det.rate") rn=$(median < "$tmp/new-$det.rate")
  co=$(median < "$tmp/old-$det.cpu") cn=$(median < "$tmp/new-$det.cpu")
  echo "${det}x${det}: old $ro patterns/s, $co CPU s; new $rn patterns/s, $cn CPU s;" \
       "new/old $(awk -v a="$rn" -v b="$ro" 'BEGIN { printf "%.2f", a / b }')x rate," \
       "$(awk -v a="$co" -v b="$cn" 'BEGIN { printf "%.2f", a / b }')x less CPU ($runs runs each, medians)"
done
