#!/usr/bin/env bash
# Oracle: `stemrun register` on a multislice 4D-STEM scan that abTEM wrote (scripts/oracles/registration_abtem.py):
# gold [001], 12 nm thick, a 2 mrad probe, so the discs (radius 6.5 px at 256 px) carry dynamical contrast (the
# {200} discs rise from 1 to about 57 counts across their diameter); a known descan; Poisson noise. On 2 ranks:
# the paper's centroid puts the {200} discs more than 2 px off their lattice positions; `--disc-centres` must put
# them within 0.5 px RMS and the {220} and {400} discs within 0.15 px, with the beam maps within 0.1 px of the
# descan, and the run without it must print the note that names the option. The thresholds use `--grey-levels absolute --prominence 8` (the paper's 3 grey levels of a 2000-count
# beam pass only the {220} discs). About 2 minutes on 2 cores (creates .venv-abtem, about 1 minute).
set -euo pipefail
cd "$(dirname "$0")/../.."
venv=.venv-abtem
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -c "import abtem, h5py, scipy" 2>/dev/null || "$venv/bin/pip" install -q --disable-pip-version-check abtem h5py scipy
[ -x .build/release/stemrun ] || swift build -c release --build-tests >/dev/null
source scripts/mpi-env.sh
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
OMP_NUM_THREADS=2 "$venv/bin/python" scripts/oracles/registration_abtem.py simulate "$work/au001.h5"
status=0
opts=(--grey-levels absolute --prominence 8 --no-reconstruction)
mpirun -np 2 .build/release/stemrun register "$work/au001.h5" -o "$work/centroid.h5" "${opts[@]}" > "$work/centroid.txt"
echo "centroid (the paper's):"
# The disc note names the option (the beam's half-maximum radius is about 6 px).
grep -q "note: the direct beam is a disc.*--disc-centres" "$work/centroid.txt" || { echo "FAIL: no disc note"; status=1; }
"$venv/bin/python" scripts/oracles/registration_abtem.py check "$work/au001.h5" "$work/centroid.h5" --centroid || status=1
mpirun -np 2 .build/release/stemrun register "$work/au001.h5" -o "$work/rim.h5" "${opts[@]}" --disc-centres >/dev/null
echo "--disc-centres:"
"$venv/bin/python" scripts/oracles/registration_abtem.py check "$work/au001.h5" "$work/rim.h5" || status=1
exit $status
