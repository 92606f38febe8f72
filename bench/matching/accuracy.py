"""Accuracy of an orientation map against stemrun's simulated ground truth.

accuracy.py SIM.h5 --stemrun MATCH.h5 | --pyxem RESULT.npz  [--max-angle 2]

Counts the scan positions inside grains (no boundary mixing), the fraction with the right phase, and the fraction
with the right phase and a disorientation below --max-angle degrees, symmetry-aware (proper point group 432 for
the cubic phases) and up to the Friedel twin (the 180 degree turn about the beam that kinematic patterns cannot
see; applied to every method alike). Orientations are sample-to-crystal quaternions (w, x, y, z).

pyxem's orientations live in a sample frame whose y and z axes are opposite to stemrun's (detector y up, beam along
-z): one constant change of frame, g -> g * R_x(180 deg), maps them to stemrun's frame and is applied to every
pyxem position (found once by comparing the candidate frame changes - identity, inverse, 90-degree turns about z,
180-degree turns about x, y, [110] - on a test map; no other choice is made per position).
"""
import argparse, json, sys
import numpy as np
import h5py


def qmul(a, b):
    w1, x1, y1, z1 = np.moveaxis(a, -1, 0)
    w2, x2, y2, z2 = np.moveaxis(b, -1, 0)
    return np.stack([w1 * w2 - x1 * x2 - y1 * y2 - z1 * z2, w1 * x2 + x1 * w2 + y1 * z2 - z1 * y2,
                     w1 * y2 - x1 * z2 + y1 * w2 + z1 * x2, w1 * z2 + x1 * y2 - y1 * x2 + z1 * w2], axis=-1)


def cubic_rotations():
    def axis_angle(ax, ang):
        ax = np.asarray(ax, float) / np.linalg.norm(ax)
        return np.concatenate([[np.cos(ang / 2)], np.sin(ang / 2) * ax])
    gens = [axis_angle([0, 0, 1], np.pi / 2), axis_angle([1, 1, 1], 2 * np.pi / 3)]
    group = [np.array([1.0, 0, 0, 0])]
    frontier = list(group)
    while frontier:
        nxt = []
        for a in frontier:
            for g in gens:
                p = qmul(g, a)
                if not any(abs(np.dot(p, q)) > 1 - 1e-9 for q in group):
                    group.append(p); nxt.append(p)
        frontier = nxt
    return np.array(group)


SYM = cubic_rotations()
TWIN = np.array([0.0, 0, 0, 1])


def disorientation_deg(qa, qb):
    """Symmetry-aware angle between sample->crystal orientations, up to the Friedel twin of qb."""
    best = np.zeros(qa.shape[0])
    conj = qa * np.array([1, -1, -1, -1])
    for b in (qb, qmul(qb, np.broadcast_to(TWIN, qb.shape))):
        d = qmul(b, conj)
        w = np.abs(np.einsum('sk,nk->ns', SYM * np.array([1, -1, -1, -1]), d))
        best = np.maximum(best, w.max(axis=1))
    return np.degrees(2 * np.arccos(np.clip(best, 0, 1)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('sim')
    ap.add_argument('--stemrun')
    ap.add_argument('--pyxem')
    ap.add_argument('--max-angle', type=float, default=2.0)
    ap.add_argument('--json', action='store_true')
    a = ap.parse_args()
    with h5py.File(a.sim) as f:
        g = f['ground_truth']
        grain = g['grain_id'][()].ravel()
        pure = g['secondary_grain_id'][()].ravel() < 0
        truth_q = g['grains/quaternion_wxyz'][()][grain]
        truth_phase = g['grains/phase_index'][()][grain]
    if a.stemrun:
        with h5py.File(a.stemrun) as f:
            q = f['matching/quaternion'][()].reshape(-1, 4)
            phase = f['matching/phase'][()].ravel()
    else:
        d = np.load(a.pyxem)
        q, phase = d['quaternion'], d['phase']
        q = qmul(q, np.broadcast_to(np.array([0.0, 1, 0, 0]), q.shape))   # g * R_x(180 deg)
    err = disorientation_deg(q, truth_q)
    right = (phase == truth_phase) & pure
    good = right & (err < a.max_angle)
    n = int(pure.sum())
    out = dict(positions=n, right_phase=float(right.sum() / n), within=float(good.sum() / n),
               median_error_deg=float(np.median(err[right])) if right.any() else float('nan'), max_angle=a.max_angle)
    if a.json:
        print(json.dumps(out))
    else:
        print(f"{n} grain-interior positions: right phase {100 * out['right_phase']:.1f}%, "
              f"right phase and within {a.max_angle} deg {100 * out['within']:.1f}%, median error {out['median_error_deg']:.2f} deg")


if __name__ == '__main__':
    main()
