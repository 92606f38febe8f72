"""Writes the seed corpora for the header fuzzers (valid, small files of every variant each parser
accepts), using only the Python standard library. usage: python3 make-seeds.py OUT_DIR"""
import os
import struct
import sys
import zlib  # noqa: F401  (kept for parity with other generators)

out = sys.argv[1]


def put(parser, name, data):
    d = os.path.join(out, parser)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# --- Merlin: processed and raw, single and quad --------------------------------------------------
def mib(depth_name, w, h, chips=1, layout="   1x1", counter=12, size=384):
    fields = ["MQ1", "000001", f"{size:05d}", f"{chips:02d}", f"{w:04d}", f"{h:04d}", depth_name, layout, "0F",
              "2020-05-18 16:51:49.971626", "0.000555", "0", "0", "0"] + ["1.200000E+1"] * 8 + ["3RX"] + ["100"] * 27 + \
             ["MQ1A", "2020-05-18T14:51:49.971626178Z", "555000ns", str(counter), ""]
    s = ",".join(fields).encode()
    return s + b"\0" * (size - len(s))


for name, w, h, bpp in [("U08", 8, 4, 1), ("U16", 8, 4, 2), ("U32", 8, 4, 4), ("U64", 4, 2, 8)]:
    put("merlin", f"{name}.mib", mib(name, w, h) + bytes(range(w * h * bpp % 256)) * 0 + bytes(w * h * bpp))
