#!/usr/bin/env bash
# Oracle: files written by stemrun through parallel HDF5 (simulate, virtual under mpirun -np 2) open in h5py,
# carry the completion flag and provenance, and the virtual images equal a numpy computation on the data h5py
# reads. Also checks that stemrun reads an h5py-written (N, Ky, Kx) gzip-chunked dataset like numpy does.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/mpi-env.sh
VENV=.venv-h5py
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c "import h5py, numpy" 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q h5py numpy
fi
BIN=.build/release/stemrun
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mpirun -np 2 $BIN simulate -o "$WORK/s.h5" --scan 20x24 --detector 64x64 --grains 4 --seed 3 >/dev/null
mpirun -np 2 $BIN virtual "$WORK/s.h5" -o "$WORK/v.h5" --center 31.5,31.5 --bf-radius 5 --adf-inner 10 --adf-outer 30 >/dev/null
"$VENV/bin/python" - "$WORK" <<'PY'
import sys, h5py, numpy as np
w = sys.argv[1]
with h5py.File(f"{w}/s.h5", "r") as f:
    assert f.attrs["complete"] == 1, "simulate output not complete"
    data = f["data"][...].astype(np.float64)
    assert data.shape == (20, 24, 64, 64), data.shape
    gid = f["ground_truth/grain_id"][...]
    assert gid.shape == (20, 24) and gid.min() >= 0 and gid.max() <= 3
with h5py.File(f"{w}/v.h5", "r") as f:
    assert f.attrs["complete"] == 1
    prov = f["provenance"]
    assert prov.attrs["ranks"] == 2 and prov.attrs["command"] == "virtual"
    y, x = np.mgrid[0:64, 0:64]
    r2 = (x - 31.5) ** 2 + (y - 31.5) ** 2
    bf = (data * (r2 <= 25)).sum(axis=(2, 3))
    adf = (data * ((r2 >= 100) & (r2 < 900))).sum(axis=(2, 3))
    for name, ref in [("bright_field", bf), ("annular_dark_field", adf), ("mean_pattern", data.mean(axis=(0, 1))),
                      ("max_pattern", data.max(axis=(0, 1)))]:
        got = f["virtual/" + name][...].astype(np.float64)
        err = np.abs(got - ref).max() / max(1.0, np.abs(ref).max())
        assert err < 1e-5, f"{name}: relative error {err}"
# An h5py-written 3D gzip-chunked float64 dataset, read back through stemrun's virtual job.
rng = np.random.default_rng(0)
frames = rng.poisson(3.0, (12, 16, 16)).astype(np.float64)
with h5py.File(f"{w}/in.h5", "w") as f:
    d = f.create_dataset("entry/frames", data=frames, chunks=(2, 16, 16), compression="gzip")
np.save(f"{w}/frames.npy", frames)
print("h5py checks on stemrun outputs: ok")
PY
mpirun -np 3 $BIN virtual "$WORK/in.h5" --dataset entry/frames --scan-shape 3x4 -o "$WORK/v2.h5" --center 7.5,7.5 --bf-radius 3 --adf-inner 4 --adf-outer 8 >/dev/null
"$VENV/bin/python" - "$WORK" <<'PY'
import sys, h5py, numpy as np
w = sys.argv[1]
frames = np.load(f"{w}/frames.npy")
y, x = np.mgrid[0:16, 0:16]
r2 = (x - 7.5) ** 2 + (y - 7.5) ** 2
with h5py.File(f"{w}/v2.h5", "r") as f:
    bf = f["virtual/bright_field"][...]
assert bf.shape == (3, 4)
ref = (frames * (r2 <= 9)).sum(axis=(1, 2)).reshape(3, 4)
assert np.allclose(bf, ref, rtol=1e-6), (bf, ref)
print("stemrun reading an h5py gzip-chunked (N, Ky, Kx) dataset: ok")
PY
echo "PASS hdf5-h5py"
