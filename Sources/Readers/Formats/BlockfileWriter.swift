import STEMCore

/// Writes patterns as a NanoMEGAS ASTAR blockfile (`.blo`) that ASTAR, rosettasciio and this target's
/// reader open: the 240-byte header, the note, the navigator image (each pattern's mean, 8-bit) and the
/// 8-bit pattern stack with its 6-byte record headers. Patterns must be square. Blocks may be written in
/// any order and by several writers at once (`create: false` opens a file another writer created).
public final class BlockfileWriter: PatternWriter {
    public let path: String
    public let header: BlockfileHeader
    public let scaling: IntensityScaling
    let file: WritableFile

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
        self.file = try WritableFile(path: path, truncate: create)
        if create {
            var head = h.encoded()
            let note = Array(h.note.utf8.prefix(h.navigatorOffset - BlockfileHeader.byteCount))
            head += note
            head += [UInt8](repeating: 0, count: h.dataOffset - head.count)
            try file.write(at: 0, head)
            try file.resize(to: h.dataOffset + scan.count * h.frameStride)
        }
    }

    /// Writes `patterns` (pattern-major Floats of `patternSize` x `patternSize`) at scan positions from `firstIndex`.
    public func write(firstIndex: Int, patterns: UnsafeBufferPointer<Float>) throws {
        let P = header.patternSize * header.patternSize
        let count = patterns.count / P
        guard patterns.count == count * P else {
            throw STEMError.shapeMismatch(path: path, field: "pattern shape", expected: "\(header.patternSize) x \(header.patternSize) patterns",
                                          found: "\(patterns.count) values")
        }
        guard firstIndex >= 0, firstIndex + count <= header.scan.count else {
            throw STEMError.invalidParameter(name: "block", value: "\(firstIndex)..<\(firstIndex + count)", expected: "positions inside 0..<\(header.scan.count)")
        }
        if count == 0 { return }
        let stride = header.frameStride
        var records = [UInt8](repeating: 0, count: count * stride)
        var navigator = [UInt8](repeating: 0, count: count)
        records.withUnsafeMutableBufferPointer { out in
            for p in 0 ..< count {
                let r = out.baseAddress! + p * stride
                let index = UInt32(firstIndex + p)
                r[0] = 0xAA; r[1] = 0x55
                r[2] = UInt8(index & 0xFF); r[3] = UInt8((index >> 8) & 0xFF)
                r[4] = UInt8((index >> 16) & 0xFF); r[5] = UInt8(index >> 24)
                var sum = 0
                let src = patterns.baseAddress! + p * P
                for i in 0 ..< P {
                    let q = UInt8(scaling.quantize(src[i], maximum: 255))
                    r[6 + i] = q
                    sum += Int(q)
                }
                navigator[p] = UInt8((sum + P / 2) / P)
            }
        }
        try file.write(at: header.dataOffset + firstIndex * stride, records)
        try file.write(at: header.navigatorOffset + firstIndex, navigator)
    }
}
