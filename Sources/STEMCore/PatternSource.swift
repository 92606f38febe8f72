/// What every dataset reader provides: the shape of the acquisition and random access to any contiguous
/// run of scan positions, converted to `Float`. Readers never load the whole file; a rank asks only for its
/// own block, chunk by chunk.
public protocol PatternSource: AnyObject {
    /// A short name of the format ("hdf5", "raw", "mib", ...).
    var formatName: String { get }
    /// The file (or folder) read.
    var path: String { get }
    var scan: ScanGrid { get }
    var detector: DetectorShape { get }
    /// The on-disk type of the values.
    var elementType: ElementType { get }
    /// Calibration and acquisition metadata found in the file, as display strings (name -> value).
    var metadata: [(String, String)] { get }

    /// Reads scan positions `positions` into `destination` (`positions.count * detector.pixelCount` values).
    func read(positions: Range<Int>, into destination: UnsafeMutableBufferPointer<Float>) throws
}

extension PatternSource {
    /// Reads a block of scan positions as a new `PatternBlock`.
    public func readBlock(_ positions: Range<Int>) throws -> PatternBlock {
        var block = PatternBlock(firstIndex: positions.lowerBound, count: positions.count, detector: detector)
        try block.pixels.withUnsafeMutableBufferPointer { try read(positions: positions, into: $0) }
        return block
    }

    /// Bytes of pattern data on disk per scan position.
    public var bytesPerPattern: Int { detector.pixelCount * elementType.byteSize }
}
