/// Per-spot kernels of the methods notes, section 1: noise level, sub-pixel centroid refinement, disc
/// intensity and pseudo-prominence. Coordinates use the pixel-edge convention of `Spot`.
public enum SpotMeasurement {
    /// `max(v, 0)` of a finite `v` without a branch (the sign bit clears the value: -0 and negative values give
    /// +0, as `max` does), for loops where the sign of `v` follows the noise and a branch would be mispredicted.
    @inline(__always)
    static func nonNegative(_ v: Float) -> Float {
        Float(bitPattern: v.bitPattern & ~UInt32(bitPattern: Int32(bitPattern: v.bitPattern) >> 31))
    }

    /// Standard deviation of the pixels whose centres lie outside the inscribed circle (radius min(W, H)/2
    /// around (W/2, H/2)): the high-angle corners (methods notes, "noise"), accumulated one row at a time (rows
    /// in any order, each once); `value` is 0 when there are fewer than two such pixels.
    public struct CornerNoise {
        public let width: Int, height: Int
        private let cx: Double, cy: Double, r2: Double
        private var n = 0.0, s = 0.0, ss = 0.0

        public init(width: Int, height: Int) {
            self.width = width
            self.height = height
            cx = Double(width) / 2; cy = Double(height) / 2
            let r = Double(min(width, height)) / 2
            r2 = r * r
        }

        /// Adds the corner pixels of row `i`.
        @inline(__always)
        public mutating func add(row: UnsafePointer<Float>, index i: Int) {
            let dy = Double(i) + 0.5 - cy
            let h2 = r2 - dy * dy
            // Columns inside the circle: |j + 0.5 - cx| <= h.
            var j0 = width, j1 = -1
            if h2 >= 0 {
                let h = h2.squareRoot()
                j0 = max(0, Int((cx - h - 0.5).rounded(.up)))
                j1 = min(width - 1, Int((cx + h - 0.5).rounded(.down)))
            }
            let a = min(j0, width), b = max(j1 + 1, a) // the corners: columns 0 ..< a and b ..< width
            let left = Self.sums(row, 0 ..< a), right = Self.sums(row, b ..< width)
            n += Double(a + width - b); s += Double(left.s + right.s); ss += Double(left.ss + right.ss)
        }

        /// The sum and the sum of squares of `row[columns]`, eight lanes at a time (no chain of dependent
        /// additions through every pixel).
        @inline(__always)
        static func sums(_ row: UnsafePointer<Float>, _ columns: Range<Int>) -> (s: Float, ss: Float) {
            var j = columns.lowerBound
            var vs = SIMD8<Float>(), vss = SIMD8<Float>()
            while j &+ 8 <= columns.upperBound {
                let v = UnsafeRawPointer(row + j).loadUnaligned(as: SIMD8<Float>.self)
                vs += v; vss += v * v
                j &+= 8
            }
            var rs = vs.sum(), rss = vss.sum()
            while j < columns.upperBound { let v = row[j]; rs += v; rss += v * v; j &+= 1 }
            return (rs, rss)
        }

        /// The mean of the pixels added (0 when none).
        public var mean: Float {
            guard n > 0 else { return 0 }
            let m = Float(s / n)
            return m.isFinite ? m : 0
        }

        /// The standard deviation of the pixels added (0 when fewer than two).
        public var value: Float {
            guard n > 1 else { return 0 }
            let mean = s / n
            let variance = max(0, (ss - n * mean * mean) / (n - 1))
            let sd = Float(variance.squareRoot())
            return sd.isFinite ? sd : 0
        }
    }

