/// On-disk numeric type of detector values. Every reader converts to `Float` (32-bit) in memory.
public enum ElementType: String, CaseIterable, Sendable, Codable {
    case uint8, uint16, uint32, int8, int16, int32, int64, uint64, float32, float64

    /// Bytes per element on disk.
    public var byteSize: Int {
        switch self {
        case .uint8, .int8: return 1
        case .uint16, .int16: return 2
        case .uint32, .int32, .float32: return 4
        case .int64, .uint64, .float64: return 8
        }
    }

    public var isFloatingPoint: Bool { self == .float32 || self == .float64 }

    /// Parses the names users type: `uint16`, `u2`, `<u2`, `float32`, `f4`, `float`, `double`.
    public init?(userName: String) {
        var s = userName.lowercased()
        if let f = s.first, "<>=|".contains(f) { s.removeFirst() }
        switch s {
        case "uint8", "u1", "u8": self = .uint8
        case "uint16", "u2", "u16": self = .uint16
        case "uint32", "u4", "u32": self = .uint32
        case "uint64", "u64": self = .uint64
        case "int8", "i1", "i8": self = .int8
        case "int16", "i2", "i16": self = .int16
        case "int32", "i4", "i32": self = .int32
        case "int64", "i8b", "i64": self = .int64
        case "float32", "f4", "float", "f32", "single": self = .float32
        case "float64", "f8", "double", "f64": self = .float64
        default: return nil
        }
    }
}

/// Byte order of multi-byte values on disk.
public enum ByteOrder: String, Sendable, Codable {
    case little, big

    public static var native: ByteOrder {
        1.littleEndian == 1 ? .little : .big
    }
}