for counter, nbytes in [(1, 64 * 2 // 8), (6, 64 * 2), (12, 64 * 2 * 2)]:
    put("merlin", f"R{counter}.mib", mib("R64", 64, 2, counter=counter) + bytes([0x5A]) * nbytes)
    put("merlin", f"R{counter}quad.mib", mib("R64", 256, 2, chips=4, layout="   2x2", counter=counter, size=768)
        + bytes([0xA5]) * (nbytes * 4))
put("merlin", "R24.mib", mib("R64", 128, 2, counter=24) + bytes([7]) * (128 * 2 * 2))

# --- Blockfile ------------------------------------------------------------------------------------
def blo(nx, ny, dp, note=b"Precession angle : 0.5"):
    off1 = 0x1000
    off2 = off1 + nx * ny
    off2 += off2 % 16
    header = b"IMGBLO" + struct.pack("<HIIIHHHHHddIHId", 0x0102, off1, off2, 131141, dp, 0, nx, ny, 0, 1.0, 1.0,
                                     200000, 100, 1000, 25570.0) + struct.pack("<22d", *([0.0] * 22))
    body = header + note
    body += b"\0" * (off1 - len(body)) + bytes(nx * ny)
    body += b"\0" * (off2 - len(body))
    for i in range(nx * ny):
        body += struct.pack("<HI", 0x55AA, i) + bytes((i + k) % 256 for k in range(dp * dp))
    return body


put("blockfile", "2x3.blo", blo(2, 3, 4))
put("blockfile", "1x1.blo", blo(1, 1, 3, note=b""))

# --- EMPAD XML -------------------------------------------------------------------------------------
put("empad", "map.xml", b'<root name="a"><raw_file filename="scan_x4_y4.raw"/><pix_x>4</pix_x><pix_y>4</pix_y></root>')
put("empad", "stack.xml", b'<root><raw_file filename="s.raw"/><scan_parameters mode="acquire">'
    b'<series_count>10</series_count></scan_parameters></root>')
put("empad", "byname.xml", b"<root><raw_file filename='scan_x256_y128.raw'/></root>")


# --- DigitalMicrograph -----------------------------------------------------------------------------
def dm(version, dims, data_type, array_type, elsize, little=True):
    q = (lambda v: struct.pack(">Q", v)) if version == 4 else (lambda v: struct.pack(">I", v))
    name = lambda s: struct.pack(">H", len(s)) + s.encode()  # noqa: E731

    def group(n, children):
        body = bytes([0, 1]) + q(len(children)) + b"".join(children)
        return bytes([20]) + name(n) + (struct.pack(">Q", len(body)) if version == 4 else b"") + body

    def data(n, info, payload):
        body = b"%%%%" + q(len(info)) + b"".join(q(i) for i in info) + payload
        return bytes([21]) + name(n) + (struct.pack(">Q", len(body)) if version == 4 else b"") + body

    e = "<" if little else ">"
    i32 = lambda n, v: data(n, [3], struct.pack(e + "i", v))  # noqa: E731
    count = 1
    for d in dims:
        count *= d
    image = group("", [group("ImageData", [data("Data", [20, array_type, count], bytes(count * elsize)),
                                           i32("DataType", data_type),
                                           group("Dimensions", [i32("", d) for d in dims])]),
                       data("Name", [18, 4], b"test"),
                       data("Pair", [15, 0, 2, 0, 3, 0, 6], bytes(8)),
                       data("Names", [20, 18, 3, 2], bytes(3)),
                       data("Structs", [20, 15, 0, 1, 0, 2, 3], bytes(6))])
    root = bytes([0, 1]) + q(1) + group("ImageList", [image])
    return struct.pack(">I", version) + q(len(root) + 16) + struct.pack(">I", 1 if little else 0) + root


put("dm", "4d.dm4", dm(4, [3, 2, 2, 2], 10, 4, 2))
put("dm", "3d.dm3", dm(3, [2, 2, 3], 2, 6, 4))
put("dm", "2d_big_endian.dm3", dm(3, [4, 3], 7, 3, 4, little=False))


# --- BMP and TIFF ------------------------------------------------------------------------------------
def bmp(w, h, depth):
    stride = (depth * w + 31) // 32 * 4
    extra = 1024 if depth == 8 else 12
    off = 54 + extra
    head = b"BM" + struct.pack("<IHHI", off + stride * h, 0, 0, off)
    head += struct.pack("<IiiHHIIiiII", 40, w, h, 1, depth, 0 if depth == 8 else 3, stride * h, 2835, 2835,
                        256 if depth == 8 else 0, 0)
    head += b"".join(bytes([i, i, i, 0]) for i in range(256)) if depth == 8 else struct.pack("<III", 0xFFFF, 0xFFFF, 0xFFFF)
    return head + bytes(stride * h)


put("bmp", "8bit.bmp", bmp(5, 3, 8))
put("bmp", "16bit.bmp", bmp(3, 2, 16))


def tiff(w, h, bits, fmt, order="<", strips=1):
    e = order
    n = w * h * bits // 8
    rows = (h + strips - 1) // strips
    data = bytes(range(256)) * (n // 256 + 1)
    data = data[:n]
    entries = [(256, 4, 1, w), (257, 4, 1, h), (258, 3, 1, bits), (259, 3, 1, 1), (262, 3, 1, 1),
               (277, 3, 1, 1), (278, 4, 1, rows), (339, 3, 1, fmt)]
    ifd_at = 8 + n
    offsets_at = ifd_at + 2 + 12 * 10 + 4
    strip_offsets = [8 + i * rows * w * bits // 8 for i in range(strips)]
    entries.append((273, 4, strips, strip_offsets[0] if strips == 1 else offsets_at))
    entries.append((279, 4, strips, n if strips == 1 else offsets_at + 4 * strips))
    entries.sort()
    mark = b"II*\0" if e == "<" else b"MM\0*"
    out = mark + struct.pack(e + "I", ifd_at) + data + struct.pack(e + "H", len(entries))
    for tag, typ, count, value in entries:
        if typ == 3 and count == 1:
            out += struct.pack(e + "HHIHH", tag, typ, count, value, 0)
        else:
            out += struct.pack(e + "HHII", tag, typ, count, value)
    out += struct.pack(e + "I", 0)
    if strips > 1:
        out += b"".join(struct.pack(e + "I", o) for o in strip_offsets)
        out += b"".join(struct.pack(e + "I", rows * w * bits // 8) for _ in range(strips))
    return out


put("tiff", "u8.tif", tiff(4, 3, 8, 1))
put("tiff", "u16_be.tif", tiff(4, 3, 16, 1, order=">"))
put("tiff", "f32_strips.tif", tiff(4, 4, 32, 3, strips=2))
put("tiff", "i16.tif", tiff(2, 2, 16, 2))
