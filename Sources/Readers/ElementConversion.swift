import STEMCore

/// Conversion of detector values from their on-disk type and byte order to `Float`, the in-memory type of
/// every pattern. Loops are written over raw pointers so the compiler vectorises them; byte swapping is a
/// separate pass only for foreign byte order.
public enum ElementConversion {
    /// Converts `count` values of `type` starting at `source` (any alignment) to `Float` at `destination`.
    public static func toFloat(_ source: UnsafeRawPointer, type: ElementType, byteOrder: ByteOrder = .native,
                               count: Int, into destination: UnsafeMutablePointer<Float>) {
        let swap = byteOrder != .native && type.byteSize > 1
        switch type {
        case .uint8: convert(source, UInt8.self, count, destination, swap: false)
        case .int8: convert(source, Int8.self, count, destination, swap: false)
        case .uint16: convert(source, UInt16.self, count, destination, swap: swap)
        case .int16: convert(source, Int16.self, count, destination, swap: swap)
        case .uint32: convert(source, UInt32.self, count, destination, swap: swap)
        case .int32: convert(source, Int32.self, count, destination, swap: swap)
        case .uint64: convert(source, UInt64.self, count, destination, swap: swap)
        case .int64: convert(source, Int64.self, count, destination, swap: swap)
        case .float32:
            if swap {
                let s = source.assumingMemoryBound(to: UInt32.self)
                for i in 0 ..< count { destination[i] = Float(bitPattern: UInt32(bigEndian: s[i])) }
            } else {
                (UnsafeMutableRawPointer(destination)).copyMemory(from: source, byteCount: count * 4)
            }
        case .float64:
            let s = source.assumingMemoryBound(to: UInt64.self)
            if swap {
                for i in 0 ..< count { destination[i] = Float(Double(bitPattern: UInt64(bigEndian: s[i]))) }
            } else {
                let d = source.assumingMemoryBound(to: Double.self)
                for i in 0 ..< count { destination[i] = Float(d[i]) }
            }
        }
    }

    @inline(__always)
    private static func convert<T: BinaryInteger & FixedWidthInteger>(_ source: UnsafeRawPointer, _: T.Type, _ count: Int,
                                                                      _ destination: UnsafeMutablePointer<Float>,
                                                                      swap: Bool) {
        let s = source.assumingMemoryBound(to: T.self)
        if swap {
            for i in 0 ..< count { destination[i] = Float(T(bigEndian: s[i])) }
        } else {
            for i in 0 ..< count { destination[i] = Float(s[i]) }
        }
    }
}
