import HDF5
import STEMCore

/// Reads patterns from an HDF5 dataset shaped (Ny, Nx, Ky, Kx), or (N, Ky, Kx) with the scan shape given.
/// Chunked or contiguous; any numeric type is read in its own type and converted to `Float` here.
public final class HDF5PatternSource: PatternSource {
    public let path: String
    public let datasetPath: String
    public let scan: ScanGrid
    public let detector: DetectorShape
    public let elementType: ElementType
    public let metadata: [(String, String)]
    /// Number of leading scan dimensions of the dataset (1 or 2).
    public let scanDims: Int
    private let file: H5File
    private let dataset: H5Dataset
    private var scratch: [UInt8] = []

    public var formatName: String { "hdf5" }

    /// Opens `datasetPath` in `path` (nil: the largest 3D or 4D numeric dataset in the file). `scanShape`
    /// is required for (N, Ky, Kx) data and checked against (Ny, Nx, Ky, Kx) data.
    public init(path: String, datasetPath: String? = nil, scanShape: ScanGrid? = nil) throws {
        let file = try H5File.open(path)
        let dsPath: String
        if let d = datasetPath {
            dsPath = d
        } else {
            guard let found = HDF5PatternSource.findPatternDataset(in: file) else {
                throw STEMError.missingField(path: path, field: "4D or 3D numeric dataset",
                                             hint: "give the dataset path with --dataset; `stemrun info \(path)` lists them")
            }
            dsPath = found
        }
        // HDF5 shares one chunk cache among the handles of a dataset, sized when the first is opened: the layout
        // is looked at through a handle released before the one that reads.
        let cacheBytes: Int? = try {
            let probe = try file.dataset(dsPath)
            return Self.chunkCacheBytes(shape: probe.shape, chunk: probe.chunkShape, elementBytes: probe.elementType?.byteSize ?? 1)
        }()
        let ds = try file.dataset(dsPath, chunkCacheBytes: cacheBytes)
        let shape = ds.shape
        guard let type = ds.elementType else {
            throw STEMError.unsupportedType(path: path, field: dsPath, type: ds.typeDescription)
        }
        let scan: ScanGrid
        switch shape.count {
        case 4:
            scan = ScanGrid(rows: shape[0], columns: shape[1])
            if let s = scanShape, s != scan {
                throw STEMError.shapeMismatch(path: path, field: dsPath, expected: "scan shape \(s) as given",
                                              found: "dataset shape \(shape) (scan \(scan))")
            }
            scanDims = 2
        case 3:
            guard let s = scanShape else {
                throw STEMError.shapeMismatch(path: path, field: dsPath,
                                              expected: "a 4D dataset (Ny, Nx, Ky, Kx), or --scan-shape NYxNX for (N, Ky, Kx)",
                                              found: "3D shape \(shape) and no scan shape")
            }
            guard s.count == shape[0] else {
                throw STEMError.shapeMismatch(path: path, field: dsPath,
                                              expected: "\(s.count) frames for scan shape \(s)",
                                              found: "\(shape[0]) frames (shape \(shape))")
            }
            scan = s
            scanDims = 1
        default:
            throw STEMError.shapeMismatch(path: path, field: dsPath,
                                          expected: "rank 4 (Ny, Nx, Ky, Kx) or rank 3 (N, Ky, Kx)",
                                          found: "rank \(shape.count) shape \(shape)")
        }
        let det = DetectorShape(rows: shape[shape.count - 2], columns: shape[shape.count - 1])
        guard scan.count > 0, det.pixelCount > 0 else {
            throw STEMError.shapeMismatch(path: path, field: dsPath, expected: "non-empty scan and detector",
                                          found: "shape \(shape)")
        }
        var meta: [(String, String)] = [("dataset", dsPath), ("shape", "\(shape)")]
        meta.append(("layout", ds.chunkShape.map { "chunked \($0)" } ?? "contiguous"))
        if ds.filterCount > 0 { meta.append(("filters", "\(ds.filterCount)")) }
        for key in ds.attributeNames() { if let v = ds.attributeText(key) { meta.append((key, v)) } }
        for key in file.attributeNames() { if let v = file.attributeText(key) { meta.append(("/" + key, v)) } }
        self.path = path
        self.datasetPath = dsPath
        self.scan = scan
        self.detector = det
        self.elementType = type
        self.metadata = meta
        self.file = file
        self.dataset = ds
    }

    /// A chunk cache that holds the chunks one read touches (at most about 1 MiB of patterns, in one scan row or
    /// across two), so that chunks spanning several patterns are decompressed once; nil (HDF5's default,
    /// 1 MiB) when that is enough or the layout is not chunked. At most 256 MiB.
    static func chunkCacheBytes(shape: [Int], chunk: [Int]?, elementBytes: Int) -> Int? {
        guard let chunk, chunk.count == shape.count, shape.count >= 3, chunk.allSatisfy({ $0 > 0 }) else { return nil }
        let step = stagingPositions(bytesPerPattern: shape.suffix(2).reduce(elementBytes, *))
        let chunkBytes = chunk.reduce(elementBytes, *)
        let across = zip(shape, chunk).suffix(2).reduce(1) { $0 * (($1.0 + $1.1 - 1) / $1.1) } // over the detector
        let axis = shape.count - 3 // the scan's fastest axis
        let along = (step + chunk[axis] - 1) / chunk[axis] + 1
        let bytes = min(256 << 20, 2 * chunkBytes * across * along)
        return bytes > 1 << 20 ? bytes : nil
    }

    /// The largest numeric dataset of rank 3 or 4 (by element count), depth-first.
    public static func findPatternDataset(in file: H5File) -> String? {
        var best: (String, Int)?
        for p in file.datasetPaths() {
            guard let d = try? file.dataset(p), d.elementType != nil else { continue }
            let s = d.shape
            guard s.count == 3 || s.count == 4 else { continue }
            let n = s.reduce(1, *)
            if best == nil || n > best!.1 { best = (p, n) }
        }
        return best?.0
    }

    /// Positions per HDF5 read when converting: the staging buffer (about 1 MiB) stays in cache.
    static func stagingPositions(bytesPerPattern: Int) -> Int { max(1, (1 << 20) / max(1, bytesPerPattern)) }

    public func read(positions: Range<Int>, into destination: UnsafeMutableBufferPointer<Float>) throws {
        let p = detector.pixelCount
        precondition(destination.count >= positions.count * p)
        if positions.isEmpty { return }
        if elementType == .float32 {
            try dataset.read(scanRange: positions, scanDims: scanDims, memoryType: .float32,
                             into: UnsafeMutableRawPointer(destination.baseAddress))
            return
        }
        let step = Self.stagingPositions(bytesPerPattern: bytesPerPattern)
        let bytes = min(step, positions.count) * bytesPerPattern
        if scratch.count < bytes { scratch = [UInt8](repeating: 0, count: bytes) }
        try scratch.withUnsafeMutableBytes { raw in
            for part in ScanPartition.chunks(of: positions, size: step) {
                try dataset.read(scanRange: part, scanDims: scanDims, memoryType: elementType, into: raw.baseAddress)
                convertToFloat(UnsafeRawPointer(raw.baseAddress!), type: elementType, order: .native, count: part.count * p,
                               into: destination.baseAddress! + (part.lowerBound - positions.lowerBound) * p)
            }
        }
    }
}
