#!/usr/bin/env bash
# The machine's price of touching fresh memory (see first_touch.c). Usage: bench/machine/first-touch.sh [MiB]
set -euo pipefail
cd "$(dirname "$0")"
out=${TMPDIR:-/tmp}/stemrun-first-touch
cc -O2 -o "$out" first_touch.c
"$out" "${1:-72}"
