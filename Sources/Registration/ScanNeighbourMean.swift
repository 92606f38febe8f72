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

extension ScanNeighbourMean {
    /// `dst = scale * (t_0 + t_1 + ...)` over `count` values from `offset` of each term, summed in order (the
    /// 3 x 3 mean of `PatternRegistrar.register(meanAt:of:...)`, and with scale 1 the column sums of `RowSweep`).
    @inline(__always)
    static func sum(_ terms: UnsafeBufferPointer<UnsafePointer<Float>>, offset: Int, count n: Int, scale: Float,
                    into dst: UnsafeMutablePointer<Float>) {
        let k = terms.count
        @inline(__always) func load(_ t: Int, _ i: Int) -> SIMD8<Float> {
            UnsafeRawPointer(terms[t] + offset + i).loadUnaligned(as: SIMD8<Float>.self)
        }
        var i = 0
        @inline(__always) func store(_ v: SIMD8<Float>, _ i: Int) {
            UnsafeMutableRawPointer(dst + i).storeBytes(of: v, as: SIMD8<Float>.self)
        }
        switch k { // the common term counts with the pointers in registers (same order of additions)
        case 3:
            let a = terms[0] + offset, b = terms[1] + offset, c = terms[2] + offset
            while i &+ 8 <= n {
                let va = UnsafeRawPointer(a + i).loadUnaligned(as: SIMD8<Float>.self)
                let vb = UnsafeRawPointer(b + i).loadUnaligned(as: SIMD8<Float>.self)
                let vc = UnsafeRawPointer(c + i).loadUnaligned(as: SIMD8<Float>.self)
                store((va + vb + vc) * scale, i)
                i &+= 8
            }
        case 2:
            let a = terms[0] + offset, b = terms[1] + offset
            while i &+ 8 <= n {
                let va = UnsafeRawPointer(a + i).loadUnaligned(as: SIMD8<Float>.self)
                let vb = UnsafeRawPointer(b + i).loadUnaligned(as: SIMD8<Float>.self)
                store((va + vb) * scale, i)
                i &+= 8
            }
        default:
            while i &+ 8 <= n {
                var acc = load(0, i)
                for t in 1 ..< k { acc += load(t, i) }
                store(acc * scale, i)
                i &+= 8
            }
        }
        while i < n {
            var acc = terms[0][offset + i]
            for t in 1 ..< k { acc += terms[t][offset + i] }
            dst[i] = acc * scale
            i += 1
        }
    }

    /// The 3 x 3 means of one scan row from column sums: `V_c = P(r-1, c) + P(r, c) + P(r+1, c)` is formed once
    /// per column (a ring of three), and the mean at column c is `(V_{c-1} + V_c + V_{c+1}) / n`, so each input
    /// pattern is read three times over the whole scan instead of nine (the prepared rows of a large detector
    /// do not fit in cache). The sum is the same as `apply`'s up to rounding (another order of the additions).
    ///
    /// A column sum not formed yet is left *pending* by `plan(column:)`: its consumer forms it row by row
    /// (`pending.form`) just before reading the same rows of the mean, so that the new sum is read back from
    /// the first-level cache (`PatternRegistrar.register(meanAt:of:...)` does).
    public final class RowSweep {
        public let columns: Int, pixelCount: Int
        private let sums: UnsafeMutablePointer<Float>
        private var slotColumn = [-1, -1, -1]
        private var above: UnsafePointer<Float>?, current: UnsafePointer<Float>?, below: UnsafePointer<Float>?
        private let pointers: UnsafeMutablePointer<UnsafePointer<Float>>
        /// Pending sums: destinations, and three terms each.
        private let pendingDestination: UnsafeMutablePointer<UnsafeMutablePointer<Float>>
        private let pendingTerms: UnsafeMutablePointer<UnsafePointer<Float>>
        private var pendingCount = 0, pendingTermCount = 0

        public init(columns: Int, pixelCount: Int) {
            self.columns = columns
            self.pixelCount = pixelCount
            sums = AlignedAllocation.allocate(Float.self, capacity: 3 * max(1, pixelCount))
            pointers = .allocate(capacity: 3)
            pendingDestination = .allocate(capacity: 3)
            pendingTerms = .allocate(capacity: 9)
        }

        deinit { sums.deallocate(); pointers.deallocate(); pendingDestination.deallocate(); pendingTerms.deallocate() }

        /// Starts scan row r: the rows above and below (nil outside the scan), `columns` patterns each.
        public func begin(above: UnsafePointer<Float>?, current: UnsafePointer<Float>, below: UnsafePointer<Float>?) {
            self.above = above
            self.current = current
            self.below = below
            slotColumn = [-1, -1, -1]
            pendingCount = 0
        }

        /// The column sums to add for the mean at column c, in order, and `1 / n` (n = the number of patterns
        /// averaged). The sums not formed yet are `pending`: the caller forms them (`pending.form` over every row,
        /// each once, before reading that row of the terms; the whole pattern at once is one call) before the
        /// next plan, which counts them as formed. The pointers are valid until the next call.
        public func plan(column c: Int) -> (sums: UnsafeBufferPointer<UnsafePointer<Float>>, inverseCount: Float) {
            let rows = 1 + (above == nil ? 0 : 1) + (below == nil ? 0 : 1)
            let c0 = max(0, c - 1), c1 = min(columns - 1, c + 1)
            pendingCount = 0
            for cc in c0 ... c1 { pointers[cc - c0] = columnSum(cc) }
            return (UnsafeBufferPointer(start: pointers, count: c1 - c0 + 1), 1 / Float(rows * (c1 - c0 + 1)))
        }

        /// The column sums the last plan left to form: `count` destinations, each the sum of `termCount` terms
        /// (`terms[3 k ..< 3 k + termCount]` for destination k). Plain pointers, valid until the next plan.
        public struct PendingSums {
            public let count: Int, termCount: Int
            let destinations: UnsafePointer<UnsafeMutablePointer<Float>>
            let terms: UnsafePointer<UnsafePointer<Float>>

            /// Forms `length` values from `offset` of every pending sum.
            @inline(__always)
            public func form(offset: Int, count length: Int) {
                for k in 0 ..< count {
                    ScanNeighbourMean.sum(UnsafeBufferPointer(start: terms + 3 * k, count: termCount),
                                          offset: offset, count: length, scale: 1, into: destinations[k] + offset)
                }
            }
        }

        /// The sums the last plan left pending.
        public var pending: PendingSums {
            PendingSums(count: pendingCount, termCount: pendingTermCount, destinations: pendingDestination,
                        terms: pendingTerms)
        }

        /// `V_c` (the pattern itself when the scan has one row), pending when not formed yet.
        private func columnSum(_ c: Int) -> UnsafePointer<Float> {
            let n = pixelCount, off = c * n
            let cur = current! + off
            guard above != nil || below != nil else { return cur }
            let slot = c % 3
            let v = sums + slot * n
            if slotColumn[slot] == c { return UnsafePointer(v) }
            slotColumn[slot] = c
            // In row order, as `apply` sums them: above, current, below.
            let terms = pendingTerms + 3 * pendingCount
            var k = 0
            if let a = above { terms[k] = a + off; k += 1 }
            terms[k] = cur; k += 1
            if let b = below { terms[k] = b + off; k += 1 }
            pendingTermCount = k
            pendingDestination[pendingCount] = v
            pendingCount += 1
            return UnsafePointer(v)
        }
    }
}
