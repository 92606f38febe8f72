#!/usr/bin/env bash
# Read throughput of each instrument-format reader against the raw-binary reader on the same patterns
# and element type (page cache warm), with `stemrun bench-read` on 1 and 2 ranks.
#   bench/readers/run.sh [SCAN_ROWS SCAN_COLS SIDE]     (default 32 64 256: 2048 patterns, 256 MiB as uint16)
# Prints one table row per format: GB/s per rank (on-disk bytes) and the ratio to the raw reader.
set -euo pipefail
cd "$(dirname "$0")/../.."
rows=${1:-32}; cols=${2:-64}; side=${3:-256}
venv=.venv-readers-bench
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check numpy
swift build -c release --product stemrun > /dev/null
source scripts/mpi-env.sh
bin=$(pwd)/.build/release/stemrun
dir=${BENCH_DIR:-bench-out/readers}
mkdir -p "$dir"
[ -f "$dir/done-$rows-$cols-$side" ] || { "$venv/bin/python" bench/readers/make_inputs.py "$dir" "$rows" "$cols" "$side" && touch "$dir/done-$rows-$cols-$side"; }
scan="${rows}x${cols}"

# The machine is shared: each format is measured alternately with its raw reference, 4 times after a
# warm-up read of both, and the best of each is kept (the run least disturbed by other jobs).
once() { local np=$1; shift; mpirun -np "$np" "$bin" bench-read "$@" | sed -n 's/.* \([0-9.]*\) GB\/s per rank.*/\1/p'; }

# pair RANKS "RAW ARGS" FORMAT ARGS... -> "format_best raw_best"
pair() {
  local np=$1 raw=$2; shift 2
  # shellcheck disable=SC2086
  once "$np" $raw > /dev/null; once "$np" "$@" > /dev/null
  local bf=0 br=0
  for _ in 1 2 3 4; do
    # shellcheck disable=SC2086
    br=$(python3 -c "print(max($br, $(once "$np" $raw)))")
    bf=$(python3 -c "print(max($bf, $(once "$np" "$@")))")
  done
  echo "$bf $br"
}

printf "| format | element type | ranks | GB/s per rank | raw reader GB/s per rank | ratio |\n|---|---|---|---|---|---|\n"
raw16="$dir/ref_u16.raw --format raw --scan-shape $scan --detector-shape ${side}x${side} --dtype uint16"
raw8="$dir/ref_u8.raw --format raw --scan-shape $scan --detector-shape ${side}x${side} --dtype uint8"
rawf="$dir/scan_x${cols}_y${rows}.raw --format raw --scan-shape $scan --detector-shape 128x128 --dtype float32 --frame-footer-bytes 1024"
row() {
  local name=$1 type=$2 np=$3 raw=$4; shift 4
  read -r f r < <(pair "$np" "$raw" "$@")
  printf "| %s | %s | %d | %.2f | %.2f | %.2f |\n" "$name" "$type" "$np" "$f" "$r" "$(python3 -c "print($f / $r)")"
}
for np in 1 2; do
  row "mib (U16, big-endian)" uint16 "$np" "$raw16" "$dir/scan.mib"
  row "dm4" uint16 "$np" "$raw16" "$dir/scan.dm4"
  row "blo" uint8 "$np" "$raw8" "$dir/scan.blo"
  row "empad" float32 "$np" "$rawf" "$dir/empad.xml"
  row "bmp sequence (8-bit)" uint8 "$np" "$raw8" "$dir/bmp" --scan-shape "$scan"
  row "tiff sequence (16-bit)" uint16 "$np" "$raw16" "$dir/tif" --scan-shape "$scan"
done
