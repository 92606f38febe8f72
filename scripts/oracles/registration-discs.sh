#!/usr/bin/env bash
# Oracle: `stemrun register` on 4D-STEM scans that another generator wrote (numpy + h5py,
# scripts/oracles/registration_discs.py): flat-topped discs of convergent-beam data (radius 3-10 px, wider
# than the paper's centroid windows), a descan ramp of +-4 px across the scan, three grains, Poisson noise.
# PASS when, at every single-grain position, no spot is spurious, at most 5 % of the discs are missed, the
# positions are within 0.1 px RMS (0.3 px at most) of the truth and the direct beam within 0.05 px of the
# centre; on 2 and 3 ranks.
set -euo pipefail
cd "$(dirname "$0")/../.."
venv=.venv-registration
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -c "import numpy, h5py" 2>/dev/null || "$venv/bin/pip" install -q numpy h5py
[ -x .build/release/stemrun ] || swift build -c release --build-tests >/dev/null
source scripts/mpi-env.sh
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0
for spec in "256 4 2" "256 6 3" "128 3 2" "512 10 2"; do
  set -- $spec
  width=$1 radius=$2 np=$3
  f="$work/discs-$width-$radius.h5"
  "$venv/bin/python" scripts/oracles/registration_discs.py make "$f" "$width" "$radius" 11
  mpirun -np "$np" .build/release/stemrun register "$f" -o "$work/registered.h5" >"$work/log" 2>&1 \
    || { cat "$work/log"; echo "FAIL: stemrun register $f"; exit 1; }
  "$venv/bin/python" scripts/oracles/registration_discs.py compare "$f" "$work/registered.h5" || status=1
  rm -f "$work/registered.h5"
done
exit $status
