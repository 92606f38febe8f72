#!/usr/bin/env bash
# Reconstruction quality on a simulated polycrystal: stemrun register on noisy patterns, compared with the
# noise-free truth of the same seed (metric in quality.py). Three doses. Usage: bench/registration/quality.sh [OUTDIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/mpi-env.sh
out=${1:-bench-out/registration-quality}
mkdir -p "$out"
venv=.venv-bench-registration
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check scikit-image h5py numpy
fi
swift build -c release --build-tests >/dev/null
bin=.build/release/stemrun
common=(--scan 16x16 --detector 128x128 --grains 4 --seed 3)
$bin simulate -o "$out/truth.h5" "${common[@]}" --no-noise >/dev/null
for dose in 1 0.1 0.02; do
  $bin simulate -o "$out/noisy$dose.h5" "${common[@]}" --dose "$dose" >/dev/null
  # Reconstructions in the detector frame (no centring shift, spots not moved to the centre).
  $bin register "$out/noisy$dose.h5" -o "$out/reg$dose.h5" --no-centring --no-centre-on-beam >/dev/null
  # The truth at the same dose scale.
  "$venv/bin/python" bench/registration/quality.py "$out/noisy$dose.h5" "$out/truth.h5" "$out/reg$dose.h5" "dose $dose"
done
