#!/usr/bin/env bash
# Oracle: `stemrun register` on 4D-STEM files that pyxem generated and HyperSpy wrote (.hspy), against the
# truth of pyxem's construction (scripts/oracles/registration_pyxem.py): a descan-shifted direct beam with a
# ring around it (generate_4d_data: the beam maps within 0.05 px RMS, no spot but the beam) and pyxem's
# tilt-boundary dataset (tilt_boundary_data: a lattice of discs, one half rotated by 10 degrees, every
# pattern shifted; every disc of at least 5 % of the beam found, none spurious, positions relative to the
# beam within 0.1 px RMS, the beam maps within 0.05 px), pyxem's HOLZ test signal (a disc 29 px off the
# centre of 80 px patterns, at the paper's first centring circle) and a beam 41 px off the centre of 128 px
# patterns (beyond that circle): the beam maps within 0.05 px RMS. On 2 and 3 ranks.
set -euo pipefail
cd "$(dirname "$0")/../.."
venv=.venv-pyxem
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -c "import pyxem, h5py" 2>/dev/null || "$venv/bin/pip" install -q "pyxem==0.21.*" h5py
[ -x .build/release/stemrun ] || swift build -c release --build-tests >/dev/null
source scripts/mpi-env.sh
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$venv/bin/python" scripts/oracles/registration_pyxem.py make "$work" 2>"$work/make.log" \
  || { cat "$work/make.log"; echo "FAIL: pyxem could not write the data"; exit 1; }
for spec in "descan 2" "tilt 3" "holz 2" "offaxis 3"; do
  set -- $spec
  mpirun -np "$2" .build/release/stemrun register "$work/$1.hspy" -o "$work/$1-registered.h5" >"$work/$1.log" 2>&1 \
    || { cat "$work/$1.log"; echo "FAIL: stemrun register $1.hspy"; exit 1; }
done
"$venv/bin/python" scripts/oracles/registration_pyxem.py compare "$work"
