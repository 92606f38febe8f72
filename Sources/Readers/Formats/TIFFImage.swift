import STEMCore

/// Baseline TIFF patterns: the first image (IFD) of a classic TIFF, uncompressed, one sample per pixel,
/// stored in strips; 8/16/32-bit unsigned or signed integers or 32/64-bit floats, either byte order.
public enum TIFFImage {
    /// The tags the parser reads; others are skipped.
    static let usedTags: Set<Int> = [256, 257, 258, 259, 273, 277, 278, 279, 284, 322, 339]

    public static func isTIFF(_ head: [UInt8]) -> Bool {
        head.count >= 4 && ((head[0] == 0x49 && head[1] == 0x49 && head[2] == 42 && head[3] == 0)
            || (head[0] == 0x4D && head[1] == 0x4D && head[2] == 0 && head[3] == 42))
    }

    /// Parses the first IFD of the TIFF file `bytes` (the whole file).
    public static func parse(_ bytes: [UInt8], path: String) throws -> RasterImage {
        guard isTIFF(bytes) else {
            throw STEMError.field(path, "byte-order mark", at: 0, expected: "'II*\\0' or 'MM\\0*' (classic TIFF)", found: printable(bytes.prefix(4)))
        }
        let order: ByteOrder = bytes[0] == 0x49 ? .little : .big
        var r = ByteReader(bytes, path: path)
        try r.skip(4)
        let ifd = Int(try r.uint32(order))
        try r.seek(to: ifd)
        let entries = Int(try r.uint16(order))
        var tags: [Int: [Int]] = [:]
        for _ in 0 ..< entries {
            let entryStart = r.position
            let tag = Int(try r.uint16(order)), type = Int(try r.uint16(order)), count = Int(try r.uint32(order))
            let size: Int
            switch type {
            case 1, 2, 6, 7: size = 1
            case 3, 8: size = 2
            case 4, 9, 11: size = 4
            default: size = 8
            }
            if TIFFImage.usedTags.contains(tag) {
                guard type == 3 || type == 4 || type == 1 else {
                    throw STEMError.field(path, "TIFF tag \(tag)", at: entryStart, expected: "a BYTE, SHORT or LONG value", found: "type \(type)")
                }
                guard count >= 1, count <= bytes.count else {
                    throw STEMError.field(path, "TIFF tag \(tag) count", at: entryStart + 4, expected: "1...\(bytes.count)", found: "\(count)")
                }
                var v = ByteReader(bytes, path: path)
                if count * size <= 4 { try v.seek(to: r.position) } else { try v.seek(to: Int(try r.uint32(order))); try r.seek(to: entryStart + 8) }
                var values: [Int] = []
                values.reserveCapacity(count)
                for _ in 0 ..< count { values.append(Int(try v.unsigned(size, order))) }
                tags[tag] = values
            }
            try r.seek(to: entryStart + 12)
        }
        func one(_ tag: Int, _ name: String, default d: Int? = nil) throws -> Int {
            if let v = tags[tag]?.first { return v }
            if let d { return d }
            throw STEMError.missingField(path: path, field: "TIFF tag \(tag) (\(name))", hint: "required for a baseline image")
        }
        let width = try one(256, "ImageWidth"), height = try one(257, "ImageLength")
        let bits = try one(258, "BitsPerSample", default: 1)
        let compression = try one(259, "Compression", default: 1)
        let samples = try one(277, "SamplesPerPixel", default: 1)
        let format = try one(339, "SampleFormat", default: 1)
        guard tags[322] == nil else { throw STEMError.unsupportedType(path: path, field: "TIFF layout", type: "tiles; stemrun reads strips") }
        guard compression == 1 else { throw STEMError.unsupportedType(path: path, field: "TIFF Compression", type: "\(compression); stemrun reads uncompressed (1)") }
        guard samples == 1 else { throw STEMError.unsupportedType(path: path, field: "TIFF SamplesPerPixel", type: "\(samples) (colour); stemrun reads grey patterns") }
        guard width > 0, height > 0, width <= 1 << 16, height <= 1 << 16 else {
            throw STEMError.badFormat(path: path, location: "TIFF ImageWidth/ImageLength", expected: "1...65536 pixels", found: "\(width) x \(height)")
        }
        let type: ElementType
        switch (format, bits) {
        case (1, 8): type = .uint8
        case (1, 16): type = .uint16
        case (1, 32): type = .uint32
        case (2, 8): type = .int8
        case (2, 16): type = .int16
        case (2, 32): type = .int32
        case (3, 32): type = .float32
        case (3, 64): type = .float64
        default: throw STEMError.unsupportedType(path: path, field: "TIFF BitsPerSample/SampleFormat", type: "\(bits) bits, format \(format)")
        }
        let rowsPerStrip = min(try one(278, "RowsPerStrip", default: height), height)
        guard rowsPerStrip > 0 else { throw STEMError.badFormat(path: path, location: "TIFF RowsPerStrip", expected: "> 0", found: "0") }
        let strips = (height + rowsPerStrip - 1) / rowsPerStrip
        guard let offsets = tags[273], offsets.count >= strips else {
            throw STEMError.missingField(path: path, field: "TIFF StripOffsets", hint: "\(strips) strip offsets expected")
        }
        let rowBytes = width * type.byteSize
        guard let total = checkedProduct(rowBytes, height), total <= bytes.count else {
            throw STEMError.truncated(path: path, offset: offsets[0], needed: rowBytes * height, available: bytes.count)
        }
        let rows = (0 ..< height).map { offsets[$0 / rowsPerStrip] + ($0 % rowsPerStrip) * rowBytes }
        let image = RasterImage(detector: DetectorShape(rows: height, columns: width), elementType: type, byteOrder: order,
                                rowOffsets: rows, palette: nil)
        try image.validate(path: path, length: bytes.count)
        return image
    }

    /// Encodes one pattern as a baseline TIFF (little-endian, one strip) of `type` (uint8, uint16 or float32).
    public static func encode(_ pattern: UnsafeBufferPointer<Float>, detector: DetectorShape, type: ElementType,
                              scaling: IntensityScaling = .clip) -> [UInt8] {
        let w = detector.columns, h = detector.rows, n = w * h
        let entries: [(Int, Int, Int)] = [  // tag, type (3 short / 4 long), value
            (256, 4, w), (257, 4, h), (258, 3, type.byteSize * 8), (259, 3, 1), (262, 3, 1), (273, 4, 8),
            (277, 3, 1), (278, 4, h), (279, 4, n * type.byteSize), (339, 3, type == .float32 ? 3 : 1),
        ]
        var out: [UInt8] = [0x49, 0x49, 42, 0]
        func put(_ v: Int, _ size: Int) { for k in 0 ..< size { out.append(UInt8(truncatingIfNeeded: v >> (8 * k))) } }
        put(8 + n * type.byteSize, 4)
        for i in 0 ..< n {
            switch type {
            case .uint8: put(Int(scaling.quantize(pattern[i], maximum: 255)), 1)
            case .uint16: put(Int(scaling.quantize(pattern[i], maximum: 65535)), 2)
            default: put(Int(pattern[i].bitPattern), 4)
            }
        }
        put(entries.count, 2)
        for (tag, t, v) in entries { put(tag, 2); put(t, 2); put(1, 4); put(v, 4) }
        put(0, 4)
        return out
    }
}
