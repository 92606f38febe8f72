import STEMCore

/// The ASCII header in front of every frame of a Quantum Detectors Merlin `.mib` file:
/// `MQ1,<sequence>,<header bytes>,<chips>,<width>,<height>,<pixel depth>,<layout>,<chip select>,<time>,...`
/// and, in the extended part after `MQ1A`, `...,<timestamp>,<exposure>ns,<counter depth>,` then NUL padding.
/// Pixel depth `U08`/`U16`/`U32`/`U64` is processed data (big-endian unsigned); `R64` is raw mode, where
/// the counter depth (1, 6, 12, 24 bits) says how the chip readout is packed.
public struct MerlinHeader: Sendable, Equatable {
    public enum Encoding: Sendable, Equatable {
        /// Processed frames: big-endian unsigned integers of this type.
        case processed(ElementType)
        /// Raw chip readout with this counter depth in bits.
        case raw(counterDepth: Int)
    }

    public var sequenceNumber: Int
    public var headerBytes: Int
    public var chipCount: Int
    /// Width and height as written in the header (for raw quad data: the readout's rows and row length).
    public var headerWidth: Int
    public var headerHeight: Int
    public var pixelDepth: String
    /// Chip layout columns x rows ("1x1", "2x2", "2x2G", "Nx1").
    public var layout: (columns: Int, rows: Int)
    public var encoding: Encoding
    public var counterDepth: Int?
    public var timestamp: String?
    public var exposureNanoseconds: Double?

    public static func == (a: MerlinHeader, b: MerlinHeader) -> Bool {
        a.sequenceNumber == b.sequenceNumber && a.headerBytes == b.headerBytes && a.chipCount == b.chipCount
            && a.headerWidth == b.headerWidth && a.headerHeight == b.headerHeight && a.encoding == b.encoding
            && a.layout == b.layout
    }

    /// The largest header size accepted (real files use 384 for one chip and 768 for four).
    public static let maximumHeaderBytes = 4096

    /// True for a quad (2 x 2 chips) raw readout that needs reordering into the assembled image.
    public var isRawQuad: Bool {
        if case .raw = encoding { return chipCount > 1 && layout == (2, 2) }
        return false
    }

    /// The pattern shape after decoding.
    public var detector: DetectorShape {
        switch encoding {
        case .processed: return DetectorShape(rows: headerHeight, columns: headerWidth)
        case .raw(let depth):
            if isRawQuad { return DetectorShape(rows: 2 * headerHeight, columns: headerWidth / 2) }
            return DetectorShape(rows: headerHeight, columns: depth == 24 ? headerWidth / 2 : headerWidth)
        }
    }

    /// Bytes of pixel data after each frame header.
    public var dataBytes: Int {
        let n = headerWidth * headerHeight
        switch encoding {
        case .processed(let t): return n * t.byteSize
        case .raw(let depth):
            switch depth {
            case 1: return n / 8
            case 6: return n
            case 12: return 2 * n
            default: return 2 * n  // 24 bit: two 12-bit readouts of width/2 each
            }
        }
    }

    public var elementType: ElementType {
        switch encoding {
        case .processed(let t): return t
        case .raw(let depth): return depth <= 6 ? .uint8 : depth == 12 ? .uint16 : .uint32
        }
    }

