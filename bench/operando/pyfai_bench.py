"""pyFAI side of bench/operando/run.sh.

make <dir> <patterns> <size>: ring patterns (size x size, float32) on a tilted detector with noise, written
    as an operando series (patterns.h5, dataset operando/patterns (1, rows, cols, size, size)) and the PONI
    file; the radial range used by both programs goes to range.txt.
time <dir> <bins>: pyFAI integrate1d with its CSR engine without pixel splitting (method ("no", "csr",
    "cython")), q in A^-1, solid-angle correction (pyFAI's default), on every pattern in memory; prints the
    best of three passes as patterns/s (run with OMP_NUM_THREADS=1 for one core) and keeps the profiles.
agree <dir> <stemrun.h5>: max over patterns of max|stemrun - pyFAI| / max|pyFAI|.
"""
import os, sys, time
import numpy as np


def make(d, n, size):
    import h5py
    from pyFAI.integrator.azimuthal import AzimuthalIntegrator
    from pyFAI.detectors import Detector
    det = Detector(pixel1=75e-6, pixel2=75e-6, max_shape=(size, size))
    ai = AzimuthalIntegrator(dist=0.12, poni1=size * 75e-6 * 0.45, poni2=size * 75e-6 * 0.55, rot1=0.02, rot2=-0.01,
                             rot3=0.05, detector=det, wavelength=0.2e-10)
    q = ai.qArray((size, size)) / 10.0
    rng = np.random.default_rng(1)
    cols = 16
    rows = max(1, n // cols)
    with h5py.File(os.path.join(d, "patterns.h5"), "w") as f:
        ds = f.create_dataset("operando/patterns", (1, rows, cols, size, size), np.float32)
        for k in range(rows * cols):
            shift = 0.01 * rng.random()
            img = 50 + 30 * np.exp(-q)
            for q0, a in [(1.70 + shift, 500.0), (1.78, 300.0), (1.87 - shift, 400.0)]:
                img = img + a * np.exp(-0.5 * ((q - q0) / 0.004) ** 2)
            img = rng.poisson(img).astype(np.float32)
            ds[0, k // cols, k % cols] = img
    ai.write(os.path.join(d, "geometry.poni"))
    # From 0 (below every pixel: pyFAI also bins pixels up to one bin below the range into bin 0) to just
    # above the largest q, so both programs bin the same pixels.
    open(os.path.join(d, "range.txt"), "w").write("0:%.6f" % (float(q.max()) * 1.0001))
    print(f"{rows * cols} patterns of {size}x{size}")


def load(d):
    import h5py
    import pyFAI
    with h5py.File(os.path.join(d, "patterns.h5"), "r") as f:
        data = f["operando/patterns"][0]
    data = data.reshape(-1, data.shape[-2], data.shape[-1])
    return data, pyFAI.load(os.path.join(d, "geometry.poni"))


def time_pyfai(d, bins):
    data, ai = load(d)
    lo, hi = map(float, open(os.path.join(d, "range.txt")).read().split(":"))
    kw = dict(unit="q_A^-1", radial_range=(lo, hi), method=("no", "csr", "cython"), correctSolidAngle=True)
    t0 = time.perf_counter()
    ai.integrate1d(data[0], bins, **kw)
    setup = time.perf_counter() - t0
    best = best_cpu = float("inf")
    out = np.zeros((len(data), bins))
    for _ in range(3):
        t0, c0 = time.perf_counter(), time.process_time()
        for k, img in enumerate(data):
            out[k] = ai.integrate1d(img, bins, **kw).intensity
        best = min(best, time.perf_counter() - t0)
        best_cpu = min(best_cpu, time.process_time() - c0)
    np.save(os.path.join(d, "pyfai_profiles.npy"), out)
    import pyFAI
    print(f"pyfai_version {pyFAI.version}")
    print(f"pyfai_setup_s {setup:.3f}")
    print(f"pyfai_patterns_per_s {len(data) / best:.1f}")
    print(f"pyfai_patterns_per_cpu_s {len(data) / best_cpu:.1f}")


def agree(d, path):
    import h5py
    ref = np.load(os.path.join(d, "pyfai_profiles.npy"))
    with h5py.File(path, "r") as f:
        got = np.asarray(f["operando/profiles"][0], np.float64).reshape(ref.shape)
    worst = max(np.max(np.abs(g - r)) / np.max(np.abs(r)) for g, r in zip(got, ref))
    print(f"agreement_max_rel {worst:.2e}")


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "make":
        make(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    elif cmd == "time":
        time_pyfai(sys.argv[2], int(sys.argv[3]))
    else:
        agree(sys.argv[2], sys.argv[3])
