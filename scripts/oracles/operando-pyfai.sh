#!/usr/bin/env bash
# Oracle: stemrun's azimuthal integration against pyFAI's integrate1d on the same image and tilted geometry.
# pyFAI writes a synthetic ring image (with module gaps and hot pixels masked), the geometry in its PONI
# convention and four reference profiles (CSR without splitting in q_A^-1, 2th_deg and q_nm^-1 with and
# without solid-angle / polarisation corrections, and CSR with bounding-box splitting); stemrun integrates
# the same image; PASS when max|stemrun - pyFAI| / max|pyFAI| <= 1 % for every case.
set -euo pipefail
cd "$(dirname "$0")/../.."
venv=.venv-pyfai
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -c "import pyFAI" 2>/dev/null || "$venv/bin/pip" install -q pyFAI
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$venv/bin/python" scripts/oracles/operando_pyfai.py make "$work"
# stemrun's side: the Operando kernels, driven by a test that reads the prepared files.
swift build -c release --build-tests >/dev/null
STEMRUN_PYFAI_CASES="$work" swift test -c release --skip-build --filter PyFAIOracleTests >"$work/swift.log" 2>&1 || {
  cat "$work/swift.log"; echo "FAIL: stemrun integration did not run"; exit 1; }
"$venv/bin/python" scripts/oracles/operando_pyfai.py compare "$work"
