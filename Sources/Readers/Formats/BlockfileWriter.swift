import STEMCore

/// Writes patterns as a NanoMEGAS ASTAR blockfile (`.blo`) that ASTAR, rosettasciio and this target's
/// reader open: the 240-byte header, the note, the navigator image (each pattern's mean, 8-bit) and the
/// 8-bit pattern stack with its 6-byte record headers. Patterns must be square. Blocks may be written in
/// any order and by several writers at once (`create: false` opens a file another writer created).
public final class BlockfileWriter {
    public let path: String
    public let header: BlockfileHeader
    public let scaling: IntensityScaling
    let file: OutputFile

    /// Creates (or, with `create: false`, opens) `path` for `scan` patterns of `patternSize` x `patternSize`.
    public init(path: String, scan: ScanGrid, patternSize: Int, scaling: IntensityScaling = .clip,
                header template: BlockfileHeader? = nil, create: Bool = true) throws {
        guard patternSize > 0, patternSize <= 0xFFFF, scan.rows > 0, scan.columns > 0, scan.rows <= 0xFFFF, scan.columns <= 0xFFFF else {
            throw STEMError.invalidParameter(name: "blockfile shape", value: "scan \(scan), patterns \(patternSize) x \(patternSize)",
                                             expected: "scan sides and pattern size in 1...65535")
        }
        var h = template ?? BlockfileHeader(scan: scan, patternSize: patternSize)
        let fresh = BlockfileHeader(scan: scan, patternSize: patternSize)
        h.scanRows = scan.rows; h.scanColumns = scan.columns; h.patternSize = patternSize
        h.navigatorOffset = fresh.navigatorOffset; h.dataOffset = fresh.dataOffset
        self.path = path
        self.header = h
        self.scaling = scaling
        self.file = try OutputFile(path: path, truncate: create)
        if create {
            var head = h.encoded()
            let note = Array(h.note.utf8.prefix(h.navigatorOffset - BlockfileHeader.byteCount))
            head += note
            head += [UInt8](repeating: 0, count: h.dataOffset - head.count)
            try file.write(at: 0, head)
            try file.resize(to: h.dataOffset + scan.count * h.frameStride)
        }
    }

    /// Writes the patterns of `block` (pattern-major Floats of `patternSize` x `patternSize`) at their scan positions.
    public func write(_ block: PatternBlock) throws {
        let P = header.patternSize * header.patternSize
        guard block.detector.rows == header.patternSize, block.detector.columns == header.patternSize else {
            throw STEMError.shapeMismatch(path: path, field: "pattern shape", expected: "\(header.patternSize) x \(header.patternSize)",
                                          found: "\(block.detector)")
        }
        guard block.firstIndex >= 0, block.firstIndex + block.count <= header.scan.count else {
            throw STEMError.invalidParameter(name: "block", value: "\(block.indices)", expected: "positions inside 0..<\(header.scan.count)")
        }
        if block.count == 0 { return }
        let stride = header.frameStride
        var records = [UInt8](repeating: 0, count: block.count * stride)
        var navigator = [UInt8](repeating: 0, count: block.count)
        block.pixels.withUnsafeBufferPointer { px in
            records.withUnsafeMutableBufferPointer { out in
                for p in 0 ..< block.count {
                    let r = out.baseAddress! + p * stride
                    let index = UInt32(block.firstIndex + p)
                    r[0] = 0xAA; r[1] = 0x55
                    r[2] = UInt8(index & 0xFF); r[3] = UInt8((index >> 8) & 0xFF)
                    r[4] = UInt8((index >> 16) & 0xFF); r[5] = UInt8(index >> 24)
                    var sum = 0
                    let src = px.baseAddress! + p * P
                    for i in 0 ..< P {
                        let q = UInt8(scaling.quantize(src[i], maximum: 255))
                        r[6 + i] = q
                        sum += Int(q)
                    }
                    navigator[p] = UInt8((sum + P / 2) / P)
                }
            }
        }
        try file.write(at: header.dataOffset + block.firstIndex * stride, records)
        try file.write(at: header.navigatorOffset + block.firstIndex, navigator)
    }
}
