import STEMCore

/// Streams a rank's block of scan positions through one reusable buffer in bounded chunks, so memory per
/// rank does not grow with the dataset: at most `chunkPositions` patterns are held at a time.
public struct ChunkedScan {
    /// Default memory budget for one chunk of patterns.
    public static let defaultBudgetBytes = 4 << 20

    public let source: PatternSource
    public let range: Range<Int>
    public let chunkPositions: Int

    public init(source: PatternSource, range: Range<Int>, budgetBytes: Int = ChunkedScan.defaultBudgetBytes) {
        self.source = source
        self.range = range
        let perPattern = max(1, source.detector.pixelCount * MemoryLayout<Float>.size)
        chunkPositions = max(1, budgetBytes / perPattern)
    }

    /// Calls `body` with each chunk's scan range and its patterns (valid only during the call).
    public func forEach(_ body: (Range<Int>, UnsafeBufferPointer<Float>) throws -> Void) throws {
        let p = source.detector.pixelCount
        var buffer = [Float](repeating: 0, count: min(chunkPositions, max(range.count, 1)) * p)
        for chunk in ScanPartition.chunks(of: range, size: chunkPositions) {
            try buffer.withUnsafeMutableBufferPointer { buf in
                let view = UnsafeMutableBufferPointer(rebasing: buf[0 ..< chunk.count * p])
                try source.read(positions: chunk, into: view)
                try body(chunk, UnsafeBufferPointer(view))
            }
        }
    }
}
