import STEMCore

/// Where the pixels of one uncompressed single-channel image lie in its file: one byte offset per row
/// (top row first), the sample type, and an optional grey palette (8-bit BMP). Produced by the pure BMP and
/// TIFF header parsers; `decode` turns the file bytes into Floats.
public struct RasterImage: Sendable, Equatable {
    public var detector: DetectorShape
    public var elementType: ElementType
    public var byteOrder: ByteOrder
    /// File offset of each row, top row first.
    public var rowOffsets: [Int]
    /// Grey level of each 8-bit index, if the file has a palette.
    public var palette: [Float]?

    /// Converts the image in `bytes` (the whole file) into `out` (`detector.pixelCount` values).
    public func decode(_ bytes: UnsafeRawBufferPointer, into out: UnsafeMutablePointer<Float>) {
        let w = detector.columns
        for (r, offset) in rowOffsets.enumerated() {
            let row = out + r * w
            if let palette {
                let s = bytes.baseAddress!.assumingMemoryBound(to: UInt8.self) + offset
                palette.withUnsafeBufferPointer { p in for c in 0 ..< w { row[c] = p[Int(s[c])] } }
            } else {
                convertToFloat(bytes.baseAddress! + offset, type: elementType, order: byteOrder, count: w, into: row)
            }
        }
    }

    /// Checks that every row lies inside a file of `length` bytes.
    func validate(path: String, length: Int) throws {
        let rowBytes = detector.columns * elementType.byteSize
        for o in rowOffsets where o < 0 || o > length - rowBytes {
            throw STEMError.truncated(path: path, offset: max(o, 0), needed: rowBytes, available: length)
        }
    }
}

