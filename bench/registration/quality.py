"""Quality of stemrun's reconstructions against the noise-free truth (bench/registration/quality.sh).

For every scan position: T = noise-free pattern minus its rolling-ball background (skimage, radius W/10),
i.e. the true Bragg signal. Candidates: the raw noisy pattern, the raw pattern minus its rolling-ball
background, and stemrun's reconstruction (drawn in the detector frame). Metric: Pearson correlation between
candidate and T after a Gaussian blur of sigma 1 px on both (so that a disc and a Gaussian spot at the same
place agree); mean and 10th percentile over positions. 1 = identical up to scale and offset.
"""
import sys

import h5py
import numpy as np
from scipy.ndimage import gaussian_filter
from skimage.restoration import rolling_ball

noisy_path, truth_path, reg_path, label = sys.argv[1:5]
with h5py.File(noisy_path, "r") as f:
    noisy = f["data"][...].astype(np.float32)
with h5py.File(truth_path, "r") as f:
    truth = f["data"][...].astype(np.float32)
with h5py.File(reg_path, "r") as f:
    rec = f["registration/reconstruction"][...].astype(np.float32)
h, w = noisy.shape[-2:]
noisy = noisy.reshape(-1, h, w)
truth = truth.reshape(-1, h, w)
rec = rec.reshape(-1, rec.shape[-2], rec.shape[-1])
radius = w / 10


yy, xx = np.mgrid[0:h, 0:w]


def pearson(a, b, keep):
    a = gaussian_filter(a, 1.0)[keep]
    b = gaussian_filter(b, 1.0)[keep]
    a = a - a.mean()
    b = b - b.mean()
    d = np.sqrt((a * a).sum() * (b * b).sum())
    return float((a * b).sum() / d) if d > 0 else 0.0


scores = {"raw": [], "raw minus rolling ball": [], "stemrun reconstruction": []}
for k in range(noisy.shape[0]):
    t = truth[k] - rolling_ball(truth[k], radius=radius)
    by, bx = np.unravel_index(np.argmax(gaussian_filter(truth[k], 2.0)), (h, w))
    keep = (xx - bx) ** 2 + (yy - by) ** 2 > (w / 16) ** 2
    scores["raw"].append(pearson(noisy[k], t, keep))
    scores["raw minus rolling ball"].append(pearson(noisy[k] - rolling_ball(noisy[k], radius=radius), t, keep))
    scores["stemrun reconstruction"].append(pearson(rec[k], t, keep))
for name, s in scores.items():
    s = np.array(s)
    print(f"{label}: {name:24s} Pearson r vs noise-free Bragg signal: mean {s.mean():.3f}, 10th percentile {np.percentile(s, 10):.3f}")
