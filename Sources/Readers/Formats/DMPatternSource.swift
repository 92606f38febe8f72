import STEMCore

/// The image array of a DigitalMicrograph file, arranged as rosettasciio does: the array is C-ordered
/// with shape `dimensions.reversed()`, and the two fastest dimensions (DM x, y) form each pattern.
struct DMLayout: Sendable {
    var detector: DetectorShape
    /// Scan as stored: 4D -> (dim3 rows, dim2 columns); 3D stack -> one row of dim2; 2D -> one pattern.
    var scan: ScanGrid
    var elementType: ElementType
    var dataOffset: Int
    var byteOrder: ByteOrder

    /// Picks the largest image of the tree (the first image is usually a thumbnail) and checks it.
    init(tree: DMTagTree, path: String, fileLength: Int) throws {
        // The largest image of a type stemrun reads; if none, report the largest non-thumbnail image's type.
        let located = tree.images.filter { $0.dataOffset >= 0 }
        let readable = located.filter { DMTagTree.elementType(dataType: $0.dataType) != nil }
        let nonThumbnails = located.filter { $0.dataType != 23 && $0.dataType != 8 }  // RGBA thumbnails
        let candidates = !readable.isEmpty ? readable : !nonThumbnails.isEmpty ? nonThumbnails : located
        guard let image = candidates.max(by: { $0.dataBytes < $1.dataBytes }) else {
            throw STEMError.missingField(path: path, field: "ImageList/*/ImageData/Data", hint: "the file holds no image array")
        }
        guard let type = DMTagTree.elementType(dataType: image.dataType) else {
            throw STEMError.unsupportedType(path: path, field: "ImageData/DataType", type: "DM code \(image.dataType)")
        }
        let d = image.dimensions
        guard (2 ... 4).contains(d.count), d.allSatisfy({ $0 > 0 }) else {
            throw STEMError.shapeMismatch(path: path, field: "ImageData/Dimensions", expected: "2 to 4 positive sizes",
                                          found: "\(d)")
        }
        guard let count = checkedProduct(d[0], d[1], d.count > 2 ? d[2] : 1, d.count > 3 ? d[3] : 1),
              count == image.dataCount, count * type.byteSize == image.dataBytes else {
            throw STEMError.shapeMismatch(path: path, field: "ImageData/Data", expected: "\(d) x \(type.byteSize) bytes",
                                          found: "\(image.dataCount) values, \(image.dataBytes) bytes")
        }
        guard image.dataOffset + image.dataBytes <= fileLength else {
            throw STEMError.truncated(path: path, offset: image.dataOffset, needed: image.dataBytes, available: fileLength)
        }
        detector = DetectorShape(rows: d[1], columns: d[0])
        scan = ScanGrid(rows: d.count > 3 ? d[3] : 1, columns: d.count > 2 ? d[2] : 1)
        elementType = type
        dataOffset = image.dataOffset
        byteOrder = tree.byteOrder
    }
}

/// Gatan DigitalMicrograph `.dm4` / `.dm3` files holding a 4D dataset or a 3D stack of patterns.
public final class DMPatternSource: PatternSource {
    public let formatName = "dm"
    public let path: String
    public let scan: ScanGrid
    public let detector: DetectorShape
    public let elementType: ElementType
    public let metadata: [(String, String)]
    let file: PositionalFile
    let stack: FrameStack

    /// True if `head` starts like a DM3/DM4 file.
    static func isDM(_ head: [UInt8]) -> Bool {
        head.count >= 16 && head[0] == 0 && head[1] == 0 && head[2] == 0 && (head[3] == 3 || head[3] == 4)
    }

    public static let format = PatternFormat(
        name: "dm", summary: "Gatan DigitalMicrograph .dm4/.dm3 (4D or 3D stack)",
        detect: { p in !p.isDirectory && isDM(p.head) },
        open: { try DMPatternSource(path: $0, options: $1) })

    public init(path: String, options: ReaderOptions = ReaderOptions()) throws {
        let file = try PositionalFile(path: path)
        let tree = try DMTagTree.parse(file)
        let layout = try DMLayout(tree: tree, path: path, fileLength: file.length)
        self.path = path
        self.file = file
        self.detector = layout.detector
        self.elementType = layout.elementType
        self.scan = try resolveScan(path: path, frames: layout.scan.count, fromFile: layout.scan, options: options)
        let P = layout.detector.pixelCount * layout.elementType.byteSize
        self.stack = FrameStack(firstFrameOffset: layout.dataOffset, frameStride: P, headerBytes: 0, detector: layout.detector,
                                elementType: layout.elementType, byteOrder: layout.byteOrder, frameCount: layout.scan.count)
        self.metadata = [("DM version", "\(tree.version)"), ("images in file", "\(tree.images.count)"),
                         ("data offset", "\(layout.dataOffset)")]
    }

    public func read(positions: Range<Int>, into destination: UnsafeMutableBufferPointer<Float>) throws {
        guard positions.upperBound <= scan.count else {
            throw STEMError.invalidParameter(name: "scan positions", value: "\(positions)", expected: "a range inside 0..<\(scan.count) (\(path))")
        }
        try stack.read(file, positions: positions, into: destination)
    }
}
