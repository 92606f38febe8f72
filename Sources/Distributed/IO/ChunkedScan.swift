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
        // On a cache line (`AlignedAllocation`): the kernels' vector loads along each pattern stay in one line.
        let buffer = AlignedAllocation.buffer(Float.self, capacity: min(chunkPositions, max(range.count, 1)) * p)
        buffer.initialize(repeating: 0)
        defer { buffer.deallocate() }
        for chunk in ScanPartition.chunks(of: range, size: chunkPositions) {
            let view = UnsafeMutableBufferPointer(rebasing: buffer[0 ..< chunk.count * p])
            try source.read(positions: chunk, into: view)
            try body(chunk, UnsafeBufferPointer(view))
        }
    }
}
