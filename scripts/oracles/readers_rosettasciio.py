"""Compares stemrun's readers (through readers-dump) with rosettasciio on files written by other
software (hyperspy 1.7.6's test files: ASTAR blockfiles, DigitalMicrograph stacks, EMPAD XML) and on
files generated here for formats with no public sample (Merlin MIB, EMPAD raw data, BMP/TIFF/PNG
sequences). Also reads stemrun's BlockfileWriter and BMPSequenceWriter output back with rosettasciio.
usage: python readers_rosettasciio.py DUMP_BINARY HYPERSPY_TESTS_IO_DIR WORK_DIR"""
import os
import subprocess
import sys
import warnings

import numpy as np

warnings.filterwarnings("ignore")
dump, io_dir, work = sys.argv[1:4]
results = []


def stemrun(path, *extra):
    out = os.path.join(work, "dump.bin")
    proc = subprocess.run([dump, path, out, *extra], capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(proc.stdout + proc.stderr)
    info = dict(kv.split("=") for kv in proc.stdout.split())
    rows, cols = map(int, info["scan"].split("x"))
    drows, dcols = map(int, info["detector"].split("x"))
    data = np.fromfile(out, dtype="<f4").reshape(rows, cols, drows, dcols)
    return data, info


def check(name, expected, path, *extra, scan=None):
    """expected: array (rows, cols, kr, kc) or (n, kr, kc) from the peer."""
    try:
        got, info = stemrun(path, *extra)
        exp = np.asarray(expected)
        if exp.ndim == 3:
            exp = exp[np.newaxis]
        if exp.ndim == 2:
            exp = exp[np.newaxis, np.newaxis]
        ok = got.shape == exp.shape and np.array_equal(got, exp.astype(np.float32))
        if scan is not None:
            ok = ok and got.shape[:2] == scan
        detail = f"stemrun {got.shape} {info['type']}, peer {exp.shape} {exp.dtype}"
        if got.shape == exp.shape and not ok:
            detail += f", max |diff| {np.max(np.abs(got - exp.astype(np.float32)))}"
    except Exception as e:  # noqa: BLE001
        ok, detail = False, f"error: {e}"
    results.append(ok)
    print(f"{'PASS' if ok else 'FAIL'} {name}: {detail}")


# --- real files written by other software -------------------------------------------------------
from rsciio.blockfile import file_reader as read_blo  # noqa: E402
from rsciio.digitalmicrograph import file_reader as read_dm  # noqa: E402

for name in ["test1.blo", "test2.blo"]:
    path = os.path.join(io_dir, "blockfile_data", name)
    d = read_blo(path)[0]["data"]
    check(f"ASTAR blockfile {name} (rosettasciio)", d, path, scan=d.shape[:2])
    # The writer: stemrun re-exports the patterns, rosettasciio reads the new blockfile.
    out = os.path.join(work, "export_" + name)
    bmp_dir = os.path.join(work, "bmp_" + name)
    stemrun(path, "--write-blo", out, "--write-bmp", bmp_dir)
    e = read_blo(out)[0]["data"]
    ok = np.array_equal(e, d)
    results.append(ok)
    print(f"{'PASS' if ok else 'FAIL'} BlockfileWriter -> rosettasciio ({name}): {e.shape} vs {d.shape}")
    from rsciio.image import file_reader as read_image  # noqa: E402
    files = sorted(os.listdir(bmp_dir))
    frames = np.stack([read_image(os.path.join(bmp_dir, f))[0]["data"] for f in files])
    ok = np.array_equal(frames.reshape(d.shape), d)
    results.append(ok)
    print(f"{'PASS' if ok else 'FAIL'} BMPSequenceWriter -> rosettasciio image reader ({name}): {len(files)} files")

dm_types = ["1", "2", "6", "7", "9", "10", "11", "12", "14"]
for folder, ext in [("dm4_3D_data", "dm4"), ("dm3_3D_data", "dm3"), ("dm4_2D_data", "dm4"), ("dm3_2D_data", "dm3")]:
    for t in dm_types:
        path = os.path.join(io_dir, folder, f"test-{t}.{ext}")
        if not os.path.exists(path):
            continue
        d = read_dm(path)[0]["data"]
        check(f"DigitalMicrograph {folder}/test-{t}.{ext} (rosettasciio)", d, path)
path = os.path.join(io_dir, "dm_stackbuilder_plugin", "test_stackbuilder_imagestack.dm3")
if os.path.exists(path):
    check("DigitalMicrograph stack-builder stack (rosettasciio)", read_dm(path)[0]["data"], path)

# A folder of single-pattern DM files, in natural order (2.dm4 before 10.dm4).
dm_dir = os.path.join(work, "dm_folder")
os.makedirs(dm_dir, exist_ok=True)
src2d = [os.path.join(io_dir, "dm4_2D_data", f"test-{t}.dm4") for t in ["1", "7", "10"]]
for k, p in enumerate(src2d):
    os.symlink(os.path.abspath(p), os.path.join(dm_dir, f"frame{[2, 10, 33][k]}.dm4"))
stack = np.stack([read_dm(p)[0]["data"] for p in src2d]).astype(np.float64)
check("folder of .dm4 frames (rosettasciio per file)", stack, dm_dir)

# --- EMPAD: real XML files, raw data generated here -----------------------------------------------
from rsciio.empad import file_reader as read_empad  # noqa: E402

rng = np.random.default_rng(7)
for xml in ["map4x4.xml", "stack_images.xml"]:
    src = os.path.join(io_dir, "empad_data", xml)
    text = open(src).read()
    dst = os.path.join(work, xml)
    open(dst, "w").write(text)
    import re
    raw_name = re.search(r'raw_file filename="([^"]+)"', text).group(1)
    m_series = re.search(r"<series_count>(\d+)</series_count>", text)
    n = int(m_series.group(1)) if m_series else int(re.search(r"<pix_x>(\d+)", text).group(1)) * int(re.search(r"<pix_y>(\d+)", text).group(1))
    frames = rng.normal(100, 30, size=(n, 130, 128)).astype("<f4")
    frames.tofile(os.path.join(work, raw_name))
    d = read_empad(dst)[0]["data"]
    check(f"EMPAD {xml} + generated raw (rosettasciio)", d.reshape((-1,) + d.shape[-2:]) if m_series else d, dst)

# --- Merlin MIB: generated (processed U08/U16/U32, single chip, with .hdr) -------------------------
from rsciio.quantumdetector import file_reader as read_mib  # noqa: E402


def mib_header(seq, dtype_name, w, h, chips=1, depth=12, size=384):
    fields = ["MQ1", f"{seq:06d}", f"{size:05d}", f"{chips:02d}", f"{w:04d}", f"{h:04d}", dtype_name, "   1x1", "01",
              "2020-05-18 16:51:49.971626", "0.000555", "0", "0", "0"] + ["1.200000E+1"] * 8 + ["3RX"] + ["100"] * 27 + \
             ["MQ1A", "2020-05-18T14:51:49.971626178Z", "555000ns", str(depth), ""]
    s = ",".join(fields).encode()
    return s + b"\0" * (size - len(s))


for dtype_name, np_type, depth in [("U08", ">u1", 6), ("U16", ">u2", 12), ("U32", ">u4", 24)]:
    rows, cols, h, w = 3, 4, 24, 32
    data = rng.integers(0, 200 if depth == 6 else 4000, size=(rows * cols, h, w)).astype(np_type)
    path = os.path.join(work, f"scan_{dtype_name}.mib")
    with open(path, "wb") as f:
        for i in range(rows * cols):
            f.write(mib_header(i + 1, dtype_name, w, h, depth=depth))
            f.write(data[i].tobytes())
    with open(path[:-4] + ".hdr", "w") as f:
        f.write("HDR,\t\nFrames in Acquisition (Number):\t12\nFrames per Trigger (Number):\t4\nEnd\t\n")
    d = read_mib(path)[0]["data"]
    check(f"Merlin MIB {dtype_name} with .hdr (rosettasciio)", d, path, scan=(rows, cols))

# --- image sequences generated with Pillow / tifffile ----------------------------------------------
from PIL import Image  # noqa: E402
import tifffile  # noqa: E402

for kind, dtype in [("png", np.uint8), ("png", np.uint16), ("tif", np.uint8), ("tif", np.uint16), ("tif", np.float32), ("bmp", np.uint8)]:
    folder = os.path.join(work, f"seq_{kind}_{np.dtype(dtype).name}")
    os.makedirs(folder, exist_ok=True)
    frames = (rng.integers(0, 255 if dtype == np.uint8 else 60000, size=(6, 12, 20))).astype(dtype)
    for i, fr in enumerate(frames):
        name = os.path.join(folder, f"p{i + 1}.{kind}")  # natural order: p2 before p10
        if kind == "tif":
            tifffile.imwrite(name, fr)
        elif dtype == np.uint16:
            Image.fromarray(fr.astype(np.uint16)).save(name)
        else:
            Image.fromarray(fr).save(name)
    from rsciio.image import file_reader as read_image  # noqa: E402
    from rsciio.tiff import file_reader as read_tiff  # noqa: E402
    peer = np.stack([(read_tiff if kind == "tif" else read_image)(os.path.join(folder, f"p{i + 1}.{kind}"))[0]["data"]
                     for i in range(6)])
    check(f"{kind.upper()} sequence {np.dtype(dtype).name} (rosettasciio)", peer.reshape(2, 3, 12, 20), folder, "--scan", "2x3")

print(f"readers-rosettasciio: {sum(results)} of {len(results)} comparisons passed")
sys.exit(0 if all(results) else 1)
