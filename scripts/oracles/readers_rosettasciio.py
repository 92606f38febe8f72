"""Compares stemrun's readers (`stemrun info` and `mpirun -np 3 stemrun export --to npy`) with rosettasciio on files written by other
software (hyperspy 1.7.6's test files: ASTAR blockfiles, DigitalMicrograph stacks, EMPAD XML) and on
files generated here for formats with no public sample (Merlin MIB, EMPAD raw data, BMP/TIFF/PNG
sequences). Also reads stemrun's BlockfileWriter and BMPSequenceWriter output back with rosettasciio.
usage: python readers_rosettasciio.py STEMRUN_BINARY HYPERSPY_TESTS_IO_DIR WORK_DIR"""
import os
import subprocess
import sys
import warnings

import numpy as np

warnings.filterwarnings("ignore")
binary, io_dir, work = sys.argv[1:4]
env = {k: v for k, v in os.environ.items() if not k.startswith(("OMPI_", "PMIX_", "ORTE_", "OPAL_"))}
env.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", OMPI_MCA_rmaps_base_oversubscribe="1",
           OMPI_MCA_btl_vader_single_copy_mechanism="none", OPENBLAS_NUM_THREADS="1")
results = []


def run(args, ranks=None):
    cmd = (["mpirun", "-np", str(ranks)] if ranks else []) + [binary] + args
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        raise RuntimeError(proc.stdout + proc.stderr)
    return proc.stdout


def stemrun(path, *extra, ranks=3):
    """stemrun's view of a file: `stemrun info`, then every pattern via `stemrun export --to npy` on 3 ranks."""
    info = dict((k.strip(), v.strip()) for k, v in (line.split(":", 1) for line in run(["info", path, *extra]).splitlines()
                                                      if ":" in line and not line.startswith(" ")))
    out = os.path.join(work, "export.npy")
    run(["export", path, "--to", "npy", "-o", out, *extra], ranks=ranks)
    return np.load(out), {"type": info["dtype"], "format": info["format"]}


def check(name, expected, path, *extra, scan=None, ranks=3):
    """expected: array (rows, cols, kr, kc) or (n, kr, kc) from the peer."""
    try:
        got, info = stemrun(path, *extra, ranks=ranks)
        exp = np.asarray(expected)
        if exp.ndim == 3:
            exp = exp[np.newaxis]
        if exp.ndim == 2:
            exp = exp[np.newaxis, np.newaxis]
        ok = got.shape == exp.shape and np.array_equal(got, exp.astype(np.float32))
        if scan is not None:
            ok = ok and got.shape[:2] == scan
        detail = f"stemrun {info['format']} {got.shape} {info['type']}, peer {exp.shape} {exp.dtype}"
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
    run(["export", path, "--to", "blo", "-o", out], ranks=2)
    run(["export", path, "--to", "bmp", "-o", bmp_dir], ranks=3)
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
        # Tiny files: one singleton rank each (the 3-rank reads are covered by the stacks below).
        check(f"DigitalMicrograph {folder}/test-{t}.{ext} (rosettasciio)", d, path, ranks=None)
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

# --- EMD from Prismatic (HDF5): stemrun's HDF5 reader on each depth's datacube -----------------------
from rsciio.emd import file_reader as read_emd  # noqa: E402

path = os.path.join(io_dir, "emd_files", "Si100_4D.emd")
cube = read_emd(path)[0]["data"]  # (depth, R_x, R_y, Q_x, Q_y)
for depth in range(cube.shape[0]):
    dataset = f"4DSTEM_simulation/data/datacubes/CBED_array_depth{depth:04d}/datacube"
    check(f"Prismatic EMD Si100_4D.emd depth {depth} (rosettasciio)", cube[depth], path, "--dataset", dataset)

# --- Dectris Arina: master + 2 data files, bitshuffle-LZ4 (written with h5py + hdf5plugin) ------------
import h5py  # noqa: E402
import hdf5plugin  # noqa: E402
from rsciio.arina import file_reader as read_arina  # noqa: E402

arina = os.path.join(work, "arina")
os.makedirs(arina, exist_ok=True)
for dtype in (np.uint16, np.uint32):
    frames = np.random.default_rng(5).integers(0, 60000, size=(49, 24, 24)).astype(dtype)  # square: rosettasciio assumes it
    stem = os.path.join(arina, f"scan_{np.dtype(dtype).name}")
    for k, (a, b) in enumerate([(0, 30), (30, 49)]):
        with h5py.File(f"{stem}_data_{k + 1:06d}.h5", "w") as f:
            f.create_dataset("entry/data/data", data=frames[a:b], chunks=(1, 24, 24), **hdf5plugin.Bitshuffle(cname="lz4"))
    with h5py.File(f"{stem}_master.h5", "w") as f:
        f.create_group("entry/data")
        for k in range(2):
            f[f"entry/data/data_{k + 1:06d}"] = h5py.ExternalLink(os.path.basename(f"{stem}_data_{k + 1:06d}.h5"), "entry/data/data")
    d = read_arina(f"{stem}_master.h5")[0]["data"]
    check(f"Dectris Arina master + 2 bitshuffle-LZ4 data files, {np.dtype(dtype).name} (rosettasciio)", d, f"{stem}_master.h5", scan=(7, 7))

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
    check(f"{kind.upper()} sequence {np.dtype(dtype).name} (rosettasciio)", peer.reshape(2, 3, 12, 20), folder, "--scan-shape", "2x3")

print(f"readers-rosettasciio: {sum(results)} of {len(results)} comparisons passed")
sys.exit(0 if all(results) else 1)
