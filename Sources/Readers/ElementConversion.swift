import STEMCore

/// Converts `count` on-disk values of `type` in byte order `order` starting at `source` into Floats.
/// Aligned sources take typed loops the compiler vectorises (byte swaps included); a misaligned source
/// (a DM array at an odd offset, a 6-byte blockfile record header) takes unaligned loads.
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
    case .uint16: convertIntegers(source, UInt16.self, count, destination, swap)
    case .int16: convertIntegers(source, Int16.self, count, destination, swap)
    case .uint32: convertIntegers(source, UInt32.self, count, destination, swap)
    case .int32: convertIntegers(source, Int32.self, count, destination, swap)
    case .uint64: convertIntegers(source, UInt64.self, count, destination, swap)
    case .int64: convertIntegers(source, Int64.self, count, destination, swap)
    case .float32:
        if !swap {
            UnsafeMutableRawPointer(destination).copyMemory(from: source, byteCount: 4 * count)
        } else if Int(bitPattern: source) % 4 == 0 {
            let s = source.bindMemory(to: UInt32.self, capacity: count)
            for i in 0 ..< count { destination[i] = Float(bitPattern: s[i].byteSwapped) }
        } else {
            for i in 0 ..< count {
                destination[i] = Float(bitPattern: source.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self).byteSwapped)
            }
        }
    case .float64:
        if Int(bitPattern: source) % 8 == 0 {
            let s = source.bindMemory(to: UInt64.self, capacity: count)
            if swap { for i in 0 ..< count { destination[i] = Float(Double(bitPattern: s[i].byteSwapped)) } }
            else { for i in 0 ..< count { destination[i] = Float(Double(bitPattern: s[i])) } }
        } else {
            for i in 0 ..< count {
                let b = source.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self)
                destination[i] = Float(Double(bitPattern: swap ? b.byteSwapped : b))
            }
        }
    }
}

@inline(__always)
private func convertIntegers<T: FixedWidthInteger>(_ source: UnsafeRawPointer, _: T.Type, _ count: Int,
                                                   _ destination: UnsafeMutablePointer<Float>, _ swap: Bool) {
    if Int(bitPattern: source) % MemoryLayout<T>.alignment == 0 {
        let s = source.bindMemory(to: T.self, capacity: count)
        if swap { for i in 0 ..< count { destination[i] = Float(s[i].byteSwapped) } }
        else { for i in 0 ..< count { destination[i] = Float(s[i]) } }
    } else {
        let size = MemoryLayout<T>.size
        if swap { for i in 0 ..< count { destination[i] = Float(source.loadUnaligned(fromByteOffset: size * i, as: T.self).byteSwapped) } }
        else { for i in 0 ..< count { destination[i] = Float(source.loadUnaligned(fromByteOffset: size * i, as: T.self)) } }
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
