import STEMCore

/// The 240-byte little-endian header of a NanoMEGAS ASTAR blockfile (`.blo`), field layout as in
/// rosettasciio's `blockfile` plugin: ID "IMGBLO", magic 0x0102, offset of the navigator (virtual
/// bright-field) image, offset of the pattern stack, pattern size, scan size NX x NY, calibrations; then a
/// free-text note up to the navigator. Each pattern is stored as a 6-byte record header
/// (u16 0x55AA, u32 frame index) followed by DP_SZ x DP_SZ bytes.
public struct BlockfileHeader: Sendable, Equatable {
    public static let byteCount = 240
    public static let id: [UInt8] = Array("IMGBLO".utf8)
    public static let magic: UInt16 = 0x0102
    public static let frameMagic: UInt16 = 0x55AA
    public static let frameHeaderBytes = 6

    public var navigatorOffset: Int
    public var dataOffset: Int
    public var unknown1: UInt32 = 131141
    /// Pattern side in pixels (patterns are square).
    public var patternSize: Int
    public var patternRotation: UInt16 = 0
    /// Scan columns (NX) and rows (NY).
    public var scanColumns: Int
    public var scanRows: Int
    /// Scan rotation in 1/100 degree.
    public var scanRotation: UInt16 = 0
    /// Scan step in nm.
    public var stepX: Double = 1
    public var stepY: Double = 1
    /// Beam energy in V.
    public var beamEnergy: UInt32 = 0
    /// Diffraction pixel size, 100 * pixels per cm.
    public var sdp: UInt16 = 0
    /// Camera length in 1/10 mm.
    public var cameraLength: UInt32 = 0
    /// Acquisition time as a serial date (days since 1899-12-30).
    public var acquisitionTime: Double = 25570  // 1970-01-02, rosettasciio's default
    public var centering: [Double] = Array(repeating: 0, count: 8)
    public var distortion: [Double] = Array(repeating: 0, count: 14)
    public var note: String = ""

    public var scan: ScanGrid { ScanGrid(rows: scanRows, columns: scanColumns) }
    public var detector: DetectorShape { DetectorShape(rows: patternSize, columns: patternSize) }
    public var frameStride: Int { BlockfileHeader.frameHeaderBytes + patternSize * patternSize }

    public init(scan: ScanGrid, patternSize: Int) {
        self.scanColumns = scan.columns
        self.scanRows = scan.rows
        self.patternSize = patternSize
        self.navigatorOffset = 0x1000
        var d = 0x1000 + scan.count
        d += d % 16  // as rosettasciio's writer does ("DPs are stored at 16-bit boundary")
        self.dataOffset = d
    }

    /// Parses the header (and note) from the first bytes of a file of `fileLength` bytes, checking every
    /// offset and size against the file length.
    public static func parse(_ bytes: [UInt8], path: String, fileLength: Int) throws -> BlockfileHeader {
        var r = ByteReader(bytes, path: path, fileLength: fileLength)
        let id = Array(try r.take(6))
        guard id == BlockfileHeader.id else {
            throw STEMError.field(path, "ID", at: 0, expected: "'IMGBLO'", found: printable(id))
        }
        let magic = try r.uint16(.little)
        guard magic == BlockfileHeader.magic else {
            throw STEMError.field(path, "MAGIC", at: 6, expected: "0x0102", found: "0x" + String(magic, radix: 16))
        }
        let nav = Int(try r.uint32(.little)), data = Int(try r.uint32(.little))
        var h = BlockfileHeader(scan: ScanGrid(rows: 0, columns: 0), patternSize: 0)
        h.navigatorOffset = nav
        h.dataOffset = data
        h.unknown1 = try r.uint32(.little)
        h.patternSize = Int(try r.uint16(.little))
        h.patternRotation = try r.uint16(.little)
        h.scanColumns = Int(try r.uint16(.little))
        h.scanRows = Int(try r.uint16(.little))
        h.scanRotation = try r.uint16(.little)
        h.stepX = try r.float64(.little)
        h.stepY = try r.float64(.little)
        h.beamEnergy = try r.uint32(.little)
        h.sdp = try r.uint16(.little)
        h.cameraLength = try r.uint32(.little)
        h.acquisitionTime = try r.float64(.little)
        h.centering = try (0 ..< 8).map { _ in try r.float64(.little) }
        h.distortion = try (0 ..< 14).map { _ in try r.float64(.little) }
        guard h.patternSize > 0 else { throw STEMError.field(path, "DP_SZ", at: 20, expected: "a pattern size > 0", found: "0") }
        guard h.scanColumns > 0, h.scanRows > 0 else {
            throw STEMError.field(path, "NX, NY", at: 24, expected: "a scan size > 0", found: "\(h.scanColumns) x \(h.scanRows)")
        }
        guard nav >= byteCount, nav + h.scanRows * h.scanColumns <= fileLength else {
            throw STEMError.field(path, "Data_offset_1", at: 8, expected: "a navigator image of NX*NY = \(h.scanRows * h.scanColumns) bytes from offset >= 240 inside the \(fileLength)-byte file", found: "\(nav)")
        }
        guard data >= nav + h.scanRows * h.scanColumns else {
            throw STEMError.field(path, "Data_offset_2", at: 12, expected: "an offset after the navigator (>= \(nav + h.scanRows * h.scanColumns))", found: "\(data)")
        }
        let needed = data + h.scan.count * h.frameStride
        guard needed <= fileLength else {
            throw STEMError.shapeMismatch(path: path, field: "NX * NY * (6 + DP_SZ^2) from Data_offset_2",
                                          expected: "a file of at least \(needed) bytes for \(h.scan.count) patterns of \(h.patternSize) x \(h.patternSize)",
                                          found: "\(fileLength) bytes")
        }
        let noteEnd = min(nav, bytes.count)
        if noteEnd > byteCount {
            let raw = bytes[byteCount ..< noteEnd].prefix { $0 != 0 }
            h.note = String(raw.map { Character(UnicodeScalar($0)) })
        }
        return h
    }

    /// The 240-byte header as written to disk.
    public func encoded() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(BlockfileHeader.byteCount)
        func put<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        func putD(_ v: Double) { put(v.bitPattern) }
        out.append(contentsOf: BlockfileHeader.id)
        put(BlockfileHeader.magic)
        put(UInt32(navigatorOffset)); put(UInt32(dataOffset)); put(unknown1)
        put(UInt16(patternSize)); put(patternRotation)
        put(UInt16(scanColumns)); put(UInt16(scanRows)); put(scanRotation)
        putD(stepX); putD(stepY); put(beamEnergy); put(sdp); put(cameraLength); putD(acquisitionTime)
        for c in centering.prefix(8) { putD(c) }
        for _ in centering.count ..< 8 { putD(0) }
        for d in distortion.prefix(14) { putD(d) }
        for _ in distortion.count ..< 14 { putD(0) }
        return out
    }
}
