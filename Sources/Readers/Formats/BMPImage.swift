import STEMCore

/// Windows bitmap (`.bmp`) patterns: 8-bit with a grey palette, or 16-bit grey stored as `BI_BITFIELDS`
/// with all three masks 0xFFFF (the form `BMPSequenceWriter` writes). Rows are bottom-up unless the height
/// is negative; each row is padded to 4 bytes.
public enum BMPImage {
    public static let magic: [UInt8] = [0x42, 0x4D]

    /// Parses the headers of a BMP file held in `bytes` (at least the headers and palette) of total `length`.
    public static func parse(_ bytes: [UInt8], path: String, length: Int? = nil) throws -> RasterImage {
        let fileLength = length ?? bytes.count
        var r = ByteReader(bytes, path: path, fileLength: fileLength)
        guard Array(try r.take(2)) == magic else {
            throw STEMError.field(path, "signature", at: 0, expected: "'BM'", found: printable(bytes.prefix(2)))
        }
        try r.skip(8)
        let dataOffset = Int(try r.uint32(.little))
        let dibSize = Int(try r.uint32(.little))
        guard dibSize >= 40, dibSize <= 1024 else {
            throw STEMError.field(path, "DIB header size", at: 14, expected: "40...1024 (BITMAPINFOHEADER or later)", found: "\(dibSize)")
        }
        let width = Int(Int32(bitPattern: try r.uint32(.little)))
        let rawHeight = Int(Int32(bitPattern: try r.uint32(.little)))
        try r.skip(2)
        let bpp = Int(try r.uint16(.little))
        let compression = try r.uint32(.little)
        try r.skip(12)
        let colorsUsed = Int(try r.uint32(.little))
        guard width > 0, width <= 1 << 16, rawHeight != 0, abs(rawHeight) <= 1 << 16 else {
            throw STEMError.field(path, "width, height", at: 18, expected: "1...65536 pixels", found: "\(width) x \(rawHeight)")
        }
        let height = abs(rawHeight)
        var type = ElementType.uint8
        var palette: [Float]?
        switch (bpp, compression) {
        case (8, 0):
            let entries = colorsUsed == 0 ? 256 : colorsUsed
            guard entries <= 256 else { throw STEMError.field(path, "colours used", at: 46, expected: "<= 256", found: "\(entries)") }
            try r.seek(to: 14 + dibSize)
            var grey = [Float](repeating: 0, count: 256)
            var identity = entries == 256
            for i in 0 ..< entries {
                let v = try r.uint32(.little)
                let (b, g, red) = (v & 0xFF, (v >> 8) & 0xFF, (v >> 16) & 0xFF)
                guard b == g, g == red else {
                    throw STEMError.unsupportedType(path: path, field: "palette entry \(i)", type: "colour (B,G,R) = (\(b),\(g),\(red)); stemrun reads grey patterns")
                }
                grey[i] = Float(red)
                identity = identity && red == i
            }
            palette = identity ? nil : grey  // an identity grey palette: the indices are the values
        case (16, 3):
            try r.seek(to: 14 + 40)
            let masks = (try r.uint32(.little), try r.uint32(.little), try r.uint32(.little))
            guard masks == (0xFFFF, 0xFFFF, 0xFFFF) else {
                throw STEMError.unsupportedType(path: path, field: "16-bit bit fields", type: "colour masks \(masks); stemrun reads 16-bit grey (masks 0xFFFF)")
            }
            type = .uint16
        default:
            throw STEMError.unsupportedType(path: path, field: "bits per pixel / compression", type: "\(bpp) bits, compression \(compression); stemrun reads 8-bit palette or 16-bit grey BMP")
        }
        let stride = (bpp * width + 31) / 32 * 4
        guard dataOffset >= 14 + dibSize, let size = checkedProduct(stride, height), dataOffset <= fileLength, size <= fileLength - dataOffset else {
            throw STEMError.truncated(path: path, offset: dataOffset, needed: stride * height, available: fileLength)
        }
        let rows = (0 ..< height).map { dataOffset + (rawHeight > 0 ? height - 1 - $0 : $0) * stride }
        return RasterImage(detector: DetectorShape(rows: height, columns: width), elementType: type, byteOrder: .little,
                           rowOffsets: rows, palette: palette)
    }

    /// Encodes one pattern as an 8-bit (grey palette) or 16-bit grey BMP, top row first in the image.
    public static func encode(_ pattern: UnsafeBufferPointer<Float>, detector: DetectorShape, bitDepth: Int,
                              scaling: IntensityScaling) -> [UInt8] {
        let w = detector.columns, h = detector.rows
        let stride = (bitDepth * w + 31) / 32 * 4
        let headerBytes = 14 + 40 + (bitDepth == 8 ? 1024 : 12)
        var out = [UInt8](repeating: 0, count: headerBytes + stride * h)
        func put32(_ v: Int, at i: Int) { for k in 0 ..< 4 { out[i + k] = UInt8(truncatingIfNeeded: v >> (8 * k)) } }
        func put16(_ v: Int, at i: Int) { for k in 0 ..< 2 { out[i + k] = UInt8(truncatingIfNeeded: v >> (8 * k)) } }
        out[0] = 0x42; out[1] = 0x4D
        put32(out.count, at: 2); put32(headerBytes, at: 10)
        put32(40, at: 14); put32(w, at: 18); put32(h, at: 22); put16(1, at: 26); put16(bitDepth, at: 28)
        put32(bitDepth == 8 ? 0 : 3, at: 30); put32(stride * h, at: 34)
        put32(2835, at: 38); put32(2835, at: 42)
        if bitDepth == 8 {
            put32(256, at: 46)
            for i in 0 ..< 256 { out[54 + 4 * i] = UInt8(i); out[55 + 4 * i] = UInt8(i); out[56 + 4 * i] = UInt8(i) }
        } else {
            put32(0xFFFF, at: 54); put32(0xFFFF, at: 58); put32(0xFFFF, at: 62)
        }
        let maximum: Float = bitDepth == 8 ? 255 : 65535
        for r in 0 ..< h {
            let dst = headerBytes + (h - 1 - r) * stride
            for c in 0 ..< w {
                let q = Int(scaling.quantize(pattern[r * w + c], maximum: maximum))
                if bitDepth == 8 { out[dst + c] = UInt8(q) } else { out[dst + 2 * c] = UInt8(q & 0xFF); out[dst + 2 * c + 1] = UInt8(q >> 8) }
            }
        }
        return out
    }
}
