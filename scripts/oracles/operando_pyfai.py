"""pyFAI side of scripts/oracles/operando-pyfai.sh.

make <dir>:    writes a synthetic ring image with a tilted geometry, a mask, the cases to integrate, and
               pyFAI's integrate1d profiles for every case (reference_<k>.f32).
compare <dir>: compares stemrun's profiles (stemrun_<k>.f32) with pyFAI's; metric = max|a - b| / max|b| over
               the bins; PASS when every case is within 1 %.
"""
import json, os, sys
import numpy as np

ROWS, COLS = 200, 240
GEOM = dict(dist=0.1, poni1=0.0085, poni2=0.0122, rot1=0.05, rot2=-0.03, rot3=0.1,
            pixel1=1e-4, pixel2=1e-4, wavelength=0.5e-10)
CASES = [
    dict(unit="q_A^-1", npt=400, range=[0.3, 2.1], split="no", solid_angle=True, polarization=None),
    dict(unit="2th_deg", npt=300, range=[1.0, 9.0], split="no", solid_angle=False, polarization=None),
    dict(unit="q_nm^-1", npt=350, range=[3.0, 21.0], split="no", solid_angle=True, polarization=0.95),
    dict(unit="q_A^-1", npt=400, range=[0.3, 2.1], split="bbox", solid_angle=True, polarization=None),
]


def make(d):
    from pyFAI.integrator.azimuthal import AzimuthalIntegrator
    from pyFAI.detectors import Detector
    det = Detector(pixel1=GEOM["pixel1"], pixel2=GEOM["pixel2"], max_shape=(ROWS, COLS))
    ai = AzimuthalIntegrator(dist=GEOM["dist"], poni1=GEOM["poni1"], poni2=GEOM["poni2"], rot1=GEOM["rot1"],
                             rot2=GEOM["rot2"], rot3=GEOM["rot3"], detector=det, wavelength=GEOM["wavelength"])
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
    img.tofile(os.path.join(d, "image.f32"))
    mask.tofile(os.path.join(d, "mask.u8"))
    json.dump(dict(rows=ROWS, columns=COLS, geometry=GEOM, cases=CASES), open(os.path.join(d, "cases.json"), "w"),
              indent=1)
    for k, c in enumerate(CASES):
        r = ai.integrate1d(img, c["npt"], unit=c["unit"], radial_range=tuple(c["range"]), mask=mask,
                           method=(c["split"], "csr", "cython"), correctSolidAngle=c["solid_angle"],
                           polarization_factor=c["polarization"])
        np.asarray(r.intensity, np.float32).tofile(os.path.join(d, f"reference_{k}.f32"))
        np.asarray(r.radial, np.float64).tofile(os.path.join(d, f"radial_{k}.f64"))
    print(f"pyFAI {__import__('pyFAI').version}: {len(CASES)} reference profiles written to {d}")


def compare(d):
    ok = True
    for k, c in enumerate(CASES):
        ref = np.fromfile(os.path.join(d, f"reference_{k}.f32"), np.float32).astype(np.float64)
        path = os.path.join(d, f"stemrun_{k}.f32")
        if not os.path.exists(path):
            print(f"FAIL case {k}: {path} missing"); ok = False; continue
        got = np.fromfile(path, np.float32).astype(np.float64)
        if got.shape != ref.shape:
            print(f"FAIL case {k}: {got.shape[0]} bins, pyFAI has {ref.shape[0]}"); ok = False; continue
        maxrel = np.max(np.abs(got - ref)) / np.max(np.abs(ref))
        l2 = np.linalg.norm(got - ref) / np.linalg.norm(ref)
        good = maxrel <= 0.01
        ok &= good
        print(f"{'PASS' if good else 'FAIL'} case {k} ({c['split']} split, {c['unit']}, solid angle "
              f"{c['solid_angle']}, polarisation {c['polarization']}): max|a-b|/max|b| = {maxrel:.2e}, "
              f"relative L2 = {l2:.2e}")
    print("PASS" if ok else "FAIL")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    {"make": make, "compare": compare}[sys.argv[1]](sys.argv[2])
