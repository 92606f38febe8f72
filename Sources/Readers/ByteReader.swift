import STEMCore

/// A bounds-checked cursor over header bytes held in memory. Every read names the file and the absolute
/// file offset in its error, so header parsers built on it are pure functions of a byte buffer (and can
/// be fuzzed directly) that never trap on short or lying input.
public struct ByteReader {
    public let bytes: [UInt8]
    /// File the bytes came from (for messages).
    public let path: String
    /// File offset of `bytes[0]`.
    public let base: Int
    /// Current position inside `bytes`.
    public var position: Int = 0
    /// Length of the whole file, when known (reported as "available" in truncation errors).
    public let fileLength: Int

    public init(_ bytes: [UInt8], path: String, base: Int = 0, fileLength: Int? = nil) {
        self.bytes = bytes
        self.path = path
        self.base = base
        self.fileLength = fileLength ?? base + bytes.count
    }

    public var remaining: Int { bytes.count - position }
    public var fileOffset: Int { base + position }

    /// Throws unless `count` more bytes are present.
    public func require(_ count: Int) throws {
        guard count >= 0, count <= remaining else {
            throw STEMError.truncated(path: path, offset: fileOffset, needed: max(count, 0), available: fileLength)
        }
    }

    public mutating func skip(_ count: Int) throws {
        try require(count)
        position += count
    }

    public mutating func seek(to index: Int) throws {
        guard index >= 0, index <= bytes.count else {
            throw STEMError.truncated(path: path, offset: base + max(index, 0), needed: 0, available: fileLength)
        }
        position = index
    }

    public mutating func take(_ count: Int) throws -> ArraySlice<UInt8> {
        try require(count)
        defer { position += count }
        return bytes[position ..< position + count]
    }

    public mutating func uint8() throws -> UInt8 {
        try require(1)
        defer { position += 1 }
        return bytes[position]
    }

    /// An unsigned integer of `size` bytes (1...8) in the given byte order.
    public mutating func unsigned(_ size: Int, _ order: ByteOrder) throws -> UInt64 {
        try require(size)
        var v: UInt64 = 0
        for k in 0 ..< size {
            let b = UInt64(bytes[position + (order == .big ? k : size - 1 - k)])
            v = (v << 8) | b
        }
        position += size
        return v
    }

    public mutating func uint16(_ order: ByteOrder) throws -> UInt16 { UInt16(try unsigned(2, order)) }
    public mutating func uint32(_ order: ByteOrder) throws -> UInt32 { UInt32(try unsigned(4, order)) }
    public mutating func uint64(_ order: ByteOrder) throws -> UInt64 { try unsigned(8, order) }
    public mutating func float64(_ order: ByteOrder) throws -> Double { Double(bitPattern: try unsigned(8, order)) }
    public mutating func float32(_ order: ByteOrder) throws -> Float { Float(bitPattern: UInt32(try unsigned(4, order))) }

    /// ASCII/Latin-1 text of `count` bytes.
    public mutating func latin1(_ count: Int) throws -> String {
        String(decoding: try take(count).map { $0 }, as: Unicode.ASCII.self)
    }
}

extension STEMError {
    /// A header field whose value cannot be right.
    static func field(_ path: String, _ name: String, at offset: Int, expected: String, found: String) -> STEMError {
        .badFormat(path: path, location: "\(name) (byte offset \(offset))", expected: expected, found: found)
    }
}

/// `a * b` or nil on overflow: sizes from headers are multiplied only through this.
@inlinable func checkedProduct(_ factors: Int...) -> Int? {
    var p = 1
    for f in factors {
        guard f >= 0 else { return nil }
        let (r, o) = p.multipliedReportingOverflow(by: f)
        if o { return nil }
        p = r
    }
    return p
}
