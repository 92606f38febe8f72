import STEMCore

/// Converts `count` on-disk values of `type` in byte order `order` starting at `source` into Floats.
/// One tight loop per type; unaligned loads, so `source` may sit anywhere (e.g. after a 6-byte frame header).
public func convertToFloat(_ source: UnsafeRawPointer, type: ElementType, order: ByteOrder, count: Int,
                           into destination: UnsafeMutablePointer<Float>) {
    let swap = order != ByteOrder.native
    switch type {
    case .uint8:
        let s = source.assumingMemoryBound(to: UInt8.self)
        for i in 0 ..< count { destination[i] = Float(s[i]) }
    case .int8:
        let s = source.assumingMemoryBound(to: Int8.self)
        for i in 0 ..< count { destination[i] = Float(s[i]) }
    case .uint16:
        if swap { for i in 0 ..< count { destination[i] = Float(source.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self).byteSwapped) } }
        else { for i in 0 ..< count { destination[i] = Float(source.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) } }
    case .int16:
        if swap { for i in 0 ..< count { destination[i] = Float(source.loadUnaligned(fromByteOffset: 2 * i, as: Int16.self).byteSwapped) } }
        else { for i in 0 ..< count { destination[i] = Float(source.loadUnaligned(fromByteOffset: 2 * i, as: Int16.self)) } }
    case .uint32:
        if swap { for i in 0 ..< count { destination[i] = Float(source.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self).byteSwapped) } }
        else { for i in 0 ..< count { destination[i] = Float(source.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)) } }
    case .int32:
        if swap { for i in 0 ..< count { destination[i] = Float(source.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self).byteSwapped) } }
        else { for i in 0 ..< count { destination[i] = Float(source.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self)) } }
    case .uint64:
        if swap { for i in 0 ..< count { destination[i] = Float(source.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self).byteSwapped) } }
        else { for i in 0 ..< count { destination[i] = Float(source.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self)) } }
    case .int64:
        if swap { for i in 0 ..< count { destination[i] = Float(source.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self).byteSwapped) } }
        else { for i in 0 ..< count { destination[i] = Float(source.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self)) } }
    case .float32:
        if swap {
            for i in 0 ..< count {
                destination[i] = Float(bitPattern: source.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self).byteSwapped)
            }
        } else {
            UnsafeMutableRawPointer(destination).copyMemory(from: source, byteCount: 4 * count)
        }
    case .float64:
        if swap {
            for i in 0 ..< count {
                destination[i] = Float(Double(bitPattern: source.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self).byteSwapped))
            }
        } else {
            for i in 0 ..< count { destination[i] = Float(source.loadUnaligned(fromByteOffset: 8 * i, as: Double.self)) }
        }
    }
}

/// Reverses the row order of `count` consecutive row-major patterns in place (a vertical flip).
func flipRows(_ buffer: UnsafeMutablePointer<Float>, patterns count: Int, detector: DetectorShape) {
    let w = detector.columns, h = detector.rows
    for p in 0 ..< count {
        let base = buffer + p * detector.pixelCount
        var top = 0, bottom = h - 1
        while top < bottom {
            let a = base + top * w, b = base + bottom * w
            for c in 0 ..< w { let t = a[c]; a[c] = b[c]; b[c] = t }
            top += 1; bottom -= 1
        }
    }
}
