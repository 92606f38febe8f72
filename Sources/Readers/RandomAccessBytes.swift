import STEMCore

/// Anything a header parser can read by offset: an open file, or bytes in memory (tests, fuzzing).
public protocol RandomAccessBytes {
    var path: String { get }
    var length: Int { get }
    func read(at offset: Int, count: Int, into destination: UnsafeMutableRawPointer) throws
}

extension PositionalFile: RandomAccessBytes {}

/// Bytes in memory presented as a file.
public struct MemoryBytes: RandomAccessBytes {
    public let bytes: [UInt8]
    public let path: String
    public var length: Int { bytes.count }

    public init(_ bytes: [UInt8], path: String = "<memory>") {
        self.bytes = bytes
        self.path = path
    }

    public func read(at offset: Int, count: Int, into destination: UnsafeMutableRawPointer) throws {
        guard offset >= 0, count >= 0, offset <= bytes.count, count <= bytes.count - offset else {
            throw STEMError.truncated(path: path, offset: offset, needed: count, available: bytes.count)
        }
        bytes.withUnsafeBytes { destination.copyMemory(from: $0.baseAddress! + offset, byteCount: count) }
    }
}

/// A forward cursor over `RandomAccessBytes` that reads through a 64 kB window, for walking headers
/// (such as DigitalMicrograph tag trees) spread over a large file without loading it.
struct WindowedCursor<Source: RandomAccessBytes> {
    let source: Source
    private(set) var position: Int
    private var window: [UInt8] = []
    private var windowStart = 0
    static var windowBytes: Int { 1 << 16 }

    init(_ source: Source, at position: Int = 0) {
        self.source = source
        self.position = position
    }

    private mutating func ensure(_ count: Int) throws {
        guard count >= 0, position >= 0, position <= source.length, count <= source.length - position else {
            throw STEMError.truncated(path: source.path, offset: position, needed: count, available: source.length)
        }
        if position >= windowStart && position + count <= windowStart + window.count { return }
        let n = min(max(Self.windowBytes, count), source.length - position)
        var fresh = [UInt8](repeating: 0, count: n)
        let (src, at) = (source, position)
        try fresh.withUnsafeMutableBytes { try src.read(at: at, count: n, into: $0.baseAddress!) }
        window = fresh
        windowStart = position
    }

    mutating func skip(_ count: Int) throws {
        guard count >= 0, count <= source.length - position else {
            throw STEMError.truncated(path: source.path, offset: position, needed: max(count, 0), available: source.length)
        }
        position += count
    }

    mutating func bytes(_ count: Int) throws -> ArraySlice<UInt8> {
        try ensure(count)
        let i = position - windowStart
        position += count
        return window[i ..< i + count]
    }

    mutating func unsigned(_ size: Int, _ order: ByteOrder) throws -> UInt64 {
        let b = try bytes(size)
        var v: UInt64 = 0
        if order == .big { for x in b { v = v << 8 | UInt64(x) } }
        else { for x in b.reversed() { v = v << 8 | UInt64(x) } }
        return v
    }
}
