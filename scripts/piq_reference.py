#!/usr/bin/env python3
"""Reference values of piq's PSNR, SSIM, MDSI and GMSD for stemrun's Factorization tests.

Run from anywhere: `python3 scripts/piq_reference.py`. The script creates (or reuses) the virtual environment
.venv-piq at the repository root, installs piq and torch into it (about 5 GB; CPU wheels when the PyTorch index
is reachable, PyPI otherwise), re-runs itself there, generates deterministic image pairs (numpy seeded), and
writes
  Tests/FactorizationTests/Resources/piq_images.u16   the images, uint16 little-endian, value = v / 65535
  Tests/FactorizationTests/Resources/piq_reference.json   shapes, offsets and piq's metric values
Metrics are computed in float64 with piq's defaults and data_range = 1, on (1, 1, H, W) tensors.
"""
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV = os.path.join(ROOT, ".venv-piq")
OUT = os.path.join(ROOT, "Tests", "FactorizationTests", "Resources")


def ensure_venv():
    python = os.path.join(VENV, "bin", "python")
    if os.path.abspath(sys.prefix) == os.path.abspath(VENV):
        return
    if not os.path.exists(python):
        subprocess.check_call([sys.executable, "-m", "venv", VENV])
    probe = subprocess.run([python, "-c", "import piq, torch, numpy"], capture_output=True)
    if probe.returncode != 0:
        pip = [python, "-m", "pip", "install", "-q"]
        cpu = subprocess.run(pip + ["torch", "--index-url", "https://download.pytorch.org/whl/cpu"])
        if cpu.returncode != 0:
            subprocess.check_call(pip + ["torch"])
        subprocess.check_call(pip + ["piq", "numpy"])
    os.execv(python, [python, os.path.abspath(__file__)] + sys.argv[1:])


def images():
    """Deterministic pairs: smooth blobs, Bragg-like spot patterns, noise, shifts, blur, odd and large sizes."""
    import numpy as np

    rng = np.random.RandomState(20250306)

    def blobs(h, w, count, seed):
        r = np.random.RandomState(seed)
        yy, xx = np.mgrid[0:h, 0:w]
        img = np.zeros((h, w))
        for _ in range(count):
            cy, cx = r.uniform(0, h), r.uniform(0, w)
            s = r.uniform(2, max(3, min(h, w) / 6))
            img += r.uniform(0.2, 1.0) * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * s * s))
        return img / img.max()

    def spots(h, w, seed, spacing=12.0, angle=0.3, sigma=1.5):
        r = np.random.RandomState(seed)
        yy, xx = np.mgrid[0:h, 0:w]
        img = 0.9 * np.exp(-((yy - h / 2) ** 2 + (xx - w / 2) ** 2) / (2 * 3.0 ** 2))
        c, s = np.cos(angle), np.sin(angle)
        for i in range(-8, 9):
            for j in range(-8, 9):
                if i == 0 and j == 0:
                    continue
                py = h / 2 + spacing * (i * c - j * s)
                px = w / 2 + spacing * (i * s + j * c)
                if 0 <= py < h and 0 <= px < w:
                    amp = r.uniform(0.05, 0.4) * np.exp(-(i * i + j * j) / 40.0)
                    img += amp * np.exp(-((yy - py) ** 2 + (xx - px) ** 2) / (2 * sigma ** 2))
        return np.clip(img, 0, 1)

    def noisy(img, level):
        return np.clip(img + level * rng.standard_normal(img.shape), 0, 1)

    def blur(img):
        k = np.array([1, 4, 6, 4, 1], float) / 16
        out = np.apply_along_axis(lambda v: np.convolve(v, k, mode="same"), 0, img)
        return np.apply_along_axis(lambda v: np.convolve(v, k, mode="same"), 1, out)

    a = blobs(64, 64, 6, 1)
    pairs = [
        ("blobs64_noise", a, noisy(a, 0.05)),
        ("blobs64_shift", a, np.roll(a, (2, -3), axis=(0, 1))),
        ("spots128_noise", spots(128, 128, 2), noisy(spots(128, 128, 2), 0.03)),
        ("spots128_rotated", spots(128, 128, 3), spots(128, 128, 3, angle=0.36)),
        ("blobs127x129_blur", blobs(127, 129, 9, 4), blur(blobs(127, 129, 9, 4))),
        ("uniform99x77", rng.uniform(size=(99, 77)), rng.uniform(size=(99, 77))),
        ("spots384_noise", spots(384, 384, 5, spacing=30, sigma=3), noisy(spots(384, 384, 5, spacing=30, sigma=3), 0.02)),
        ("identical64", a, a.copy()),
    ]
    # Quantise to 16 bits so that the committed file reproduces the images exactly.
    return [(name, np.round(x * 65535) / 65535, np.round(y * 65535) / 65535) for name, x, y in pairs]


def main():
    ensure_venv()
    import numpy as np
    import piq
    import torch

    os.makedirs(OUT, exist_ok=True)
    records, blob, offset = [], [], 0
    for name, x, y in images():
        tx = torch.from_numpy(x).to(torch.float64)[None, None]
        ty = torch.from_numpy(y).to(torch.float64)[None, None]
        values = {
            "psnr": float(piq.psnr(tx, ty, data_range=1.0)),
            "ssim": float(piq.ssim(tx, ty, data_range=1.0)),
            "mdsi": float(piq.mdsi(tx, ty, data_range=1.0)),
            "gmsd": float(piq.gmsd(tx, ty, data_range=1.0)),
        }
        h, w = x.shape
        for img in (x, y):
            blob.append(np.round(img * 65535).astype("<u2").tobytes())
        records.append({"name": name, "rows": h, "columns": w, "offset_x": offset, "offset_y": offset + h * w,
                        "metrics": values})
        offset += 2 * h * w
        print(f"{name:20s} " + " ".join(f"{k}={v:.6f}" for k, v in values.items()))
    with open(os.path.join(OUT, "piq_images.u16"), "wb") as f:
        f.write(b"".join(blob))
    with open(os.path.join(OUT, "piq_reference.json"), "w") as f:
        json.dump({"generator": "scripts/piq_reference.py", "piq_version": piq.__version__,
                   "torch_version": torch.__version__, "dtype": "float64", "data_range": 1.0,
                   "image_file": "piq_images.u16", "image_encoding": "uint16 little-endian, value / 65535, row-major",
                   "pairs": records}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
