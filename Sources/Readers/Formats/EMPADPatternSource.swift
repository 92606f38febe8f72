import STEMCore

/// EMPAD acquisitions: an XML description plus a `.raw` file of 128 x 130 float32 frames, of which the
/// first 128 rows are the pattern. Open the XML; the raw file must sit beside it.
public final class EMPADPatternSource: PatternSource {
    public let formatName = "empad"
    public let path: String
    public let rawPath: String
    public let scan: ScanGrid
    public let detector = EMPADHeader.detector
    public let elementType = ElementType.float32
    public let metadata: [(String, String)]
    let file: PositionalFile
    let stack: FrameStack

    public static let format = PatternFormat(
        name: "empad", summary: "EMPAD .xml + .raw",
        detect: { p in
            guard !p.isDirectory, p.head.count > 5, p.head[0] == UInt8(ascii: "<") else { return false }
            let text = String(decoding: p.head, as: UTF8.self)
            return text.contains("<root") && text.contains("raw_file")
        },
        open: { try EMPADPatternSource(path: $0, options: $1) })

    public init(path: String, options: ReaderOptions = ReaderOptions()) throws {
        let xml = try PositionalFile(path: path)
        guard xml.length <= 16 << 20 else {
            throw STEMError.badFormat(path: path, location: "file size", expected: "an EMPAD XML file (< 16 MB)", found: "\(xml.length) bytes")
        }
        let header = try EMPADHeader.parse(String(decoding: try xml.bytes(at: 0, count: xml.length), as: UTF8.self), path: path)
        let folder = path.contains("/") ? String(path[..<path.lastIndex(of: "/")!]) + "/" : ""
        self.rawPath = folder + header.rawFileName
        do { self.file = try PositionalFile(path: rawPath) } catch {
            throw STEMError.missingField(path: path, field: "raw file \(rawPath)", hint: "the EMPAD .raw file named in the XML must be beside it")
        }
        let stride = EMPADHeader.storedRows * EMPADHeader.detector.columns * 4
        let frames = file.length / stride
        self.path = path
        do {
            self.scan = try resolveScan(path: rawPath, frames: frames, fromFile: header.scan, options: options)
        } catch STEMError.shapeMismatch {
            throw STEMError.truncated(path: rawPath, offset: 0, needed: header.scan.count * stride, available: file.length)
        }
        self.stack = FrameStack(firstFrameOffset: 0, frameStride: stride, headerBytes: 0, detector: EMPADHeader.detector,
                                elementType: .float32, byteOrder: .little, frameCount: frames)
        self.metadata = [("raw file", rawPath), ("frames in raw file", "\(frames)"), ("stack", "\(header.isStack)")]
    }

    public func read(positions: Range<Int>, into destination: UnsafeMutableBufferPointer<Float>) throws {
        guard positions.upperBound <= scan.count else {
            throw STEMError.invalidParameter(name: "scan positions", value: "\(positions)", expected: "a range inside 0..<\(scan.count) (\(path))")
        }
        try stack.read(file, positions: positions, into: destination)
    }
}
