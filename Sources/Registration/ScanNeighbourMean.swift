import STEMCore

/// Real-space 3 x 3 mean over scan neighbours (methods notes, section 1, step 3): each pattern is replaced
/// by the mean of the patterns at scan positions (x-1..x+1, y-1..y+1) that exist (fewer at the scan edges).
///
/// The kernel works on whole scan rows so that a distributed job can pass the neighbouring ranks' rows as
/// halos: `rows` holds `rowCount` consecutive scan rows of `columns` patterns each; `haloAbove` is the scan
/// row just above the first one (nil at the top of the scan), `haloBelow` the row just below the last one
/// (nil at the bottom). The output covers exactly the `rowCount` rows.
public enum ScanNeighbourMean {
    /// Pixels summed at a time (4 KiB of each pattern).
    static let block = 1024

    public static func apply(rows: UnsafeBufferPointer<Float>, rowCount: Int, columns: Int, pixelCount: Int,
                             haloAbove: UnsafeBufferPointer<Float>?, haloBelow: UnsafeBufferPointer<Float>?,
                             into destination: UnsafeMutableBufferPointer<Float>) throws {
        let rowSize = columns * pixelCount
        guard rows.count >= rowCount * rowSize, destination.count >= rowCount * rowSize else {
            throw STEMError.shapeMismatch(path: "3x3 mean", field: "rows",
                                          expected: "\(rowCount * rowSize) values", found: "\(min(rows.count, destination.count))")
        }
        for (name, h) in [("halo above", haloAbove), ("halo below", haloBelow)] {
            if let h, h.count < rowSize {
                throw STEMError.shapeMismatch(path: "3x3 mean", field: name,
                                              expected: "one scan row of \(rowSize) values", found: "\(h.count)")
            }
        }
        guard rowCount > 0, columns > 0, pixelCount > 0 else { return }
        let base = rows.baseAddress!, out = destination.baseAddress!
        precondition(UnsafeRawPointer(base) != UnsafeRawPointer(out), "3x3 mean cannot work in place")
        // Pointer to scan row r (r in -1 ... rowCount), nil when it does not exist.
        func row(_ r: Int) -> UnsafePointer<Float>? {
            if r < 0 { return haloAbove?.baseAddress }
            if r >= rowCount { return haloBelow?.baseAddress }
            return base + r * rowSize
        }
        // Per scan row: the up to 9 source patterns of each column; then pixel blocks outermost, columns
        // innermost, so the three input rows' blocks stay in cache and each input pixel comes from memory once
        // (same sum order per pixel: sources in row-major neighbour order).
        var sources = [UnsafePointer<Float>](repeating: base, count: 9 * columns)
        var counts = [Int](repeating: 0, count: columns)
        for r in 0 ..< rowCount {
            for c in 0 ..< columns {
                counts[c] = sources.withUnsafeMutableBufferPointer {
                    neighbours(above: row(r - 1), current: row(r)!, below: row(r + 1), column: c, columns: columns,
                               pixelCount: pixelCount, into: $0.baseAddress! + 9 * c)
                }
            }
            var start = 0
            while start < pixelCount {
                let end = min(start + Self.block, pixelCount)
                for c in 0 ..< columns {
                    let n = counts[c]
                    let d = out + (r * columns + c) * pixelCount
                    let inv = 1 / Float(n)
                    let s0 = sources[9 * c]
                    for i in start ..< end { d[i] = s0[i] }
                    for k in 1 ..< n {
                        let s = sources[9 * c + k]
                        for i in start ..< end { d[i] += s[i] }
                    }
                    for i in start ..< end { d[i] *= inv }
                }
                start = end
            }
        }
    }

    /// The patterns averaged at column `c` of a scan row, in the order they are summed (row-major over the
    /// scan neighbours x-1..x+1, y-1..y+1 that exist): `above`, `current` and `below` are the scan rows
    /// (`columns` patterns of `pixelCount` values each; nil outside the scan). Writes up to 9 pointers to
    /// `destination` and returns how many.
    @inline(__always)
    public static func neighbours(above: UnsafePointer<Float>?, current: UnsafePointer<Float>,
                                  below: UnsafePointer<Float>?, column c: Int, columns: Int, pixelCount: Int,
                                  into destination: UnsafeMutablePointer<UnsafePointer<Float>>) -> Int {
        var n = 0
        @inline(__always) func add(_ row: UnsafePointer<Float>?) {
            guard let row else { return }
            for cc in max(0, c - 1) ... min(columns - 1, c + 1) {
                destination[n] = row + cc * pixelCount
                n += 1
            }
        }
        add(above); add(current); add(below)
        return n
    }
}
