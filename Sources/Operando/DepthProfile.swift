import STEMCore

/// Direction of the electrode thickness on the scan grid (current collector → separator).
public struct DepthAxis: Hashable, Sendable, Codable {
    public enum Axis: String, Sendable, Codable { case rows, columns }
    /// Scan axis along which depth varies.
    public var axis: Axis
    /// The current collector is at index 0 of that axis (else at the last index).
    public var collectorAtStart: Bool

    public init(axis: Axis = .columns, collectorAtStart: Bool = true) {
        self.axis = axis
        self.collectorAtStart = collectorAtStart
    }

    /// Number of lines across the thickness.
    public func lines(_ scan: ScanGrid) -> Int { axis == .columns ? scan.columns : scan.rows }

    /// Depth line (0 = collector side) of scan index `i`.
    @inlinable
    public func line(of i: Int, in scan: ScanGrid) -> Int {
        let (r, c) = scan.position(of: i)
        let k = axis == .columns ? c : r
        return collectorAtStart ? k : lines(scan) - 1 - k
    }
}

/// Label statistics against depth: for each of `bins` slabs from the current collector (depth 0) to the
/// separator (depth 1), the count of each label and its fraction among positions with signal (label ≠ 0).
public struct DepthProfile: Hashable, Sendable {
    /// Slab centres, normalised depth in [0, 1].
    public var depth: [Double]
    /// counts[b][label]
    public var counts: [[Int]]

    public init(depth: [Double], counts: [[Int]]) {
        self.depth = depth
        self.counts = counts
    }

    /// Number of slabs used for `bins` requested on a scan (at most one slab per line).
    public static func slabCount(bins: Int?, scan: ScanGrid, axis: DepthAxis) -> Int {
        min(max(bins ?? axis.lines(scan), 1), max(axis.lines(scan), 1))
    }

    public init(labels: [UInt8], classes: Int, scan: ScanGrid, axis: DepthAxis, bins: Int? = nil) throws {
        guard labels.count == scan.count else {
            throw STEMError.shapeMismatch(path: "depth profile", field: "labels", expected: "\(scan.count) positions",
                                          found: "\(labels.count)")
        }
        let lines = axis.lines(scan)
        let nb = Self.slabCount(bins: bins, scan: scan, axis: axis)
        guard lines >= 1 else {
            throw STEMError.invalidParameter(name: "scan", value: "\(scan)", expected: "a non-empty grid")
        }
        depth = (0 ..< nb).map { (Double($0) + 0.5) / Double(nb) }
        counts = [[Int]](repeating: [Int](repeating: 0, count: classes), count: nb)
        for i in 0 ..< labels.count where Int(labels[i]) < classes {
            let b = axis.line(of: i, in: scan) * nb / lines
            counts[b][Int(labels[i])] += 1
        }
    }

    /// Fraction of `label` among positions with signal, per slab (0 where a slab has no signal).
    public func fraction(of label: UInt8) -> [Double] {
        counts.map { c in
            let material = c.dropFirst().reduce(0, +)
            return material > 0 ? Double(c[Int(label)]) / Double(material) : 0
        }
    }
}
