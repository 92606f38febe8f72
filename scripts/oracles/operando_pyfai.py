"""pyFAI side of scripts/oracles/operando-pyfai.sh.

make <dir>:    writes a synthetic ring image on a tilted detector as an operando pattern series
               (patterns.h5, dataset operando/patterns of shape (1, 1, 1, Ky, Kx)), the geometry as a PONI
               file written by pyFAI, a mask (module gaps, hot pixels), the cases, and pyFAI's integrate1d
               profile of every case (reference_<k>.npy).
compare <dir>: reads stemrun's profiles (stemrun_<k>.h5 from `stemrun operando integrate`) and compares;
               metric = max|a - b| / max|b| over the bins (also reported: relative L2); PASS when every case
               is within 1 %.
"""
import json, os, sys
import numpy as np

ROWS, COLS = 200, 240
GEOM = dict(dist=0.1, poni1=0.0085, poni2=0.0122, rot1=0.05, rot2=-0.03, rot3=0.1, wavelength=0.5e-10)
PIXEL = 1e-4
CASES = [
    dict(unit="q_A^-1", npt=400, range=[0.3, 2.1], split="no", solid_angle=True, polarization=None),
    dict(unit="2th_deg", npt=300, range=[1.0, 9.0], split="no", solid_angle=False, polarization=None),
    dict(unit="q_nm^-1", npt=350, range=[3.0, 21.0], split="no", solid_angle=True, polarization=0.95),
    dict(unit="q_A^-1", npt=400, range=[0.3, 2.1], split="bbox", solid_angle=True, polarization=None),
]


def integrator():
    from pyFAI.integrator.azimuthal import AzimuthalIntegrator
    from pyFAI.detectors import Detector
    det = Detector(pixel1=PIXEL, pixel2=PIXEL, max_shape=(ROWS, COLS))
    return AzimuthalIntegrator(detector=det, **GEOM)


def make(d):
    import h5py
    ai = integrator()
    q = ai.qArray((ROWS, COLS)) / 10.0          # A^-1
    chi = ai.center_array((ROWS, COLS), unit="chi_rad")
    rng = np.random.default_rng(7)
    img = 20.0 + 30.0 * np.exp(-q)
    for q0, a, w in [(1.2, 400.0, 0.012), (1.6, 250.0, 0.01), (1.875, 600.0, 0.008)]:
        img += a * (1.0 + 0.3 * np.cos(chi)) * np.exp(-0.5 * ((q - q0) / w) ** 2)
    img += rng.normal(0.0, 2.0, img.shape)
    mask = np.zeros((ROWS, COLS), np.uint8)
    mask[90:96, :] = 1
    mask[:, 150:153] = 1
    hot = rng.integers(0, ROWS * COLS, 25)
    img.ravel()[hot] = 1e6
    mask.ravel()[hot] = 1
    img = img.astype(np.float32)
    with h5py.File(os.path.join(d, "patterns.h5"), "w") as f:
        f.create_dataset("operando/patterns", data=img[None, None, None])
    mask.tofile(os.path.join(d, "mask.u8"))
    ai.write(os.path.join(d, "geometry.poni"))
    json.dump(CASES, open(os.path.join(d, "cases.json"), "w"))
    for k, c in enumerate(CASES):
        r = ai.integrate1d(img, c["npt"], unit=c["unit"], radial_range=tuple(c["range"]), mask=mask,
                           method=(c["split"], "csr", "cython"), correctSolidAngle=c["solid_angle"],
                           polarization_factor=c["polarization"])
        np.save(os.path.join(d, f"reference_{k}.npy"), np.asarray(r.intensity, np.float64))
        # The stemrun command line of this case, for the shell script.
        args = ["--unit", c["unit"], "--bins", str(c["npt"]), "--radial-range", f"{c['range'][0]}:{c['range'][1]}",
                "--split", "bbox" if c["split"] == "bbox" else "none"]
        if not c["solid_angle"]:
            args.append("--no-solid-angle")
        if c["polarization"] is not None:
            args += ["--polarization", str(c["polarization"])]
        open(os.path.join(d, f"args_{k}.txt"), "w").write(" ".join(args))
    print(f"pyFAI {__import__('pyFAI').version}: {len(CASES)} reference profiles written to {d}")


def compare(d):
    import h5py
    ok = True
    for k, c in enumerate(CASES):
        ref = np.load(os.path.join(d, f"reference_{k}.npy"))
        path = os.path.join(d, f"stemrun_{k}.h5")
        if not os.path.exists(path):
            print(f"FAIL case {k}: {path} missing"); ok = False; continue
        with h5py.File(path, "r") as f:
            got = np.asarray(f["operando/profiles"][0, 0, 0], np.float64)
            radial = np.asarray(f["operando/radial"])
        if got.shape != ref.shape:
            print(f"FAIL case {k}: {got.shape[0]} bins, pyFAI has {ref.shape[0]}"); ok = False; continue
        lo, hi = c["range"]
        centres = lo + (np.arange(c["npt"]) + 0.5) * (hi - lo) / c["npt"]
        maxrel = np.max(np.abs(got - ref)) / np.max(np.abs(ref))
        l2 = np.linalg.norm(got - ref) / np.linalg.norm(ref)
        good = maxrel <= 0.01 and np.allclose(radial, centres, rtol=1e-6)
        ok &= good
        print(f"{'PASS' if good else 'FAIL'} case {k} ({c['split']} split, {c['unit']}, solid angle "
              f"{c['solid_angle']}, polarisation {c['polarization']}): max|a-b|/max|b| = {maxrel:.2e}, "
              f"relative L2 = {l2:.2e}")
    print("PASS" if ok else "FAIL")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    {"make": make, "compare": compare}[sys.argv[1]](sys.argv[2])
