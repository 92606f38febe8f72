import STEMCore

/// One image file of a sequence, decoded to Floats: BMP, TIFF or PNG by magic bytes.
enum PatternImageFile {
    static let extensions: Set<String> = ["bmp", "tif", "tiff", "png"]
    static let maximumFileBytes = 1 << 30

    static func load(_ path: String) throws -> [UInt8] {
        let file = try PositionalFile(path: path)
        guard file.length <= maximumFileBytes else {
            throw STEMError.badFormat(path: path, location: "file size", expected: "a pattern image below 1 GiB", found: "\(file.length) bytes")
        }
        return try file.bytes(at: 0, count: file.length)
    }

    /// Shape and type of an image file's content.
    static func describe(_ bytes: [UInt8], path: String) throws -> (DetectorShape, ElementType) {
        if bytes.starts(with: PNGImage.magic) { return try PNGImage.header(bytes, path: path) }
        let raster = try raster(bytes, path: path)
        return (raster.detector, raster.elementType)
    }

    static func raster(_ bytes: [UInt8], path: String) throws -> RasterImage {
        if bytes.starts(with: BMPImage.magic) { return try BMPImage.parse(bytes, path: path) }
        if TIFFImage.isTIFF(bytes) { return try TIFFImage.parse(bytes, path: path) }
        throw STEMError.badFormat(path: path, location: "magic bytes", expected: "a BMP ('BM'), TIFF ('II*' / 'MM*') or PNG file",
                                  found: printable(bytes.prefix(8)))
    }

    /// Decodes the file into `out`, requiring the shape `detector`.
    static func decode(_ path: String, detector: DetectorShape, into out: UnsafeMutablePointer<Float>) throws {
        let bytes = try load(path)
        if bytes.starts(with: PNGImage.magic) { return try PNGImage.decode(bytes, path: path, expected: detector, into: out) }
        let image = try raster(bytes, path: path)
        guard image.detector == detector else {
            throw STEMError.shapeMismatch(path: path, field: "image size", expected: "\(detector) like the first image", found: "\(image.detector)")
        }
        bytes.withUnsafeBytes { image.decode($0, into: out) }
    }
}

/// A folder of single-pattern images (8/16-bit BMP, baseline TIFF, grey PNG), one per scan position in
/// natural file-name order. The scan shape comes from the options (default: one row of all images).
public final class ImageSequencePatternSource: PatternSource {
    public let formatName = "images"
    public let path: String
    public let scan: ScanGrid
    public let detector: DetectorShape
    public let elementType: ElementType
    public let metadata: [(String, String)]
    /// Image files in scan order (full paths).
    public let files: [String]

    public static let format = PatternFormat(
        name: "images", summary: "folder of BMP / TIFF / PNG patterns in natural order",
        detect: { p in p.isDirectory && !((try? listFolder(p.path, extensions: PatternImageFile.extensions)) ?? []).isEmpty },
        open: { try ImageSequencePatternSource(path: $0, options: $1) })

    public init(path: String, options: ReaderOptions = ReaderOptions()) throws {
        let names = try listFolder(path, extensions: PatternImageFile.extensions)
        guard let first = names.first else {
            throw STEMError.missingField(path: path, field: "*.bmp, *.tif, *.png", hint: "the folder holds no pattern images")
        }
        let files = names.map { path + "/" + $0 }
        let (detector, type) = try PatternImageFile.describe(try PatternImageFile.load(files[0]), path: files[0])
        self.path = path
        self.files = files
        self.detector = detector
        self.elementType = type
        self.scan = try resolveScan(path: path, frames: files.count, fromFile: nil, options: options)
        self.metadata = [("images", "\(files.count)"), ("first image", first), ("last image", names.last!)]
    }

    public func read(positions: Range<Int>, into destination: UnsafeMutableBufferPointer<Float>) throws {
        let P = detector.pixelCount
        guard positions.lowerBound >= 0, positions.upperBound <= scan.count, destination.count >= positions.count * P else {
            throw STEMError.invalidParameter(name: "scan positions", value: "\(positions)", expected: "a range inside 0..<\(scan.count) (\(path))")
        }
        for (k, i) in positions.enumerated() {
            try PatternImageFile.decode(files[i], detector: detector, into: destination.baseAddress! + k * P)
        }
    }
}

/// A folder of DigitalMicrograph files, each holding one 2D pattern, in natural file-name order.
public final class DMFolderPatternSource: PatternSource {
    public let formatName = "dm-folder"
    public let path: String
    public let scan: ScanGrid
    public let detector: DetectorShape
    public let elementType: ElementType
    public let metadata: [(String, String)]
    public let files: [String]

    static let extensions: Set<String> = ["dm4", "dm3"]

    public static let format = PatternFormat(
        name: "dm-folder", summary: "folder of .dm4/.dm3 single-pattern files in natural order",
        detect: { p in p.isDirectory && !((try? listFolder(p.path, extensions: extensions)) ?? []).isEmpty },
        open: { try DMFolderPatternSource(path: $0, options: $1) })

    public init(path: String, options: ReaderOptions = ReaderOptions()) throws {
        let names = try listFolder(path, extensions: Self.extensions)
        guard !names.isEmpty else {
            throw STEMError.missingField(path: path, field: "*.dm4, *.dm3", hint: "the folder holds no DigitalMicrograph files")
        }
        self.files = names.map { path + "/" + $0 }
        let layout = try Self.layout(files[0])
        self.path = path
        self.detector = layout.detector
        self.elementType = layout.elementType
        self.scan = try resolveScan(path: path, frames: files.count, fromFile: nil, options: options)
        self.metadata = [("files", "\(files.count)"), ("first file", names[0])]
    }

    static func layout(_ file: String) throws -> DMLayout {
        let f = try PositionalFile(path: file)
        let layout = try DMLayout(tree: try DMTagTree.parse(f), path: file, fileLength: f.length)
        guard layout.scan.count == 1 else {
            throw STEMError.shapeMismatch(path: file, field: "ImageData/Dimensions", expected: "one 2D pattern per file", found: "\(layout.scan.count) patterns")
        }
        return layout
    }

    public func read(positions: Range<Int>, into destination: UnsafeMutableBufferPointer<Float>) throws {
        let P = detector.pixelCount
        guard positions.lowerBound >= 0, positions.upperBound <= scan.count, destination.count >= positions.count * P else {
            throw STEMError.invalidParameter(name: "scan positions", value: "\(positions)", expected: "a range inside 0..<\(scan.count) (\(path))")
        }
        for (k, i) in positions.enumerated() {
            let file = try PositionalFile(path: files[i])
            let layout = try DMLayout(tree: try DMTagTree.parse(file), path: files[i], fileLength: file.length)
            guard layout.detector == detector, layout.scan.count == 1 else {
                throw STEMError.shapeMismatch(path: files[i], field: "ImageData/Dimensions", expected: "one \(detector) pattern like the first file",
                                              found: "\(layout.scan.count) of \(layout.detector)")
            }
            let stack = FrameStack(firstFrameOffset: layout.dataOffset, frameStride: P * layout.elementType.byteSize, headerBytes: 0,
                                   detector: detector, elementType: layout.elementType, byteOrder: layout.byteOrder, frameCount: 1)
            try stack.read(file, positions: 0 ..< 1, into: UnsafeMutableBufferPointer(rebasing: destination[(k * P)...]))
        }
    }
}
