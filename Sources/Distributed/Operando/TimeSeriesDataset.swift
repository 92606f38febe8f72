import HDF5
import STEMCore

/// A dataset shaped (T, Ny, Nx, trailing...) written step by step: created collectively, then every rank
/// writes its own scan positions of a step with independent hyperslab writes (at most three rectangles).
public struct TimeSeriesDataset {
    public let dataset: H5Dataset
    public let scan: ScanGrid
    public let trailing: [Int]

    /// Creates the dataset in `output` (collective); `attributes` are strings, `numbers` doubles.
    public init(output: OutputFile, path: String, steps: Int, scan: ScanGrid, trailing: [Int],
                attributes: [(String, String)] = [], numbers: [(String, Double)] = []) throws {
        self.scan = scan
        self.trailing = trailing
        dataset = try output.comm.collectively {
            let ds = try output.root.createDataset(path, of: Float.self, shape: [steps, scan.rows, scan.columns] + trailing)
            for (k, v) in attributes { try ds.setAttribute(k, v) }
            for (k, v) in numbers { try ds.setAttribute(k, v) }
            return ds
        }
    }

    /// Writes scan positions `positions` of `step` from `values` (position-major), independently.
    public func write(step: Int, positions: Range<Int>, values: UnsafeBufferPointer<Float>) throws {
        let per = trailing.reduce(1, *)
        precondition(values.count >= positions.count * per)
        var offset = 0
        for r in scanRectangles(positions, columns: scan.columns) {
            let n = r.rows * r.columns * per
            try dataset.write(start: [step, r.row, r.column] + trailing.map { _ in 0 },
                              count: [1, r.rows, r.columns] + trailing,
                              from: UnsafeBufferPointer(rebasing: values[offset ..< offset + n]))
            offset += n
        }
    }
}
