"""Writes the same patterns in every format the readers benchmark compares (random counts, fixed seed):
raw uint16 / uint8 / float32 (the raw reader's reference files), Merlin U16 (+.hdr), DM4 uint16,
ASTAR blockfile (uint8), EMPAD (float32, 128 x 130 frames) and 8-bit BMP / 16-bit TIFF sequences.
usage: python make_inputs.py OUT_DIR SCAN_ROWS SCAN_COLS SIDE"""
import os
import struct
import sys

import numpy as np

out, rows, cols, side = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(1)
n = rows * cols
u16 = rng.integers(0, 4000, size=(n, side, side), dtype=np.uint16)
u8 = (u16 % 256).astype(np.uint8)

u16.astype("<u2").tofile(f"{out}/ref_u16.raw")
u8.tofile(f"{out}/ref_u8.raw")

# Merlin: 384-byte header + big-endian frame.
fields = ["MQ1", "000001", "00384", "01", f"{side:04d}", f"{side:04d}", "U16", "   1x1", "01",
          "2020-05-18 16:51:49.971626", "0.000555", "0", "0", "0"] + ["1.2E+1"] * 8 + ["3RX"] + ["100"] * 27 + \
         ["MQ1A", "2020-05-18T14:51:49.971626178Z", "555000ns", "12", ""]
head = ",".join(fields).encode()
head += b"\0" * (384 - len(head))
frames = np.empty((n, 384 + 2 * side * side), dtype=np.uint8)
frames[:, :384] = np.frombuffer(head, dtype=np.uint8)
frames[:, 384:] = u16.astype(">u2").reshape(n, -1).view(np.uint8)
frames.tofile(f"{out}/scan.mib")
with open(f"{out}/scan.hdr", "w") as f:
    f.write(f"HDR,\t\nFrames in Acquisition (Number):\t{n}\nFrames per Trigger (Number):\t{cols}\nEnd\t\n")

# Blockfile: header, navigator, 6-byte record headers.
off1 = 0x1000
off2 = off1 + n
off2 += off2 % 16
header = b"IMGBLO" + struct.pack("<HIIIHHHHHddIHId", 0x0102, off1, off2, 131141, side, 0, cols, rows, 0, 1.0, 1.0,
                                 200000, 100, 1000, 25570.0) + struct.pack("<22d", *([0.0] * 22))
with open(f"{out}/scan.blo", "wb") as f:
    f.write(header + b"\0" * (off2 - len(header)))
    rec = np.empty((n, 6 + side * side), dtype=np.uint8)
    rec[:, 0:2] = np.frombuffer(struct.pack("<H", 0x55AA), dtype=np.uint8)
    rec[:, 2:6] = np.arange(n, dtype="<u4").view(np.uint8).reshape(n, 4)
    rec[:, 6:] = u8.reshape(n, -1)
    rec.tofile(f)

# EMPAD: 128 x 130 float32 frames; its reference is raw float32 with the same 130-row stride.
e = np.zeros((n, 130, 128), dtype="<f4")
e[:, :128, :] = u16[:, :128, :128] if side >= 128 else 0
e.tofile(f"{out}/scan_x{cols}_y{rows}.raw")
with open(f"{out}/empad.xml", "w") as f:
    f.write(f'<root><raw_file filename="scan_x{cols}_y{rows}.raw"/><pix_x>{cols}</pix_x><pix_y>{rows}</pix_y></root>')


# DM4: one 4D uint16 image.
def dm4(dims, payload):
    q = lambda v: struct.pack(">Q", v)  # noqa: E731
    name = lambda s: struct.pack(">H", len(s)) + s.encode()  # noqa: E731

    def group(nm, children):
        body = bytes([0, 1]) + q(len(children)) + b"".join(children)
        return bytes([20]) + name(nm) + q(len(body)) + body

    def data(nm, info, pl):
        body = b"%%%%" + q(len(info)) + b"".join(q(i) for i in info) + pl
        return bytes([21]) + name(nm) + q(len(body)) + body

    i32 = lambda nm, v: data(nm, [3], struct.pack("<i", v))  # noqa: E731
    image = group("", [group("ImageData", [data("Data", [20, 4, len(payload) // 2], payload), i32("DataType", 10),
                                           group("Dimensions", [i32("", d) for d in dims])])])
    root = bytes([0, 1]) + q(1) + group("ImageList", [image])
    return struct.pack(">I", 4) + q(len(root) + 16) + struct.pack(">I", 1) + root


with open(f"{out}/scan.dm4", "wb") as f:
    f.write(dm4([side, side, cols, rows], u16.astype("<u2").tobytes()))


# Image sequences: 8-bit BMP (grey palette) and 16-bit baseline TIFF, one file per pattern.
def bmp8(a):
    h, w = a.shape
    stride = (w + 3) // 4 * 4
    offset = 54 + 1024
    hdr = b"BM" + struct.pack("<IHHI", offset + stride * h, 0, 0, offset)
    hdr += struct.pack("<IiiHHIIiiII", 40, w, h, 1, 8, 0, stride * h, 2835, 2835, 256, 0)
    hdr += b"".join(bytes([i, i, i, 0]) for i in range(256))
    rows_ = np.zeros((h, stride), dtype=np.uint8)
    rows_[:, :w] = a[::-1]
    return hdr + rows_.tobytes()


def tiff16(a):
    h, w = a.shape
    nbytes = a.size * 2
    entries = [(256, 4, w), (257, 4, h), (258, 3, 16), (259, 3, 1), (262, 3, 1), (273, 4, 8), (277, 3, 1),
               (278, 4, h), (279, 4, nbytes)]
    body = b"II*\0" + struct.pack("<I", 8 + nbytes) + a.astype("<u2").tobytes() + struct.pack("<H", len(entries))
    for tag, typ, v in entries:
        body += struct.pack("<HHII", tag, typ, 1, v)
    return body + struct.pack("<I", 0)


for kind in ["bmp", "tif"]:
    os.makedirs(f"{out}/{kind}", exist_ok=True)
for i in range(n):
    with open(f"{out}/bmp/p{i:06d}.bmp", "wb") as f:
        f.write(bmp8(u8[i]))
    with open(f"{out}/tif/p{i:06d}.tif", "wb") as f:
        f.write(tiff16(u16[i]))
print(f"inputs: {n} patterns of {side} x {side} in {out}")
