"""Peer for bench/registration/run.sh: scikit-image peak finding on the same patterns, one core.

Times `skimage.feature.peak_local_max` (the peak finding alone, no background, refinement or
reconstruction) over every pattern of an HDF5 dataset, after loading the patterns into memory, and
prints patterns/s. Threshold: the larger of 5 % of the pattern's range above its minimum (peak_local_max's
`threshold_rel` idea) and stemrun's rule (3 grey levels of the range, or the corner noise), so that the
peer keeps the Bragg spots and not every noise maximum of the diffuse background.
"""
import sys
import time

import h5py
import numpy as np
from skimage.feature import peak_local_max

path, dataset = sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "data"
with h5py.File(path, "r") as f:
    data = f[dataset][...]
patterns = data.reshape(-1, data.shape[-2], data.shape[-1]).astype(np.float32)
n, h, w = patterns.shape
yy, xx = np.mgrid[0:h, 0:w]
corners = (xx + 0.5 - w / 2) ** 2 + (yy + 0.5 - h / 2) ** 2 > (min(h, w) / 2) ** 2
start = time.perf_counter()
cpu0 = time.process_time()
total = 0
for p in patterns:
    span = float(p.max()) - float(p.min())
    threshold = max(0.05 * span, 3 * span / 255, float(p[corners].std()))
    peaks = peak_local_max(p, min_distance=2, threshold_abs=float(p.min()) + threshold, exclude_border=True,
                           num_peaks=150)
    total += len(peaks)
seconds = time.perf_counter() - start
cpu = time.process_time() - cpu0
print(f"peer skimage.peak_local_max: {n} patterns of {h}x{w} in {seconds:.3f} s: {n / seconds:.1f} patterns/s on 1 core "
      f"({total / n:.1f} peaks per pattern); {n / cpu:.1f} patterns per CPU second")
