"""Oracle data for `stemrun register`: a 4D-STEM scan written by h5py from a generator that shares no code
or conventions with stemrun's `simulate` (flat-topped, exact-area discs of convergent-beam data instead of
Gaussian spots, a descan shift that ramps across the scan, three grains, a diffuse halo, Poisson noise).

    registration_discs.py make OUT.h5 WIDTH DISC_RADIUS SEED [--gaussian SIGMA] [--ring HEIGHT]
                          [--ellipticity E --angle RADIANS] [--hits N]
    registration_discs.py compare OUT.h5 REGISTERED.h5 [--rms PX]

With --gaussian the reflections are Gaussian spots of that sigma instead of discs (the direct beam stays a
disc of 1.5 DISC_RADIUS). --ring adds an amorphous ring of that height (radius 0.3 W, sigma 0.03 W).
--ellipticity distorts the diffraction plane (the ring and the reflections, about the direct beam) into
ellipses of semi-axes (1 + E/2, 1 - E/2) at the angle given; the truth is then the corrected frame that stemrun
maps the ellipse to (the circle of equal area), and `compare` also checks the ellipse stemrun stored (axis
ratio within 0.5 %, angle within 0.1 rad). --hits adds N single-pixel hits of 2000 counts (X-rays, cosmic rays)
to every pattern. `make` writes OUT.h5 (dataset /data, (Ny, Nx, W, W) uint16, chunked by pattern) and OUT.h5.json (the true
centres of every disc in the centred frame: the pattern shifted so that the direct beam sits at (W/2, W/2), in
the pixel-edge convention, pixel j spanning [j, j + 1)). `compare` reads stemrun's spot table and checks, at
the positions whose 3 x 3 scan neighbourhood lies in one grain (the 3 x 3 mean mixes grains elsewhere): every
detected spot is a true disc (none spurious), at most 5 % of the discs are missed (a weak disc next to the
direct beam can lose its prominence to the beam's flank), the sub-pixel positions are within 0.1 px RMS (or
--rms) and three times that at most, and the direct beam is within 0.05 px of the centre.
"""
import json
import sys

import h5py
import numpy as np

SUPERSAMPLING = 8


def add_disc(image, cx, cy, radius, value):
    """Adds a disc of `value` with exact-area anti-aliasing (8 x 8 samples per pixel)."""
    w = image.shape[0]
    x0, x1 = max(0, int(np.floor(cx - radius)) - 1), min(w, int(np.ceil(cx + radius)) + 2)
    y0, y1 = max(0, int(np.floor(cy - radius)) - 1), min(w, int(np.ceil(cy + radius)) + 2)
    if x0 >= x1 or y0 >= y1:
        return
    sub = (np.arange(SUPERSAMPLING) + 0.5) / SUPERSAMPLING
    xs = (np.arange(x0, x1)[:, None] + sub[None, :]).ravel()
    ys = (np.arange(y0, y1)[:, None] + sub[None, :]).ravel()
    inside = ((xs[None, :] - cx) ** 2 + (ys[:, None] - cy) ** 2 <= radius * radius).astype(np.float64)
    cover = inside.reshape(y1 - y0, SUPERSAMPLING, x1 - x0, SUPERSAMPLING).mean(axis=(1, 3))
    image[y0:y1, x0:x1] += value * cover


def add_gaussian(image, cx, cy, sigma, value):
    """Adds a Gaussian spot of peak `value` (sampled at pixel centres)."""
    w = image.shape[0]
    r = int(np.ceil(5 * sigma))
    x0, x1 = max(0, int(cx) - r), min(w, int(cx) + r + 1)
    y0, y1 = max(0, int(cy) - r), min(w, int(cy) + r + 1)
    xs, ys = np.arange(x0, x1) + 0.5, np.arange(y0, y1) + 0.5
    image[y0:y1, x0:x1] += value * np.exp(-((xs[None, :] - cx) ** 2 + (ys[:, None] - cy) ** 2) / (2 * sigma * sigma))