    /// Parses a frame header from `bytes` (at least the header size, or the whole file start).
    /// Throws a `STEMError` naming the field for every malformed or unsupported value.
    public static func parse(_ bytes: [UInt8], path: String, offset: Int = 0) throws -> MerlinHeader {
        func bad(_ field: String, _ expected: String, _ found: String) -> STEMError {
            .badFormat(path: path, location: "MIB frame header at byte \(offset), field \(field)", expected: expected, found: found)
        }
        guard bytes.count >= 4, bytes[0] == 0x4D, bytes[1] == 0x51, bytes[2] == 0x31, bytes[3] == 0x2C else {
            throw bad("magic", "'MQ1,'", printable(bytes.prefix(4)))
        }
        // Header size is field 2; read it from the first 64 bytes before trusting anything else.
        let lead = splitFields(bytes.prefix(64))
        guard lead.count > 3 else { throw bad("header size", "comma-separated fields", printable(bytes.prefix(64))) }
        guard let headerBytes = Int(lead[2]), headerBytes >= 64, headerBytes <= maximumHeaderBytes else {
            throw bad("2 (header size)", "a byte count in 64...\(maximumHeaderBytes)", lead[2])
        }
        guard bytes.count >= headerBytes else {
            throw STEMError.truncated(path: path, offset: offset, needed: headerBytes, available: offset + bytes.count)
        }
        let fields = splitFields(bytes.prefix(headerBytes)).filter { !$0.contains("\u{0}") }
        guard fields.count >= 8 else { throw bad("count", "at least 8 fields", "\(fields.count)") }
        guard let sequence = Int(fields[1]) else { throw bad("1 (sequence number)", "an integer", fields[1]) }
        guard let chips = Int(fields[3]), (1 ... 64).contains(chips) else { throw bad("3 (chip count)", "1...64", fields[3]) }
        guard let width = Int(fields[4]), (1 ... 65536).contains(width) else { throw bad("4 (width)", "1...65536 pixels", fields[4]) }
        guard let height = Int(fields[5]), (1 ... 65536).contains(height) else { throw bad("5 (height)", "1...65536 pixels", fields[5]) }
        let depthName = fields[6]
        let layoutText = fields[7].trimmingSpaces().replacingG()
        let parts = layoutText.split(separator: "x")
        var layout = (columns: 1, rows: 1)
        if parts.count == 2, let c = Int(parts[0]), let r = Int(parts[1]) { layout = (c, r) }
        else if parts.count == 2, parts[0] == "N", let r = Int(parts[1]) { layout = (chips, r) }

        // Extended header: "MQ1A,<timestamp>,<exposure>ns,<counter depth>".
        var counterDepth: Int?, timestamp: String?, exposure: Double?
        if let a = fields.firstIndex(of: "MQ1A") {
            if a + 1 < fields.count { timestamp = fields[a + 1] }
            if a + 2 < fields.count, fields[a + 2].hasSuffix("ns") { exposure = Double(fields[a + 2].dropLast(2)) }
            if a + 3 < fields.count { counterDepth = Int(fields[a + 3].trimmingSpaces()) }
        }

        let encoding: Encoding
        switch depthName {
        case "U08": encoding = .processed(.uint8)
        case "U16": encoding = .processed(.uint16)
        case "U32": encoding = .processed(.uint32)
        case "U64": encoding = .processed(.uint64)
        case "R64":
            guard let depth = counterDepth ?? fields.last.flatMap({ Int($0.trimmingSpaces()) }) else {
                throw bad("counter depth", "1, 6, 12 or 24 after 'MQ1A' (needed for raw data)", "none")
            }
            guard [1, 6, 12, 24].contains(depth) else { throw bad("counter depth", "1, 6, 12 or 24", "\(depth)") }
            encoding = .raw(counterDepth: depth)
            counterDepth = depth
        default:
            throw bad("6 (pixel depth)", "U08, U16, U32, U64 or R64", depthName)
        }
        let header = MerlinHeader(sequenceNumber: sequence, headerBytes: headerBytes, chipCount: chips, headerWidth: width,
                                  headerHeight: height, pixelDepth: depthName, layout: layout, encoding: encoding,
                                  counterDepth: counterDepth, timestamp: timestamp, exposureNanoseconds: exposure)
        if case .raw(let depth) = encoding {
            let group = depth == 1 ? 64 : depth == 6 ? 8 : 4
            let rowLength = header.isRawQuad ? width / 4 : width
            guard width % group == 0, rowLength % group == 0, rowLength > 0 else {
                throw bad("4 (width)", "a multiple of \(group) pixels per chip row for \(depth)-bit raw data", "\(width)")
            }
            if depth == 24 {
                guard !header.isRawQuad else { throw bad("counter depth", "1, 6 or 12 for quad raw data", "24") }
                guard width % 8 == 0 else { throw bad("4 (width)", "an even multiple of 4 for 24-bit raw", "\(width)") }
            }
            if chips > 1 && !header.isRawQuad {
                throw bad("7 (layout)", "1x1 or 2x2 for raw data", fields[7])
            }
        }
        return header
    }

    static func splitFields<S: Sequence>(_ bytes: S) -> [String] where S.Element == UInt8 {
        String(decoding: bytes.map { $0 < 0x80 ? $0 : 0x3F }, as: Unicode.ASCII.self)
            .split(separator: ",", omittingEmptySubsequences: false).map(String.init)
    }
}

/// The `.hdr` text file Merlin writes next to the `.mib`: `key:\tvalue` lines between `HDR,` and `End`.
public struct MerlinAcquisitionHeader: Sendable {
    public var fields: [String: String]

    public static func parse(_ text: String) -> MerlinAcquisitionHeader {
        var fields: [String: String] = [:]
        for line in text.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            if line.hasPrefix("HDR") || line.hasPrefix("End") { continue }
            guard let tab = line.firstIndex(of: "\t") else { continue }
            var key = String(line[..<tab])
            if key.hasSuffix(":") { key.removeLast() }
            fields[key] = String(line[line.index(after: tab)...]).trimmingCharacters(in: "\r ")
        }
        return MerlinAcquisitionHeader(fields: fields)
    }

    /// The scan raster: `ScanY` x `ScanX` if given, else `frames / framesPerTrigger` rows of
    /// `Frames per Trigger` (one trigger per scan row), as rosettasciio reads it.
    public var scan: ScanGrid? {
        if let x = fields["ScanX"].flatMap({ Int($0) }), let y = fields["ScanY"].flatMap({ Int($0) }), x > 0, y > 0 {
            return ScanGrid(rows: y, columns: x)
        }
        guard let frames = fields["Frames in Acquisition (Number)"].flatMap({ Int($0) }),
              let perTrigger = fields["Frames per Trigger (Number)"].flatMap({ Int($0) }),
              frames > 0, perTrigger > 1, frames / perTrigger > 0 else { return nil }
        return ScanGrid(rows: frames / perTrigger, columns: perTrigger)
    }
}

func printable<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
    "'" + String(bytes.prefix(32).map { (0x20 ..< 0x7F).contains($0) ? Character(UnicodeScalar($0)) : "." }) + "'"
}

extension String {
    func trimmingSpaces() -> String { trimmingCharacters(in: " \t\r\n") }
    func replacingG() -> String { filter { $0 != "G" } }
    func trimmingCharacters(in set: String) -> String {
        var s = Substring(self)
        while let f = s.first, set.contains(f) { s.removeFirst() }
        while let l = s.last, set.contains(l) { s.removeLast() }
        return String(s)
    }
}
