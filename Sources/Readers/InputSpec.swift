import Foundation
import HDF5
import STEMCore

/// What the user said about an input: the file, its format (or auto), and the fields a format needs.
/// Every command takes the same input options and calls `open()`.
public struct InputSpec: Sendable {
    public var path: String
    /// "auto", "hdf5", "raw", or a format name registered by the instrument readers.
    public var format: String
    /// HDF5: the dataset path (nil: the largest 3D/4D numeric dataset).
    public var datasetPath: String?
    /// Scan shape when the file does not record it (or to check it).
    public var scanShape: ScanGrid?
    /// Raw binary: the detector shape, element type, byte order and header/footer sizes.
    public var detectorShape: DetectorShape?
    public var elementType: ElementType?
    public var byteOrder: ByteOrder
    public var headerBytes: Int
    public var frameHeaderBytes: Int
    public var frameFooterBytes: Int

    public init(path: String, format: String = "auto", datasetPath: String? = nil, scanShape: ScanGrid? = nil,
                detectorShape: DetectorShape? = nil, elementType: ElementType? = nil, byteOrder: ByteOrder = .little,
                headerBytes: Int = 0, frameHeaderBytes: Int = 0, frameFooterBytes: Int = 0) {
        self.path = path
        self.format = format
        self.datasetPath = datasetPath
        self.scanShape = scanShape
        self.detectorShape = detectorShape
        self.elementType = elementType
        self.byteOrder = byteOrder
        self.headerBytes = headerBytes
        self.frameHeaderBytes = frameHeaderBytes
        self.frameFooterBytes = frameFooterBytes
    }

    /// Detects the format from the file's first bytes: HDF5 by its signature, otherwise raw.
    public func detectedFormat() throws -> String {
        if format != "auto" { return format }
        guard let fh = FileHandle(forReadingAtPath: path) else { throw STEMError.fileNotFound(path: path) }
        defer { try? fh.close() }
        let head = (try? fh.read(upToCount: 8)) ?? Data()
        if let f = InputSpec.detectors.first(where: { $0.detect(path, head) }) { return f.name }
        if head.starts(with: [0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A]) { return "hdf5" }
        return "raw"
    }

    /// Opens the input as a `PatternSource`.
    public func open() throws -> PatternSource {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw STEMError.fileNotFound(path: path)
        }
        let fmt = try detectedFormat()
        switch fmt {
        case "hdf5", "h5":
            return try HDF5PatternSource(path: path, datasetPath: datasetPath, scanShape: scanShape)
        case "raw", "bin":
            guard let scan = scanShape, let det = detectorShape, let type = elementType else {
                throw STEMError.invalidParameter(
                    name: "raw input", value: path,
                    expected: "--scan-shape NYxNX, --detector-shape KYxKX and --dtype TYPE for a raw binary file")
            }
            return try RawPatternSource(path: path, layout: RawLayout(
                scan: scan, detector: det, elementType: type, byteOrder: byteOrder, headerBytes: headerBytes,
                frameHeaderBytes: frameHeaderBytes, frameFooterBytes: frameFooterBytes))
        default:
            if let f = InputSpec.detectors.first(where: { $0.name == fmt }) { return try f.open(self) }
            throw STEMError.invalidParameter(name: "--format", value: fmt,
                                             expected: "auto, hdf5, raw" + InputSpec.detectors.map { ", " + $0.name }.joined())
        }
    }

    /// Instrument formats registered by the format readers (name, content detector, opener).
    public struct Registration: Sendable {
        public let name: String
        public let detect: @Sendable (_ path: String, _ head: Data) -> Bool
        public let open: @Sendable (_ spec: InputSpec) throws -> PatternSource
        public init(name: String, detect: @escaping @Sendable (String, Data) -> Bool,
                    open: @escaping @Sendable (InputSpec) throws -> PatternSource) {
            self.name = name
            self.detect = detect
            self.open = open
        }
    }

    /// The instrument formats known besides HDF5 and raw, tried in order by `detectedFormat`.
    public static var detectors: [Registration] { InstrumentFormats.all }
}

/// The list the instrument-format readers fill in (issue: readers for instrument formats).
public enum InstrumentFormats {
    public static let all: [InputSpec.Registration] = FormatRegistry.instrumentFormats.map(InputSpec.Registration.init)
}