def make(path, width, disc_radius, seed, ny=10, nx=12, gaussian_sigma=None, ring=0.0, ellipticity=0.0, ellipse_angle=0.0,
         hits=0):
    rng = np.random.default_rng(seed)
    w = width
    seeds = rng.uniform(0, 1, (3, 2)) * [nx, ny]
    grains = [(rng.uniform(0, np.pi), rng.uniform(0.085, 0.11)) for _ in seeds]

    def grain(ix, iy):
        return int(np.argmin(((seeds - [ix, iy]) ** 2).sum(1)))

    yy, xx = np.mgrid[0:w, 0:w] + 0.5
    # Distortion of the diffraction plane about the direct beam, and the equal-area scale of the correction.
    rot = np.array([[np.cos(ellipse_angle), -np.sin(ellipse_angle)], [np.sin(ellipse_angle), np.cos(ellipse_angle)]])
    distortion = rot @ np.diag([1 + ellipticity / 2, 1 - ellipticity / 2]) @ rot.T
    undo = np.linalg.inv(distortion)
    equal_area = np.sqrt((1 + ellipticity / 2) * (1 - ellipticity / 2))
    data = np.zeros((ny, nx, w, w), np.uint16)
    truth = []
    for iy in range(ny):
        for ix in range(nx):
            shift = (-4 + 8 * ix / (nx - 1) + 0.37, -3 + 6 * iy / (ny - 1) - 0.21)  # descan ramp, px
            bx, by = w / 2 + shift[0], w / 2 + shift[1]
            # Radius in the undistorted plane, for the halo and the ring.
            rr = np.hypot(undo[0, 0] * (xx - bx) + undo[0, 1] * (yy - by), undo[1, 0] * (xx - bx) + undo[1, 1] * (yy - by))
            image = 2 + 6 * np.exp(-rr / (w / 6)) + ring * np.exp(-(rr - 0.3 * w) ** 2 / (2 * (0.03 * w) ** 2))
            add_disc(image, bx, by, 1.5 * disc_radius, 900.0)  # direct beam
            g = grain(ix, iy)
            angle, spacing = grains[g]
            a = w * spacing * np.array([np.cos(angle), np.sin(angle)])
            b = w * spacing * 1.3 * np.array([-np.sin(angle + 0.2), np.cos(angle + 0.2)])
            discs = []
            for h in range(-3, 4):
                for k in range(-3, 4):
                    if h == 0 and k == 0:
                        continue
                    ideal = h * a + k * b
                    if np.hypot(*ideal) > 0.38 * w:
                        continue
                    p = distortion @ ideal
                    value = 40 + 8 * ((7 * h + 3 * k) % 10)  # 40-112 counts, the same in the whole grain
                    if gaussian_sigma:
                        add_gaussian(image, bx + p[0], by + p[1], gaussian_sigma, value)
                    else:
                        add_disc(image, bx + p[0], by + p[1], disc_radius, value)
                    corrected = equal_area * ideal if ellipticity else p
                    discs.append([w / 2 + corrected[0], w / 2 + corrected[1]])
            interior = all(grain(jx, jy) == g for jx in range(max(0, ix - 1), min(nx, ix + 2))
                           for jy in range(max(0, iy - 1), min(ny, iy + 2)))
            truth.append({"scan": [ix, iy], "discs": discs, "interior": interior})
            counts = rng.poisson(image)
            for _ in range(hits):  # X-ray / cosmic-ray hits: single pixels of 2000 counts anywhere
                counts[rng.integers(0, w), rng.integers(0, w)] += 2000
            data[iy, ix] = counts.astype(np.uint16)
    with h5py.File(path, "w") as f:
        f.create_dataset("data", data=data, chunks=(1, 1, w, w))
    with open(path + ".json", "w") as f:
        json.dump({"width": w, "disc_radius": disc_radius, "truth": truth,
                   "ellipse": {"ratio": (1 + ellipticity / 2) / (1 - ellipticity / 2), "angle": ellipse_angle}
                   if ellipticity else None}, f)


def compare(path, registered, rms_limit=0.1):
    with open(path + ".json") as f:
        t = json.load(f)
    w = t["width"]
    with h5py.File(registered, "r") as f:
        s = f["registration/spots"]
        x, y = s["x"][...], s["y"][...]
        offset, count = s["index_offset"][...], s["index_count"][...]
        stored = dict(f["registration/ellipse"].attrs) if "registration/ellipse" in f else {}
    ellipse_ok = True
    if t.get("ellipse"):
        ratio, angle = t["ellipse"]["ratio"], t["ellipse"]["angle"]
        found_ratio, found_angle = float(stored.get("axis_ratio", 1)), float(stored.get("angle_radians", 0))
        turn = (found_angle - angle + np.pi / 2) % np.pi - np.pi / 2  # axes: modulo pi
        ellipse_ok = int(stored.get("applied", 0)) == 1 and abs(found_ratio / ratio - 1) < 0.005 and abs(turn) < 0.1
        print(f"ellipse: axis ratio {found_ratio:.4f} (true {ratio:.4f}), angle {found_angle:.3f} rad (true {angle:.3f})")
    errors, beam, missed, spurious, total = [], [], 0, 0, 0
    for e in t["truth"]:
        if not e["interior"]:
            continue
        ix, iy = e["scan"]
        o, c = int(offset[iy, ix]), int(count[iy, ix])
        px, py = x[o:o + c], y[o:o + c]
        total += len(e["discs"])
        if c == 0:
            missed += len(e["discs"])
            beam.append(np.inf)
            continue
        beam.append(float(np.hypot(px[0] - w / 2, py[0] - w / 2)))
        used = {0}
        for tx, ty in e["discs"]:
            d = np.hypot(px - tx, py - ty)
            d[list(used)] = np.inf
            j = int(np.argmin(d))
            if d[j] < 2:
                errors.append(float(d[j]))
                used.add(j)
            else:
                missed += 1
        spurious += c - len(used)
    errors = np.array(errors)
    rms = float(np.sqrt((errors ** 2).mean())) if len(errors) else np.inf
    worst = float(errors.max()) if len(errors) else np.inf
    beam_max = max(beam) if beam else np.inf
    print(f"{path}: {len(errors)} of {total} discs found ({missed} missed, {spurious} spurious) at "
          f"{len(beam)} single-grain positions; position error RMS {rms:.3f} px, max {worst:.3f} px; direct beam "
          f"at most {beam_max:.3f} px from the centre")
    ok = (len(beam) > 0 and spurious == 0 and missed <= 0.05 * total and rms < rms_limit and worst < 3 * rms_limit
          and beam_max < 0.05 and ellipse_ok)
    print("PASS" if ok else "FAIL")
    return ok


def options(args):
    """--name VALUE pairs as floats."""
    return {args[i].lstrip("-"): float(args[i + 1]) for i in range(0, len(args), 2)}


if __name__ == "__main__":
    if sys.argv[1] == "make":
        o = options(sys.argv[6:])
        make(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]), gaussian_sigma=o.get("gaussian"),
             ring=o.get("ring", 0.0), ellipticity=o.get("ellipticity", 0.0), ellipse_angle=o.get("angle", 0.0),
             hits=int(o.get("hits", 0)))
    else:
        o = options(sys.argv[4:])
        sys.exit(0 if compare(sys.argv[2], sys.argv[3], rms_limit=o.get("rms", 0.1)) else 1)
