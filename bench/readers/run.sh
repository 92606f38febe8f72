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
"$venv/bin/python" bench/readers/make_inputs.py "$dir" "$rows" "$cols" "$side"
scan="${rows}x${cols}"

# rate RANKS ARGS... -> GB/s per rank (best of 3 after a warm-up read).
rate() {
  local np=$1; shift
  mpirun -np "$np" "$bin" bench-read "$@" > /dev/null
  local best=0
  for _ in 1 2 3; do
    local r
    r=$(mpirun -np "$np" "$bin" bench-read "$@" | sed -n 's/.* \([0-9.]*\) GB\/s per rank.*/\1/p')
    best=$(python3 -c "print(max($best, $r))")
  done
  echo "$best"
}

printf "| format | element type | ranks | GB/s per rank | raw reader GB/s per rank | ratio |\n|---|---|---|---|---|---|\n"
for np in 1 2; do
  raw16=$(rate "$np" "$dir/ref_u16.raw" --format raw --scan-shape "$scan" --detector-shape "${side}x${side}" --dtype uint16)
  raw8=$(rate "$np" "$dir/ref_u8.raw" --format raw --scan-shape "$scan" --detector-shape "${side}x${side}" --dtype uint8)
  rawf=$(rate "$np" "$dir/scan_x${cols}_y${rows}.raw" --format raw --scan-shape "$scan" --detector-shape 128x128 --dtype float32 --frame-footer-bytes 1024)
  row() { printf "| %s | %s | %d | %.2f | %.2f | %.2f |\n" "$1" "$2" "$np" "$3" "$4" "$(python3 -c "print($3 / $4)")"; }
  row "mib (U16, big-endian)" uint16 "$(rate "$np" "$dir/scan.mib")" "$raw16"
  row "dm4" uint16 "$(rate "$np" "$dir/scan.dm4")" "$raw16"
  row "blo" uint8 "$(rate "$np" "$dir/scan.blo")" "$raw8"
  row "empad" float32 "$(rate "$np" "$dir/empad.xml")" "$rawf"
  row "bmp sequence (8-bit)" uint8 "$(rate "$np" "$dir/bmp" --scan-shape "$scan")" "$raw8"
  row "tiff sequence (16-bit)" uint16 "$(rate "$np" "$dir/tif" --scan-shape "$scan")" "$raw16"
done
