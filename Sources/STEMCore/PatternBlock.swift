/// A contiguous run of scan positions and their diffraction patterns, held as one owned `Float` buffer:
/// pattern `p` (0-based inside the block) occupies `pixels[p * P ..< (p + 1) * P]`, each pattern row-major.
/// This is the unit that readers produce and every per-pattern kernel consumes; it is a value type, and
/// kernels take `withUnsafeBufferPointer` views of it so hot loops never copy it.
public struct PatternBlock: Sendable {
    /// Scan index of the first pattern in the block.
    public var firstIndex: Int
    /// Number of patterns in the block.
    public var count: Int
    public var detector: DetectorShape
    public var pixels: [Float]

    public init(firstIndex: Int, count: Int, detector: DetectorShape, pixels: [Float]) {
        precondition(pixels.count == count * detector.pixelCount, "PatternBlock: buffer size mismatch")
        self.firstIndex = firstIndex
        self.count = count
        self.detector = detector
        self.pixels = pixels
    }

    /// A zero-filled block.
    public init(firstIndex: Int, count: Int, detector: DetectorShape) {
        self.init(firstIndex: firstIndex, count: count, detector: detector,
                  pixels: [Float](repeating: 0, count: count * detector.pixelCount))
    }

    /// Scan indices held.
    public var indices: Range<Int> { firstIndex ..< firstIndex + count }

    /// A copy of pattern `p` (0-based inside the block). For tests and small tools; hot loops use offsets.
    public func pattern(_ p: Int) -> [Float] {
        let n = detector.pixelCount
        return Array(pixels[p * n ..< (p + 1) * n])
    }
}
