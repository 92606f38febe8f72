import STEMCore

/// The layout shared by most detector files: frame `i` starts at `firstFrameOffset + i * frameStride`,
/// and its `detector.pixelCount` values of `elementType` begin `headerBytes` into the frame (the rest of the
/// stride is per-frame headers or trailing metadata rows).
public struct FrameStack: Sendable {
    public var firstFrameOffset: Int
    public var frameStride: Int
    public var headerBytes: Int
    public var detector: DetectorShape
    public var elementType: ElementType
    public var byteOrder: ByteOrder
    /// Frames the file holds completely.
    public var frameCount: Int
    /// The reusable read buffer (shared by copies of this layout).
    let scratchPool = ScratchPool()

    public var payloadBytes: Int { detector.pixelCount * elementType.byteSize }

    /// Frames that fit in `fileLength`, given the layout (0 if the first frame does not).
    static func frames(fitting fileLength: Int, first: Int, stride: Int, payloadEnd: Int) -> Int {
        guard stride > 0, fileLength >= first + payloadEnd else { return 0 }
        return (fileLength - first - payloadEnd) / stride + 1
    }

    /// Reads frames `positions` (with frame index == scan index + `frameShift`) into `destination`,
    /// reading several frames per `pread` (at most `chunkBytes` at a time) and converting in place.
    func read(_ file: PositionalFile, positions: Range<Int>, frameShift: Int = 0,
              into destination: UnsafeMutableBufferPointer<Float>, chunkBytes: Int = 8 << 20) throws {
        let P = detector.pixelCount
        guard destination.count >= positions.count * P else {
            throw STEMError.invalidParameter(name: "destination size", value: "\(destination.count)",
                                             expected: "\(positions.count * P) values for \(positions.count) patterns")
        }
        guard positions.lowerBound >= 0, positions.upperBound + frameShift <= frameCount, positions.lowerBound + frameShift >= 0 else {
            throw STEMError.invalidParameter(name: "scan positions", value: "\(positions)",
                                             expected: "a range inside 0..<\(frameCount - frameShift) (\(file.path))")
        }
        if positions.isEmpty { return }
        let perChunk = max(1, chunkBytes / max(frameStride, 1))
        let scratchFrames = min(perChunk, positions.count)
        try scratchPool.with(bytes: (scratchFrames - 1) * frameStride + headerBytes + payloadBytes) { scratch in
        var done = 0
        while done < positions.count {
            let n = min(scratchFrames, positions.count - done)
            let frame = positions.lowerBound + done + frameShift
            let bytes = (n - 1) * frameStride + headerBytes + payloadBytes
            try file.read(at: firstFrameOffset + frame * frameStride, count: bytes, into: scratch)
            for k in 0 ..< n {
                convertToFloat(scratch + k * frameStride + headerBytes, type: elementType, order: byteOrder,
                               count: P, into: destination.baseAddress! + (done + k) * P)
            }
            done += n
        }
        }
    }
}
