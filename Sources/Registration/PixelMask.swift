import STEMCore

/// Detector pixels to ignore (hot, dead or user-masked). `isBad[i]` for pixel index `i` (row-major).
public struct PixelMask: Sendable, Equatable {
    public var shape: DetectorShape
    public var isBad: [Bool]

    public init(shape: DetectorShape, isBad: [Bool]) throws {
        guard isBad.count == shape.pixelCount else {
            throw STEMError.shapeMismatch(path: "pixel mask", field: "mask", expected: "\(shape.pixelCount) pixels (\(shape))",
                                          found: "\(isBad.count)")
        }
        self.shape = shape
        self.isBad = isBad
    }

    /// An empty mask.
    public init(shape: DetectorShape) {
        self.shape = shape
        isBad = [Bool](repeating: false, count: shape.pixelCount)
    }

    public var badCount: Int { isBad.reduce(0) { $0 + ($1 ? 1 : 0) } }
    /// Indices of the bad pixels, ascending.
    public var badIndices: [Int] { isBad.indices.filter { isBad[$0] } }

    /// Replaces every bad pixel of `pattern`: an isolated one by the median of its valid 3 x 3 neighbours, one
    /// of a cluster or a gap by linear interpolation across it (`interpolated`; the median of its valid
    /// neighbours where that fails, 0 when none is valid).
    public func apply(to pattern: UnsafeMutableBufferPointer<Float>) {
        let w = shape.columns, h = shape.rows
        precondition(pattern.count >= w * h)
        var neighbours = (Float(0), Float(0), Float(0), Float(0), Float(0), Float(0), Float(0), Float(0))
        withUnsafeMutableBytes(of: &neighbours) { raw in
            let nb = raw.bindMemory(to: Float.self)
            for i in isBad.indices where isBad[i] {
                let y = i / w, x = i % w
                var n = 0
                for dy in -1 ... 1 {
                    for dx in -1 ... 1 where dx != 0 || dy != 0 {
                        let yy = y + dy, xx = x + dx
                        if yy < 0 || yy >= h || xx < 0 || xx >= w { continue }
                        let q = yy * w + xx
                        if isBad[q] || !pattern[q].isFinite { continue }
                        nb[n] = pattern[q]; n += 1
                    }
                }
                // An isolated bad pixel: the median of its neighbours; one of a cluster or a gap (a bad
                // neighbour): linear across it (a copy of one side's neighbours would bias what crosses it).
                let full = (y > 0 && y < h - 1 ? 3 : 2) * (x > 0 && x < w - 1 ? 3 : 2) - 1
                if n == full {
                    pattern[i] = Self.median(nb.baseAddress!, n)
                } else if let v = interpolated(pattern, x: x, y: y) {
                    pattern[i] = v
                } else {
                    pattern[i] = n == 0 ? 0 : Self.median(nb.baseAddress!, n)
                }
            }
        }
    }

    /// A bad pixel of a cluster or a gap: linear between the nearest good pixels along its row, its column or
    /// a diagonal (where two gaps cross), whichever pair is closer (within 8 steps on each side); nil when
    /// none has a good pixel on both sides.
    func interpolated(_ pattern: UnsafeMutableBufferPointer<Float>, x: Int, y: Int) -> Float? {
        let w = shape.columns, h = shape.rows
        var best: (span: Float, value: Float)?
        // Rows and columns first; the diagonals for the crossing of two gaps.
        /// The nearest good pixel from (x, y) along (dx, dy), within 8 steps: its distance in steps and value.
        func end(_ dx: Int, _ dy: Int) -> (steps: Int, value: Float)? {
            for k in 1 ... 8 {
                let xx = x + k * dx, yy = y + k * dy
                if xx < 0 || yy < 0 || xx >= w || yy >= h { return nil }
                let q = yy * w + xx
                if !isBad[q] && pattern[q].isFinite { return (k, pattern[q]) }
            }
            return nil
        }
        for (dx, dy) in [(1, 0), (0, 1), (1, 1), (1, -1)] {
            guard let a = end(-dx, -dy), let b = end(dx, dy) else { continue }
            let steps = a.steps + b.steps
            let value = (Float(b.steps) * a.value + Float(a.steps) * b.value) / Float(steps)
            let span = Float(steps) * (dx != 0 && dy != 0 ? 1.4142 : 1)
            if best == nil || span < best!.span { best = (span, value) }
        }
        return best?.value
    }

