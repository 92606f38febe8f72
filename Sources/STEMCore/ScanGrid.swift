/// The 2D raster of probe positions of a 4D-STEM acquisition: `rows` x `columns` positions, scan index
/// `i = row * columns + column` (row-major, the order detectors write frames in).
public struct ScanGrid: Hashable, Sendable, Codable, CustomStringConvertible {
    public var rows: Int
    public var columns: Int

    public init(rows: Int, columns: Int) {
        self.rows = rows
        self.columns = columns
    }

    /// Number of scan positions N = rows * columns.
    public var count: Int { rows * columns }

    /// (row, column) of scan index `i`.
    @inlinable public func position(of index: Int) -> (row: Int, column: Int) {
        (index / columns, index % columns)
    }

    /// Scan index of (row, column).
    @inlinable public func index(row: Int, column: Int) -> Int { row * columns + column }

    public var description: String { "\(rows) x \(columns)" }
}

/// The pixel grid of the detector: every diffraction pattern is `rows` x `columns` pixels, row-major.
public struct DetectorShape: Hashable, Sendable, Codable, CustomStringConvertible {
    public var rows: Int
    public var columns: Int

    public init(rows: Int, columns: Int) {
        self.rows = rows
        self.columns = columns
    }

    /// Pixels per pattern P = rows * columns.
    public var pixelCount: Int { rows * columns }

    public var description: String { "\(rows) x \(columns)" }
}