    /// `passes` iterations of the intensity centroid (weights clipped at zero, optionally above the mean of
    /// the window's border pixels) in a square window of side `window` centred on the current estimate
    /// (methods notes, "Sub-pixel refinement"). Pixels cut by the
    /// window border count with the fraction of their area inside it, so the window is exactly centred on the
    /// estimate: a uniform residual background then pulls only towards the current estimate (slowing
    /// convergence) and never towards the pixel grid (no bias). Stops early when the window holds no positive
    /// weight or the estimate stops moving.
    public static func refine(_ image: UnsafeBufferPointer<Float>, width: Int, height: Int, x: Float, y: Float,
                              window: Float, passes: Int, subtractBaseline: Bool = false) -> (x: Float, y: Float) {
        var cx = x, cy = y
        let half = window / 2
        let p = image.baseAddress!
        // Fraction of pixel [k, k+1) inside [a, b].
        @inline(__always) func overlap(_ k: Int, _ a: Float, _ b: Float) -> Float {
            max(0, min(Float(k + 1), b) - max(Float(k), a))
        }
        for _ in 0 ..< passes {
            let ax = cx - half, bx = cx + half, ay = cy - half, by = cy + half
            let j0 = max(0, Int(ax.rounded(.down))), j1 = min(width - 1, Int(bx.rounded(.down)))
            let i0 = max(0, Int(ay.rounded(.down))), i1 = min(height - 1, Int(by.rounded(.down)))
            if j0 > j1 || i0 > i1 { break }
            let wx0 = overlap(j0, ax, bx), wx1 = overlap(j1, ax, bx)
            // Baseline: mean of the window's border pixels.
            var base: Float = 0
            if subtractBaseline && i1 > i0 && j1 > j0 {
                var s: Float = 0
                let top = p + i0 * width, bottom = p + i1 * width
                for j in j0 ... j1 { s += top[j] + bottom[j] }
                for i in i0 + 1 ..< i1 { s += p[i * width + j0] + p[i * width + j1] }
                base = s / Float(2 * (j1 - j0 + 1) + 2 * (i1 - i0 - 1))
            }
            var sw: Float = 0, sx: Float = 0, sy: Float = 0
            for i in i0 ... i1 {
                let wy = overlap(i, ay, by)
                if wy <= 0 { continue }
                let row = p + i * width
                var rw: Float = 0, rx: Float = 0
                for j in j0 ... j1 {
                    var v = nonNegative(row[j] - base)
                    if j == j0 { v *= wx0 } else if j == j1 { v *= wx1 }
                    rw += v; rx += v * Float(j)
                }
                sw += wy * rw; sx += wy * rx; sy += wy * rw * Float(i)
            }
            guard sw > 0, sw.isFinite else { break }
            let nx = sx / sw + 0.5, ny = sy / sw + 0.5
            let moved = abs(nx - cx) + abs(ny - cy)
            cx = nx; cy = ny
            if moved < 1e-4 { break }
        }
        return (cx, cy)
    }

    /// Distance from the peak at pixel `index` of a smooth image to where it falls half-way to the local
    /// base, along +x, -x, +y and -y (linearly interpolated between pixels); the base of each direction is its
    /// lowest value within `limit` px (before a value above the peak or the edge), so a spot on a pedestal (no
    /// background subtraction) is measured from the pedestal. Returns the mean of the two middle distances, so
    /// one direction towards a neighbouring spot does not count (from a start off the centre of a flat top the
    /// two directions across the offset are the middle ones, the chord, a little under the radius); a direction
    /// that does not fall half-way within its reach counts as `limit`. Zero for a peak that is not finite.
    public static func halfMaximumRadius(_ image: UnsafeBufferPointer<Float>, width: Int, height: Int, index: Int,
                                         limit: Int) -> Float {
        let p = image.baseAddress!
        let x0 = index % width, y0 = index / width
        let peak = p[index]
        guard peak.isFinite, limit > 0 else { return 0 }
        @inline(__always) func walk(_ dx: Int, _ dy: Int) -> Float {
            // The reach of this direction and its lowest value.
            var reach = 0, base = peak
            for k in 1 ... limit {
                let x = x0 + k * dx, y = y0 + k * dy
                guard x >= 0, x < width, y >= 0, y < height else { break }
                let v = p[y * width + x]
                if !(v <= peak) { break } // a higher neighbour (or NaN)
                base = min(base, v)
                reach = k
            }
            guard base < peak else { return Float(limit) }
            let half = (peak + base) / 2
            var previous = peak, k = 1
            while k <= reach {
                let v = p[(y0 + k * dy) * width + x0 + k * dx]
                if v < half { return Float(k - 1) + (previous - half) / (previous - v) }
                previous = v
                k += 1
            }
            return Float(limit)
        }
        // The two middle distances of the four: the sum less the shortest and the longest. A brighter
        // neighbour on one side lengthens that direction (the walk climbs its flank) or shortens it (the valley
        // before it), and either is dropped.
        let a = walk(1, 0), b = walk(-1, 0), c = walk(0, 1), e = walk(0, -1)
        return (a + b + c + e - min(min(a, b), min(c, e)) - max(max(a, b), max(c, e))) / 2
    }

