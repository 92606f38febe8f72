"""Oracle data and check for `stemrun register --disc-centres`: a multislice 4D-STEM scan written by abTEM.

simulate OUT.h5 : gold [001], 12 nm thick, 200 kV, probe of 2 mrad (discs of radius 6.5 px), 6 x 6 probe
                  positions, patterns cropped to 256 px with zero angle at the centre of pixel 128, the direct
                  beam scaled to 2000 counts, a known descan (dx = 3 + 0.4 ix, dy = -2 + 0.3 iy px, bilinear),
                  Poisson noise, uint16. /descan_dx, /descan_dy hold the shifts.
check IN.h5 REG.h5 [--centroid]
                : the beam maps against the descan, each spot against the lattice disc it sits on (g(hk0) at
                  20 h, 20 k px from the beam: the cell repeats 20 times across the simulated area), RMS per
                  family; exit 1 unless the thresholds hold (rim centres), or unless the centroid's bias on the
                  {200} discs shows (--centroid: the case the option exists for).
"""
import sys
import numpy as np
import h5py

W, REPEATS, A = 256, 20, 4.08


def simulate(path):
    import abtem
    from ase.build import bulk
    atoms = bulk("Au", a=A, cubic=True) * (REPEATS, REPEATS, 30)
    potential = abtem.Potential(atoms, gpts=(768, 768), slice_thickness=A / 2, projection="infinite",
                                parametrization="lobato")
    probe = abtem.Probe(energy=200e3, semiangle_cutoff=2.0)
    probe.grid.match(potential)
    scan = abtem.GridScan(start=(0, 0), end=(3 * A, 3 * A), gpts=(6, 6), endpoint=False)
    m = probe.scan(potential, scan=scan, detectors=abtem.PixelatedDetector(max_angle="valid"))
    m = m.compute(scheduler="threads", num_workers=2, progress_bar=False)
    arr = np.asarray(m.array, dtype=np.float64)  # (scan x, scan y, kx, ky), zero angle at index n // 2
    n = arr.shape[-1]
    assert round(-m.axes_metadata[-1].offset / m.sampling[-1]) == n // 2
    lo = n // 2 - W // 2
    patterns = arr[..., lo:lo + W, lo:lo + W].transpose(1, 0, 3, 2)  # [iy, ix, row = ky, col = kx]
    patterns = patterns * (2000 / patterns.mean(axis=(0, 1)).max())
    from scipy import ndimage
    ny, nx = patterns.shape[:2]
    dx = 3 + 0.4 * np.arange(nx)[None, :].repeat(ny, 0)
    dy = -2 + 0.3 * np.arange(ny)[:, None].repeat(nx, 1)
    shifted = np.empty_like(patterns)
    for i in range(ny):
        for j in range(nx):
            shifted[i, j] = ndimage.shift(patterns[i, j], (dy[i, j], dx[i, j]), order=1, mode="constant")
    counts = np.random.default_rng(1).poisson(np.clip(shifted, 0, None)).astype(np.uint16)
    with h5py.File(path, "w") as f:
        f["data"] = counts
        f["descan_dx"] = dx
        f["descan_dy"] = dy
    print(f"abTEM {abtem.__version__}: {ny} x {nx} patterns of {W} px, reciprocal pixel "
          f"{m.sampling[-1]:.5f} 1/A, disc radius {2e-3 / probe.wavelength / m.sampling[-1]:.2f} px")


def check(data, registered, centroid):
    d, f = h5py.File(data), h5py.File(registered)
    ex, ey = W / 2 + 0.5 + d["descan_dx"][()], W / 2 + 0.5 + d["descan_dy"][()]
    bx, by = f["registration/maps/beam_x"][()], f["registration/maps/beam_y"][()]
    beam = float(np.sqrt(np.mean((bx - ex) ** 2 + (by - ey) ** 2)))
    s = f["registration/spots"]
    x, y = s["x"][()], s["y"][()]
    offsets, counts = s["index_offset"][()].ravel(), s["index_count"][()].ravel()
    families, stray = {}, 0
    for o, c in zip(offsets.astype(int), counts.astype(int)):
        if c == 0:
            continue
        for j in range(o + 1, o + c):
            gx, gy = (x[j] - x[o]) / 20, (y[j] - y[o]) / 20  # in units of g(100)
            h, k = 2 * round(gx / 2), 2 * round(gy / 2)      # fcc, l = 0: h, k even
            err = 20 * np.hypot(gx - h, gy - k)
            if err > 6:
                stray += 1
                continue
            key = "{%d%d0}" % tuple(sorted((abs(h), abs(k)), reverse=True))
            families.setdefault(key, []).append(err)
    positions = counts.size
    print(f"beam maps {beam:.3f} px RMS from the descan; {stray} spots off the lattice")
    rms = {}
    for key in sorted(families):
        e = np.array(families[key])
        rms[key] = float(np.sqrt(np.mean(e ** 2)))
        print(f"  {key}: {len(e)} spots at {positions} positions, {rms[key]:.3f} px RMS from the lattice")
    found200 = len(families.get("{200}", []))
    if centroid:
        ok = beam < 0.1 and rms.get("{200}", 0) > 2
        print("PASS (the centroid's bias on the {200} discs)" if ok else "FAIL: expected the centroid's bias")
    else:
        worst = float("inf")
        ok = (beam < 0.1 and stray == 0 and found200 >= 0.9 * 4 * positions and rms.get("{200}", worst) < 0.5
              and rms.get("{220}", worst) < 0.15 and rms.get("{400}", worst) < 0.15)
        print("PASS" if ok else "FAIL: beam < 0.1 px, no stray spot, {200} found at 90 % and within 0.5 px, "
              "{220} and {400} within 0.15 px expected")
    return ok


if __name__ == "__main__":
    if sys.argv[1] == "simulate":
        simulate(sys.argv[2])
    else:
        sys.exit(0 if check(sys.argv[2], sys.argv[3], "--centroid" in sys.argv) else 1)
