#!/usr/bin/env bash
# Oracle: `stemrun operando integrate` against pyFAI's integrate1d on the same image and tilted geometry.
# pyFAI writes a synthetic ring image (module gaps and hot pixels masked), its PONI file, and four reference
# profiles: CSR without splitting in q_A^-1, 2th_deg and q_nm^-1 (with and without solid-angle and
# polarisation corrections) and CSR with bounding-box splitting. stemrun integrates the same file with the
# same options; PASS when max|stemrun - pyFAI| / max|pyFAI| <= 1 % for every case.
set -euo pipefail
cd "$(dirname "$0")/../.."
venv=.venv-pyfai
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -c "import pyFAI, h5py" 2>/dev/null || "$venv/bin/pip" install -q pyFAI h5py
[ -x .build/release/stemrun ] || swift build -c release --build-tests >/dev/null
source scripts/mpi-env.sh
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$venv/bin/python" scripts/oracles/operando_pyfai.py make "$work"
for args in "$work"/args_*.txt; do
  k=$(basename "$args" .txt); k=${k#args_}
  # shellcheck disable=SC2046
  .build/release/stemrun operando integrate "$work/patterns.h5" -o "$work/stemrun_$k.h5" --poni "$work/geometry.poni" \
    --mask "$work/mask.u8" $(cat "$args") >"$work/stemrun_$k.log" 2>&1 || { cat "$work/stemrun_$k.log"; echo "FAIL: stemrun case $k"; exit 1; }
done
"$venv/bin/python" scripts/oracles/operando_pyfai.py compare "$work"