    /// The centroid window for a spot (`RegistrationParameters.windowsFitSpots`): `max(window, min(3 R + 2,
    /// spacing))`, where R is the spot's radius, its half-maximum radius on the blurred detection image less the
    /// blur's (`R^2 = r_half^2 - (1.1774 sigma)^2`, the Gaussian rule: zero for a point spot, about 0.8 of the
    /// radius of a flat disc of radius 4 px under sigma 2; the half-maximum radius of a wide disc is a little
    /// less than its radius), and `spacing` the distance to the nearest other spot
    /// (the window must not reach into its neighbours). Half the side, 1.5 R + 1, reaches 1.8 sigma + 1 px from
    /// the centre of a Gaussian spot (R = 1.1774 sigma) and about 0.2 of the radius + 1 px past the edge of a
    /// flat disc (R about 0.8 of its radius), so the centroid sees the disc's edges all round; a spot that fits
    /// the paper's window keeps it.
    public static func fittedWindow(_ window: Float, halfMaximumRadius r: Float, blurSigma: Float, spacing: Float) -> Float {
        let rb = 1.1774 * max(0, blurSigma)
        let radius = (max(0, r * r - rb * rb)).squareRoot()
        return max(window, min(3 * radius + 2, spacing))
    }

    /// Mean of the pixels whose centres lie within `diameter / 2` of (x, y); the nearest pixel when none does.
    public static func discMean(_ image: UnsafeBufferPointer<Float>, width: Int, height: Int, x: Float, y: Float,
                                diameter: Float) -> Float {
        let r = diameter / 2, r2 = r * r
        let p = image.baseAddress!
        let j0 = max(0, Int((x - r - 0.5).rounded(.up))), j1 = min(width - 1, Int((x + r - 0.5).rounded(.down)))
        let i0 = max(0, Int((y - r - 0.5).rounded(.up))), i1 = min(height - 1, Int((y + r - 0.5).rounded(.down)))
        var s: Float = 0, n = 0
        if j0 <= j1 && i0 <= i1 {
            for i in i0 ... i1 {
                let dy = Float(i) + 0.5 - y
                for j in j0 ... j1 {
                    let dx = Float(j) + 0.5 - x
                    if dx * dx + dy * dy <= r2 { s += p[i * width + j]; n += 1 }
                }
            }
        }
        if n == 0 {
            let j = min(max(Int(x), 0), width - 1), i = min(max(Int(y), 0), height - 1)
            return p[i * width + j]
        }
        return s / Float(n)
    }

    /// Value at the pixel containing (x, y) minus the minimum over pixel centres within `radius` of it.
    public static func pseudoProminence(_ image: UnsafeBufferPointer<Float>, width: Int, height: Int, x: Float,
                                        y: Float, radius: Float) -> Float {
        let p = image.baseAddress!
        let pj = min(max(Int(x), 0), width - 1), pi = min(max(Int(y), 0), height - 1)
        let peak = p[pi * width + pj]
        var lowest = peak
        // The minimum does not depend on the order of the comparisons: eight lanes at a time.
        var lanes = SIMD8<Float>(repeating: peak)
        forEachDiscRow(x: x, y: y, radius: radius, width: width, height: height) { i, columns in
            let row = p + i * width
            var j = columns.lowerBound
            while j &+ 8 <= columns.upperBound {
                let v = UnsafeRawPointer(row + j).loadUnaligned(as: SIMD8<Float>.self)
                lanes = lanes.replacing(with: v, where: v .< lanes)
                j &+= 8
            }
            while j < columns.upperBound { lowest = min(lowest, row[j]); j &+= 1 }
        }
        return peak - min(lowest, lanes.min())
    }

    /// The pixels whose centres lie within `radius` of (x, y), inside the image, row by row: `body(row,
    /// columns)` for every row that holds any.
    @inline(__always)
    public static func forEachDiscRow(x: Float, y: Float, radius: Float, width: Int, height: Int,
                                      _ body: (Int, Range<Int>) -> Void) {
        let r2 = radius * radius
        let i0 = max(0, Int((y - radius - 0.5).rounded(.up))), i1 = min(height - 1, Int((y + radius - 0.5).rounded(.down)))
        guard i0 <= i1 else { return }
        for i in i0 ... i1 {
            let dy = Float(i) + 0.5 - y
            let h2 = r2 - dy * dy
            if h2 < 0 { continue }
            let h = h2.squareRoot()
            let j0 = max(0, Int((x - h - 0.5).rounded(.up))), j1 = min(width - 1, Int((x + h - 0.5).rounded(.down)))
            if j0 <= j1 { body(i, j0 ..< j1 + 1) }
        }
    }
}
