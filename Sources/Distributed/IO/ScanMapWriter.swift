import HDF5
import Imaging
import STEMCore

/// Collective output of per-scan-position results: every rank owns a contiguous run of scan positions and
/// writes its run into datasets shaped (Ny, Nx, ...) of one output file; rank 0 also gathers small maps to
/// render them as PNG images.
public struct ScanMapWriter {
    public let output: OutputFile
    public let scan: ScanGrid
    /// The scan positions this rank owns.
    public let range: Range<Int>

    public init(output: OutputFile, scan: ScanGrid, range: Range<Int>) {
        self.output = output
        self.scan = scan
        self.range = range
    }

    /// Creates `path` shaped (Ny, Nx, trailing...) and writes this rank's `values`
    /// (`range.count * trailing.product` elements), collectively.
    public func write<T: H5Scalar>(_ path: String, _ values: [T], trailing: [Int] = [], chunkPositions: Int? = nil,
                                   attributes: [(String, String)] = []) throws {
        let per = trailing.reduce(1, *)
        precondition(values.count == range.count * per, "\(path): \(values.count) values for \(range.count) positions")
        try output.comm.collectively {
            var chunks: [Int]? = nil
            if let c = chunkPositions, !trailing.isEmpty {
                chunks = [max(1, min(scan.rows, c / max(1, scan.columns))), scan.columns] + trailing
            }
            let ds = try output.root.createDataset(path, of: T.self, shape: [scan.rows, scan.columns] + trailing,
                                                   chunks: chunks)
            for (k, v) in attributes { try ds.setAttribute(k, v) }
            try values.withUnsafeBufferPointer {
                try ds.write(scanRange: range, scanDims: 2, from: $0, transfer: output.transfer)
            }
        }
    }

    /// Writes a dataset whose content every rank holds identically (e.g. a mean pattern after allreduce);
    /// rank 0 supplies the data, the others join the collective call with an empty selection.
    public func writeReplicated<T: H5Scalar>(_ path: String, _ values: [T], shape: [Int],
                                             attributes: [(String, String)] = []) throws {
        try output.comm.collectively {
            let ds = try output.root.createDataset(path, of: T.self, shape: shape)
            for (k, v) in attributes { try ds.setAttribute(k, v) }
            let isRoot = output.comm.isRoot
            try values.withUnsafeBufferPointer {
                try ds.write(start: shape.map { _ in 0 }, count: isRoot ? shape : shape.map { _ in 0 }, from: $0,
                             transfer: output.transfer)
            }
        }
    }

    /// Gathers a per-position map to rank 0 (nil elsewhere).
    public func gather(_ values: [Float]) -> [Float]? { output.comm.gatherv(values, root: 0) }
}

/// Rank 0's PNG rendering of gathered maps into a folder.
public struct MapImages {
    public let folder: String?
    public let scan: ScanGrid

    public init(folder: String?, scan: ScanGrid) {
        self.folder = folder
        self.scan = scan
    }

    /// Writes `name.png` of a full scalar map when a folder was given.
    public func scalar(_ name: String, _ map: [Float], colormap: Colormap = .viridis) throws {
        guard let folder else { return }
        let s = MapRenderer.upscale(forWidth: scan.columns, height: scan.rows)
        try MapRenderer.scalar(map, width: scan.columns, height: scan.rows, colormap: colormap, scale: s)
            .write(to: folder + "/" + name + ".png")
    }

    /// Writes `name.png` of a pattern-sized image (log stretch).
    public func pattern(_ name: String, _ values: [Float], detector: DetectorShape) throws {
        guard let folder else { return }
        try MapRenderer.pattern(values, width: detector.columns, height: detector.rows)
            .write(to: folder + "/" + name + ".png")
    }
}
