import STEMCore

/// What the user may tell a reader that the file itself may not say. Every field is optional; a reader
/// uses what it needs and reports a `STEMError.invalidParameter` when a required one is missing.
public struct ReaderOptions: Sendable {
    /// Scan shape (rows x columns). Overrides the file's (MIB `.hdr`, EMPAD XML, ...) or gives it
    /// where the file has none (image sequences, folders of DM frames, MIB without `.hdr`).
    public var scan: ScanGrid?
    /// Detector shape, for formats that do not store it (raw binary).
    public var detector: DetectorShape?
    /// On-disk element type, for formats that do not store it.
    public var elementType: ElementType?
    public var byteOrder: ByteOrder?
    /// Bytes to skip at the start of a raw file.
    public var headerBytes: Int?
    /// Dataset path inside an HDF5 file.
    public var dataset: String?
    /// Merlin frames are flipped vertically on reading, as rosettasciio does (`np.flip(data, axis=-2)`);
    /// set false to keep the detector's row order.
    public var merlinFlipRows: Bool

    public init(scan: ScanGrid? = nil, detector: DetectorShape? = nil, elementType: ElementType? = nil,
                byteOrder: ByteOrder? = nil, headerBytes: Int? = nil, dataset: String? = nil,
                merlinFlipRows: Bool = true) {
        self.scan = scan
        self.detector = detector
        self.elementType = elementType
        self.byteOrder = byteOrder
        self.headerBytes = headerBytes
        self.dataset = dataset
        self.merlinFlipRows = merlinFlipRows
    }
}

/// Resolves the scan shape of `frames` frames: the user's shape must fit in the file; without one,
/// the file's own shape is used, else a single row of all frames.
func resolveScan(path: String, frames: Int, fromFile: ScanGrid?, options: ReaderOptions) throws -> ScanGrid {
    if let s = options.scan {
        guard s.rows > 0, s.columns > 0 else {
            throw STEMError.invalidParameter(name: "scan shape", value: "\(s)", expected: "positive rows and columns")
        }
        guard s.count <= frames else {
            throw STEMError.shapeMismatch(path: path, field: "frame count", expected: "at least \(s.count) frames for scan \(s)",
                                          found: "\(frames) frames")
        }
        return s
    }
    if let s = fromFile {
        guard s.count <= frames, s.count > 0 else {
            throw STEMError.shapeMismatch(path: path, field: "scan shape", expected: "\(s.count) frames for the scan \(s) the file declares",
                                          found: "\(frames) frames")
        }
        return s
    }
    return ScanGrid(rows: 1, columns: frames)
}
