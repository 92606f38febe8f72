import STEMCore

/// NanoMEGAS ASTAR blockfiles (`.blo`): the 8-bit pattern stack after the header and navigator image.
public final class BlockfilePatternSource: PatternSource {
    public let formatName = "blo"
    public let path: String
    public let scan: ScanGrid
    public let detector: DetectorShape
    public let elementType = ElementType.uint8
    public let metadata: [(String, String)]
    public let header: BlockfileHeader
    let file: PositionalFile
    let stack: FrameStack

    public static let format = PatternFormat(
        name: "blo", summary: "NanoMEGAS ASTAR blockfile (.blo)",
        detect: { p in !p.isDirectory && p.headStarts(with: BlockfileHeader.id) },
        open: { try BlockfilePatternSource(path: $0, options: $1) })

    public init(path: String, options: ReaderOptions = ReaderOptions()) throws {
        let file = try PositionalFile(path: path)
        let head = try file.prefix(0x10000)
        var header = try BlockfileHeader.parse(head, path: path, fileLength: file.length)
        if header.navigatorOffset > head.count {  // a note longer than 64 kB: read it
            let rest = try file.bytes(at: BlockfileHeader.byteCount, count: min(header.navigatorOffset, 1 << 20) - BlockfileHeader.byteCount)
            header.note = String(rest.prefix { $0 != 0 }.map { Character(UnicodeScalar($0)) })
        }
        self.path = path
        self.file = file
        self.header = header
        self.detector = header.detector
        self.scan = try resolveScan(path: path, frames: header.scan.count, fromFile: header.scan, options: options)
        self.stack = FrameStack(firstFrameOffset: header.dataOffset, frameStride: header.frameStride,
                                headerBytes: BlockfileHeader.frameHeaderBytes, detector: header.detector,
                                elementType: .uint8, byteOrder: .little, frameCount: header.scan.count)
        self.metadata = [
            ("scan step x (nm)", "\(header.stepX)"), ("scan step y (nm)", "\(header.stepY)"),
            ("beam energy (V)", "\(header.beamEnergy)"), ("camera length (0.1 mm)", "\(header.cameraLength)"),
            ("SDP (100 px/cm)", "\(header.sdp)"), ("scan rotation (0.01 deg)", "\(header.scanRotation)"),
            ("pattern rotation", "\(header.patternRotation)"), ("note", header.note),
        ]
    }

    public func read(positions: Range<Int>, into destination: UnsafeMutableBufferPointer<Float>) throws {
        guard positions.upperBound <= scan.count else {
            throw STEMError.invalidParameter(name: "scan positions", value: "\(positions)", expected: "a range inside 0..<\(scan.count) (\(path))")
        }
        try stack.read(file, positions: positions, into: destination)
    }

    /// The navigator (virtual bright-field) image stored in the file, NY x NX, row-major.
    public func navigator() throws -> [UInt8] {
        try file.bytes(at: header.navigatorOffset, count: header.scan.count)
    }
}