    /// Median of `n <= 9` values (sorted in place by insertion).
    @inline(__always) static func median(_ v: UnsafeMutablePointer<Float>, _ n: Int) -> Float {
        for i in 1 ..< max(1, n) {
            let x = v[i]
            var j = i - 1
            while j >= 0 && v[j] > x { v[j + 1] = v[j]; j -= 1 }
            v[j + 1] = x
        }
        return n % 2 == 1 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

/// Per-pixel statistics over many patterns (sum, count of non-zero frames), from which hot and dead pixels are
/// found. Partial statistics of several ranks combine by element-wise sums (`merge`, or an MPI allreduce of
/// `sums` and `nonZeroCounts`).
public struct PixelStatistics: Sendable {
    public var shape: DetectorShape
    public var patternCount: Int = 0
    public var sums: [Double]
    public var nonZeroCounts: [Double]

    public init(shape: DetectorShape) {
        self.shape = shape
        sums = [Double](repeating: 0, count: shape.pixelCount)
        nonZeroCounts = sums
    }

    /// Adds one pattern (non-finite values count as zero).
    public mutating func add(_ pattern: UnsafeBufferPointer<Float>) {
        precondition(pattern.count >= shape.pixelCount)
        patternCount += 1
        sums.withUnsafeMutableBufferPointer { s in
            nonZeroCounts.withUnsafeMutableBufferPointer { z in
                for i in 0 ..< shape.pixelCount {
                    let v = pattern[i]
                    if v.isFinite && v != 0 { s[i] += Double(v); z[i] += 1 }
                }
            }
        }
    }

    public mutating func merge(_ other: PixelStatistics) {
        precondition(other.shape == shape)
        patternCount += other.patternCount
        for i in sums.indices { sums[i] += other.sums[i]; nonZeroCounts[i] += other.nonZeroCounts[i] }
    }

    /// Mean pattern.
    public var mean: [Float] {
        let n = Double(max(1, patternCount))
        return sums.map { Float($0 / n) }
    }

    /// Hot and dead pixels found from the data.
    ///
    /// - dead: zero in every pattern while the median of its 3 x 3 neighbours' non-zero fractions is > 1/2, or
    ///   while along its row or its column the nearest pixels on both sides within `gapReach` px that are
    ///   not zero in every pattern are non-zero in most, or along a diagonal, and it lies on a run of
    ///   `gapLength` such pixels along a row or a column (a gap of up to 2 gapReach - 1 pixels between detector
    ///   modules and where two cross, a dead row or column; the edge of a dark region has live pixels on one
    ///   side only);
    /// - hot: `mean - median(neighbour means) > hotSigmas * 1.4826 * MAD` (neighbours zero in every pattern
    ///   left out; MAD = median absolute deviation of that residual over the detector) *and* `mean > hotRatio * median(neighbour means)`: the ratio test
    ///   keeps genuine sharp features (the direct beam, a few pixels wide, is at most a few times its
    ///   neighbours) while isolated hot pixels are orders of magnitude above theirs.
    public func detectBadPixels(hotSigmas: Double = 10, hotRatio: Double = 5) -> PixelMask {
        let w = shape.columns, h = shape.rows, n = shape.pixelCount
        var mask = PixelMask(shape: shape)
        guard patternCount > 0, n > 0 else { return mask }
        let pc = Double(patternCount)
        let mean = sums.map { $0 / pc }
        var residual = [Double](repeating: 0, count: n), medians = [Double](repeating: 0, count: n)
        var nb = [Double](), frac = [Double]()
        nb.reserveCapacity(8); frac.reserveCapacity(8)
        for y in 0 ..< h {
            for x in 0 ..< w {
                nb.removeAll(keepingCapacity: true); frac.removeAll(keepingCapacity: true)
                for dy in -1 ... 1 {
                    for dx in -1 ... 1 where dx != 0 || dy != 0 {
                        let yy = y + dy, xx = x + dx
                        if yy < 0 || yy >= h || xx < 0 || xx >= w { continue }
                        frac.append(nonZeroCounts[yy * w + xx] / pc)
                        // Neighbours zero in every pattern (dead, a gap) do not set the level a hot pixel
                        // stands above.
                        if nonZeroCounts[yy * w + xx] > 0 { nb.append(mean[yy * w + xx]) }
                    }
                }
                let i = y * w + x
                let m = Self.median(&nb)
                medians[i] = m
                residual[i] = mean[i] - m
                if nonZeroCounts[i] == 0 && Self.median(&frac) > 0.5 { mask.isBad[i] = true }
            }
        }
        // Gaps: zero always, live pixels on both sides along a row or a column.
        func live(_ x: Int, _ y: Int) -> Bool? { // nil: zero in every pattern too
            let c = nonZeroCounts[y * w + x]
            return c == 0 ? nil : c / pc > 0.5
        }
        func bracketed(_ x: Int, _ y: Int, _ dx: Int, _ dy: Int) -> Bool {
            var sides = 0
            for s in [-1, 1] {
                var k = 1
                while k <= Self.gapReach {
                    let xx = x + s * k * dx, yy = y + s * k * dy
                    if xx < 0 || yy < 0 || xx >= w || yy >= h { return false }
                    if let l = live(xx, yy) { if l { sides += 1 }; break }
                    k += 1
                }
            }
            return sides == 2
        }
        /// Whether (x, y) lies on a run of at least `gapLength` pixels zero in every pattern along (dx, dy).
        func onLine(_ x: Int, _ y: Int, _ dx: Int, _ dy: Int) -> Bool {
            var run = 1
            for s in [-1, 1] {
                var k = 1
                while run < Self.gapLength {
                    let xx = x + s * k * dx, yy = y + s * k * dy
                    if xx < 0 || yy < 0 || xx >= w || yy >= h || nonZeroCounts[yy * w + xx] != 0 { break }
                    run += 1; k += 1
                }
            }
            return run >= Self.gapLength
        }
        for y in 0 ..< h {
            for x in 0 ..< w where nonZeroCounts[y * w + x] == 0 && !mask.isBad[y * w + x] {
                guard onLine(x, y, 1, 0) || onLine(x, y, 0, 1) else { continue }
                if bracketed(x, y, 1, 0) || bracketed(x, y, 0, 1) || bracketed(x, y, 1, 1) || bracketed(x, y, 1, -1) {
                    mask.isBad[y * w + x] = true
                }
            }
        }
        var absResidual = residual.map { abs($0) }
        let sigma = 1.4826 * Self.median(&absResidual)
        for i in 0 ..< n where !mask.isBad[i] {
            if residual[i] > hotSigmas * max(sigma, 1e-12) && mean[i] > hotRatio * max(medians[i], 0) {
                mask.isBad[i] = true
            }
        }
        return mask
    }

    /// The widest gap found: live pixels at most this far on both sides.
    public static let gapReach = 4
    /// A gap is a line: its pixels lie on runs of at least this many pixels zero in every pattern along a row
    /// or a column (zeros between two spots of noise-free data are not a gap).
    public static let gapLength = 16

    static func median(_ v: inout [Double]) -> Double {
        guard !v.isEmpty else { return 0 }
        v.sort()
        let n = v.count
        return n % 2 == 1 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}
