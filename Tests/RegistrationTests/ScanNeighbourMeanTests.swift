import Testing
import STEMCore
import Registration

@Suite struct ScanNeighbourMeanTests {
    /// The 3 x 3 mean computed block by block with halo rows equals the mean over the whole scan, for the scan
    /// split into 2 and 3 row blocks (as ranks would hold them), and equals a direct definition.
    @Test(arguments: [2, 3])
    func haloRowsReproduceTheWholeScan(parts: Int) throws {
        let scan = ScanGrid(rows: 7, columns: 5), p = 6
        var rng = SplitMix64(seed: 1)
        let data: [Float] = (0 ..< scan.count * p).map { _ in Float(rng.uniform() * 100) }
        let rowSize = scan.columns * p
        let whole = try wholeScanMean(data, scan: scan, pixelCount: p)
        // Direct definition.
        for r in 0 ..< scan.rows {
            for c in 0 ..< scan.columns {
                for i in 0 ..< p {
                    var s: Float = 0, n: Float = 0
                    for rr in max(0, r - 1) ... min(scan.rows - 1, r + 1) {
                        for cc in max(0, c - 1) ... min(scan.columns - 1, c + 1) {
                            s += data[(rr * scan.columns + cc) * p + i]; n += 1
                        }
                    }
                    #expect(abs(whole[(r * scan.columns + c) * p + i] - s / n) < 1e-4)
                }
            }
        }
        // Split by rows.
        let split = ScanPartition(total: scan.rows, parts: parts)
        var pieces = [Float]()
        for part in 0 ..< parts {
            let rows = split.range(of: part)
            let mine = Array(data[rows.lowerBound * rowSize ..< rows.upperBound * rowSize])
            let above: [Float]? = rows.lowerBound > 0 ? Array(data[(rows.lowerBound - 1) * rowSize ..< rows.lowerBound * rowSize]) : nil
            let below: [Float]? = rows.upperBound < scan.rows ? Array(data[rows.upperBound * rowSize ..< (rows.upperBound + 1) * rowSize]) : nil
            var out = [Float](repeating: 0, count: mine.count)
            try mine.withUnsafeBufferPointer { m in
                try out.withUnsafeMutableBufferPointer { o in
                    try withOptionalBuffer(above) { a in
                        try withOptionalBuffer(below) { b in
                            try ScanNeighbourMean.apply(rows: m, rowCount: rows.count, columns: scan.columns, pixelCount: p,
                                                        haloAbove: a, haloBelow: b, into: o)
                        }
                    }
                }
            }
            pieces += out
        }
        #expect(pieces == whole)
    }

    /// The row sweep's means (column sums, the ones not formed yet left pending and formed by the consumer)
    /// equal the whole-scan `apply` for every column, including the first (two pending sums), the last, scans of
    /// one row (the patterns themselves) and of one column, with and without halo rows.
    @Test(arguments: [(1, 4), (2, 1), (3, 5), (4, 2)])
    func rowSweepEqualsApply(shape: (rows: Int, columns: Int)) throws {
        let scan = ScanGrid(rows: shape.rows, columns: shape.columns), p = 37
        var rng = SplitMix64(seed: UInt64(17 + scan.count))
        let data: [Float] = (0 ..< scan.count * p).map { _ in Float(rng.uniform() * 1000) }
        let rowSize = scan.columns * p
        let whole = try wholeScanMean(data, scan: scan, pixelCount: p)
        let sweep = ScanNeighbourMean.RowSweep(columns: scan.columns, pixelCount: p)
        var mean = [Float](repeating: 0, count: p)
        data.withUnsafeBufferPointer { d in
            let base = d.baseAddress!
            for r in 0 ..< scan.rows {
                sweep.begin(above: r > 0 ? base + (r - 1) * rowSize : nil, current: base + r * rowSize,
                            below: r + 1 < scan.rows ? base + (r + 1) * rowSize : nil)
                for c in 0 ..< scan.columns {
                    let plan = sweep.plan(column: c)
                    let pending = sweep.pending
                    // Formed in two pieces, as a consumer streaming rows would.
                    pending.form(offset: 0, count: 20)
                    pending.form(offset: 20, count: p - 20)
                    for i in 0 ..< p {
                        var s: Float = 0
                        for t in plan.sums { s += t[i] }
                        mean[i] = s * plan.inverseCount
                    }
                    for i in 0 ..< p {
                        let expected = whole[(r * scan.columns + c) * p + i]
                        #expect(abs(mean[i] - expected) <= 1e-4 * max(1, abs(expected)),
                                "row \(r) column \(c) pixel \(i): \(mean[i]) vs \(expected)")
                    }
                }
            }
        }
    }

    /// A single scan row and a single position work (fewer neighbours); a short halo is a typed error.
    @Test func edgesAndBadHalo() throws {
        let p = 3
        let row: [Float] = [1, 1, 1, 4, 4, 4]
        var out = [Float](repeating: 0, count: 6)
        try row.withUnsafeBufferPointer { r in
            try out.withUnsafeMutableBufferPointer { o in
                try ScanNeighbourMean.apply(rows: r, rowCount: 1, columns: 2, pixelCount: p, haloAbove: nil, haloBelow: nil, into: o)
            }
        }
        #expect(out == [2.5, 2.5, 2.5, 2.5, 2.5, 2.5])
        let short: [Float] = [0]
        #expect(throws: STEMError.self) {
            try row.withUnsafeBufferPointer { r in
                try short.withUnsafeBufferPointer { s in
                    try out.withUnsafeMutableBufferPointer { o in
                        try ScanNeighbourMean.apply(rows: r, rowCount: 1, columns: 2, pixelCount: p, haloAbove: s, haloBelow: nil, into: o)
                    }
                }
            }
        }
    }
}

/// `ScanNeighbourMean.apply` over a whole scan (no halos).
func wholeScanMean(_ data: [Float], scan: ScanGrid, pixelCount p: Int) throws -> [Float] {
    var whole = [Float](repeating: 0, count: data.count)
    try data.withUnsafeBufferPointer { d in
        try whole.withUnsafeMutableBufferPointer { o in
            try ScanNeighbourMean.apply(rows: d, rowCount: scan.rows, columns: scan.columns, pixelCount: p,
                                        haloAbove: nil, haloBelow: nil, into: o)
        }
    }
    return whole
}

func withOptionalBuffer<R>(_ a: [Float]?, _ body: (UnsafeBufferPointer<Float>?) throws -> R) rethrows -> R {
    if let a { return try a.withUnsafeBufferPointer { try body($0) } }
    return try body(nil)
}
