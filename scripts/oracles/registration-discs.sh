#!/usr/bin/env bash
# Oracle: `stemrun register` on 4D-STEM scans that another generator wrote (numpy + h5py,
# scripts/oracles/registration_discs.py): flat-topped discs of convergent-beam data (radius 3-10 px, wider
# than the paper's centroid windows), a descan ramp of +-4 px across the scan, three grains, Poisson noise.
# PASS when, at every single-grain position, no spot is spurious, at most 5 % of the discs are missed, the
# positions are within 0.1 px RMS (0.3 px at most) of the truth and the direct beam within 0.05 px of the
# centre; on 2 and 3 ranks. One case adds five single-pixel hits of 2000 counts (X-rays, cosmic rays) to every
# pattern, which the default zinger filter must remove. A last case puts the discs on a faint amorphous ring (10 counts under discs of
# 40-112) and distorts the diffraction plane (axis ratio 1.041): `--ellipse-ring` must find the ellipse under
# the Bragg spots (axis ratio within 0.5 %, angle within 0.1 rad) and the corrected positions must lie within
# 0.2 px RMS (the ring's slope under the spots biases their centroids, docs/registration.md).
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
# width, disc radius, ranks, generator options | stemrun options | compare options
cases=(
  "256 4 2 | |"
  "256 6 3 | |"
  "128 3 2 | |"
  "512 10 2 | |"
  "256 4 3 --hits 5 | |"
  "256 4 2 --ring 10 --ellipticity 0.04 --angle 0.5 | --ellipse-ring 55,100 | --rms 0.2"
)
for spec in "${cases[@]}"; do
  IFS='|' read -r base register check <<< "$spec"
  set -- $base
  width=$1 radius=$2 np=$3
  shift 3
  f="$work/discs-$width-$radius.h5"
  "$venv/bin/python" scripts/oracles/registration_discs.py make "$f" "$width" "$radius" 11 "$@"
  # shellcheck disable=SC2086
  mpirun -np "$np" .build/release/stemrun register "$f" -o "$work/registered.h5" $register >"$work/log" 2>&1 \
    || { cat "$work/log"; echo "FAIL: stemrun register $f $register"; exit 1; }
  # shellcheck disable=SC2086
  "$venv/bin/python" scripts/oracles/registration_discs.py compare "$f" "$work/registered.h5" $check || status=1
  rm -f "$work/registered.h5"
done
exit $status
