/// Iterative direct-beam centring (methods notes, section 1, step 2).
///
/// Pass k: for every pattern of the batch, the intensity centroid (xc, yc) inside a circle of radius R around
/// the image centre (W/2, H/2) of the pattern as currently shifted; its shift grows by (W/2 - xc, H/2 - yc).
/// R starts at W/4; after each pass R = min(R, largest residual over the batch + R_min) (R_min = 30 W/512);
/// stop after `maxPasses` passes or when the largest residual is below the tolerance (0.1 px). The shift is
/// applied once at the end from the original pattern by bilinear interpolation (`BilinearShift`), so the
/// pattern is interpolated once however many passes run; the centroids of the intermediate passes sample the
/// original bilinearly at the shifted positions, which is the same image.
///
/// Coordinates: pixel (row i, column j) covers [j, j+1) x [i, i+1); its centre is (j + 0.5, i + 0.5), so the
/// image centre is (W/2, H/2) as in the authors' ImageJ macros.
///
/// A beam beyond the first circle (a camera whose optical axis is off its centre, a large uncorrected descan)
/// is outside every circle the passes look at, and the paper's centring then centres the diffuse background.
/// With `searchFarBeam` (not a step of the paper) such a pattern starts from the brightest region instead
/// (`farBeamShift`); patterns whose beam is inside the first circle start from the centre as in the paper.
public enum DirectBeamCentring {
    /// Outcome for a batch.
    public struct Result: Sendable, Equatable {
        /// Shift applied to each pattern (dx, dy) in px: content moved by (+dx, +dy).
        public var shifts: [(dx: Float, dy: Float)]
        public var passes: Int
        /// Largest residual offset over the batch after the last pass.
        public var finalResidual: Float
        public static func == (a: Result, b: Result) -> Bool {
            a.passes == b.passes && a.finalResidual == b.finalResidual
                && a.shifts.elementsEqual(b.shifts, by: { $0.dx == $1.dx && $0.dy == $1.dy })
        }
    }

    /// Intensity centroid of `image` shifted by (dx, dy), over pixel centres inside the circle of radius
    /// `radius` around the image centre. Negative values weigh zero: the paper's 8-bit images have none, but
    /// on dark-subtracted data a negative pedestal P would scale each pass's residual by S / (S - |P|) (S the
    /// signal in the circle), beyond 2 a divergence. Returns nil when the circle holds no positive weight.
    public static func centroid(_ image: UnsafeBufferPointer<Float>, width: Int, height: Int, dx: Float, dy: Float,
                                radius: Float) -> (x: Float, y: Float)? {
        let cx = Float(width) / 2, cy = Float(height) / 2
        let p = image.baseAddress!
        let integral = dx == dx.rounded() && dy == dy.rounded()
        var sw = 0.0, sx = 0.0, sy = 0.0
        let zero = SIMD8<Float>()
        SpotMeasurement.forEachDiscRow(x: cx, y: cy, radius: radius, width: width, height: height) { i, columns in
            let j0 = columns.lowerBound, j1 = columns.upperBound - 1
            var rw: Float = 0, rx: Float = 0
            if integral {
                let si = min(max(i - Int(dy), 0), height - 1)
                let row = p + si * width
                let ox = -Int(dx)
                // Columns whose sample j + ox lies inside the row, eight at a time; the rest clamped.
                let in0 = max(j0, -ox), in1 = min(j1 + 1, width - ox)
                var j = j0
                while j < min(in0, j1 + 1) { let v = max(row[min(max(j + ox, 0), width - 1)], 0); rw += v; rx += v * Float(j); j += 1 }
                if in0 < in1 {
                    var vw = SIMD8<Float>(), vx = SIMD8<Float>()
                    var jj = SIMD8<Float>(0, 1, 2, 3, 4, 5, 6, 7) + Float(j)
                    while j + 8 <= in1 {
                        let s = UnsafeRawPointer(row + j + ox).loadUnaligned(as: SIMD8<Float>.self)
                        let v = s.replacing(with: zero, where: s .< zero)
                        vw += v; vx += v * jj
                        jj += 8; j += 8
                    }
                    rw += vw.sum(); rx += vx.sum()
                }
                while j <= j1 { let v = max(row[min(max(j + ox, 0), width - 1)], 0); rw += v; rx += v * Float(j); j += 1 }
            } else {
                // Bilinear samples at (j - dx, i - dy): the same four weights for every pixel of the row.
                let sxf = -dx, syf = -dy
                let fx = sxf.rounded(.down), fy = syf.rounded(.down)
                let ox = Int(fx), oy = Int(fy)
                let tx = sxf - fx, ty = syf - fy
                let r0 = p + min(max(i + oy, 0), height - 1) * width, r1 = p + min(max(i + oy + 1, 0), height - 1) * width
                let w00 = (1 - tx) * (1 - ty), w10 = tx * (1 - ty), w01 = (1 - tx) * ty, w11 = tx * ty
                let in0 = max(j0, -ox), in1 = min(j1 + 1, width - 1 - ox)
                var j = j0
                @inline(__always) func clamped(_ j: Int) -> Float {
                    let a = min(max(j + ox, 0), width - 1), b = min(max(j + ox + 1, 0), width - 1)
                    return max(w00 * r0[a] + w10 * r0[b] + w01 * r1[a] + w11 * r1[b], 0)
                }
                while j < min(in0, j1 + 1) { let v = clamped(j); rw += v; rx += v * Float(j); j += 1 }
                if in0 < in1 {
                    var vw = SIMD8<Float>(), vx = SIMD8<Float>()
                    var jj = SIMD8<Float>(0, 1, 2, 3, 4, 5, 6, 7) + Float(j)
                    @inline(__always) func load(_ q: UnsafePointer<Float>) -> SIMD8<Float> {
                        UnsafeRawPointer(q).loadUnaligned(as: SIMD8<Float>.self)
                    }
                    while j + 8 <= in1 {
                        let a = j + ox
                        let s = w00 * load(r0 + a) + w10 * load(r0 + a + 1) + w01 * load(r1 + a) + w11 * load(r1 + a + 1)
                        let v = s.replacing(with: zero, where: s .< zero)
                        vw += v; vx += v * jj
                        jj += 8; j += 8
                    }
                    rw += vw.sum(); rx += vx.sum()
                }
                while j <= j1 { let v = clamped(j); rw += v; rx += v * Float(j); j += 1 }
            }
            sw += Double(rw); sx += Double(rx) + 0.5 * Double(rw); sy += Double(rw) * Double(Float(i) + 0.5)
        }
        guard sw > 0, sw.isFinite else { return nil }
        return (Float(sx / sw), Float(sy / sw))
    }

    /// The window sums of `farBeamShift` must exceed the best one inside the first circle by this factor.
    /// Where the beam is inside, no window outside holds twice its intensity (a Bragg reflection beyond W/4 of
    /// twice the direct beam's intensity is not met in practice); where it is outside, the best window inside
    /// holds diffuse background and weak reflections (9-24 times less on `simulate`'s scan with the beam 47 px
    /// off the centre of a 128 px detector, 1.2-2.7 on pyxem's HOLZ test signal, whose disc is 29 px off the
    /// centre of 80 px patterns and on their first circle's edge).
    public static let farBeamFactor: Float = 2

    /// The start of a pattern whose direct beam lies beyond the first circle (radius `radius` about the image
    /// centre), or nil (start from the centre): when the brightest region (`brightestRegion`) holds more than
    /// `farBeamFactor` times the best window whose centre is inside the circle, the shift that brings its
    /// centroid to the image centre.
    public static func farBeamShift(_ image: UnsafeBufferPointer<Float>, width: Int, height: Int,
                                    radius: Float) -> (dx: Float, dy: Float)? {
        guard let b = brightestRegion(image, width: width, height: height, radius: radius),
              b.sum.isFinite, b.sum > farBeamFactor * b.sumInside else { return nil }
        return (Float(width) / 2 - b.x, Float(height) / 2 - b.y)
    }

    /// The brightest region of a pattern: the pattern summed in blocks of b = max(2, min(W, H) / 32) px
    /// (negative values as zero) and over windows of 3 x 3 blocks (clipped at the border); the block-sum
    /// centroid and the sum of the best window, and the best sum of a window whose centre lies within `radius`
    /// of the image centre. Nil for patterns narrower than 3 blocks.
    public static func brightestRegion(_ image: UnsafeBufferPointer<Float>, width: Int, height: Int, radius: Float)
        -> (x: Float, y: Float, sum: Float, sumInside: Float)? {
        let b = max(2, min(width, height) / 32)
        let nx = width / b, ny = height / b
        guard nx >= 3, ny >= 3, image.count >= width * height else { return nil }
        var blocks = [Float](repeating: 0, count: nx * ny)
        let p = image.baseAddress!, used = nx * b
        // Per band of b rows: the column sums first (one contiguous, vectorised pass per row), then the blocks.
        let columns = UnsafeMutablePointer<Float>.allocate(capacity: used)
        defer { columns.deallocate() }
        for j in 0 ..< ny {
            columns.initialize(repeating: 0, count: used)
            for y in j * b ..< (j + 1) * b {
                let row = p + y * width
                for x in 0 ..< used { columns[x] += max(row[x], 0) }
            }
            for i in 0 ..< nx {
                var s: Float = 0
                for x in i * b ..< (i + 1) * b { s += columns[x] }
                blocks[j * nx + i] = s
            }
        }
        let cx = Float(width) / 2, cy = Float(height) / 2, r2 = radius * radius
        var best: Float = 0, bestInside: Float = 0, at = (x: 0, y: 0)
        for j in 0 ..< ny {
            for i in 0 ..< nx {
                var s: Float = 0
                for jj in max(0, j - 1) ... min(ny - 1, j + 1) {
                    for ii in max(0, i - 1) ... min(nx - 1, i + 1) { s += blocks[jj * nx + ii] }
                }
                if s > best { best = s; at = (i, j) }
                let dx = (Float(i) + 0.5) * Float(b) - cx, dy = (Float(j) + 0.5) * Float(b) - cy
                if dx * dx + dy * dy <= r2 { bestInside = max(bestInside, s) }
            }
        }
        guard best > 0 else { return nil }
        var sw: Float = 0, sx: Float = 0, sy: Float = 0
        for jj in max(0, at.y - 1) ... min(ny - 1, at.y + 1) {
            for ii in max(0, at.x - 1) ... min(nx - 1, at.x + 1) {
                let v = blocks[jj * nx + ii]
                sw += v; sx += v * (Float(ii) + 0.5) * Float(b); sy += v * (Float(jj) + 0.5) * Float(b)
            }
        }
        return (sx / sw, sy / sw, best, bestInside)
    }

    /// Centres a batch of `count` patterns held contiguously in `patterns`, in place
    /// (`BilinearShift.shiftInPlace`). `maxOverBatch` combines the largest residual of this batch with other
    /// parts of the same batch (identity when the batch is local; a distributed job may pass an MPI
    /// max-reduction). `searchFarBeam`: see the type's notes.
    @discardableResult
    public static func centre(_ patterns: UnsafeMutableBufferPointer<Float>, count: Int, width: Int, height: Int,
                              initialRadius: Float, minimumRadius: Float, maxPasses: Int, tolerance: Float,
                              searchFarBeam: Bool = false, maxOverBatch: (Float) -> Float = { $0 }) -> Result {
        let n = width * height
        precondition(patterns.count >= count * n)
        let result = shifts(UnsafeBufferPointer(patterns), count: count, width: width, height: height,
                            initialRadius: initialRadius, minimumRadius: minimumRadius, maxPasses: maxPasses,
                            tolerance: tolerance, searchFarBeam: searchFarBeam, maxOverBatch: maxOverBatch)
        apply(result.shifts, toBatch: patterns, width: width, height: height)
        return result
    }

    /// Moves each of the `shifts.count` patterns held contiguously in `patterns` by its shift, in place.
    public static func apply(_ shifts: [(dx: Float, dy: Float)], toBatch patterns: UnsafeMutableBufferPointer<Float>,
                             width: Int, height: Int) {
        let n = width * height
        precondition(patterns.count >= shifts.count * n)
        for (k, shift) in shifts.enumerated() {
            apply(shift, to: UnsafeMutableBufferPointer(rebasing: patterns[k * n ..< (k + 1) * n]), width: width, height: height)
        }
    }

    /// Moves one pattern by its centring shift in place (`BilinearShift.shiftInPlace`; nothing for a zero shift).
    public static func apply(_ shift: (dx: Float, dy: Float), to pattern: UnsafeMutableBufferPointer<Float>,
                             width: Int, height: Int) {
        guard shift.dx != 0 || shift.dy != 0 else { return }
        BilinearShift.shiftInPlace(pattern, width: width, height: height, dx: shift.dx, dy: shift.dy)
    }

    /// The passes of the centring without applying the shifts: the shift of each of `count` patterns.
    /// `firstPass`, when given, holds each pattern's centroid of the first pass as it starts from the centre
    /// (`centroid` with no shift and `initialRadius`; nil for an empty pattern), measured by a caller while the
    /// pattern was in cache; a pattern whose far-beam search moved its start is measured here again.
    public static func shifts(_ patterns: UnsafeBufferPointer<Float>, count: Int, width: Int, height: Int,
                              initialRadius: Float, minimumRadius: Float, maxPasses: Int, tolerance: Float,
                              searchFarBeam: Bool = false, firstPass: [(x: Float, y: Float)?]? = nil,
                              maxOverBatch: (Float) -> Float = { $0 }) -> Result {
        let n = width * height
        precondition(patterns.count >= count * n)
        precondition(firstPass.map { $0.count == count } ?? true, "DirectBeamCentring: one first-pass centroid per pattern")
        var shifts = [(dx: Float, dy: Float)](repeating: (0, 0), count: count)
        if searchFarBeam && count > 0 {
            func start(_ k: Int) -> (dx: Float, dy: Float)? {
                farBeamShift(UnsafeBufferPointer(rebasing: patterns[k * n ..< (k + 1) * n]), width: width,
                             height: height, radius: initialRadius)
            }
            // The batch's first and last patterns decide whether every pattern is searched: a descan along a
            // scan row is monotonic, so its extremes are there, and a beam inside the circle costs two searches.
            let first = start(0), last = count > 1 ? start(count - 1) : nil
            if first != nil || last != nil {
                for k in 0 ..< count {
                    let s = k == 0 ? first : (k == count - 1 ? last : start(k))
                    if let s { shifts[k] = s }
                }
            }
        }
        let cx = Float(width) / 2, cy = Float(height) / 2
        var radius = initialRadius
        var passes = 0
        var largest: Float = 0
        while passes < maxPasses {
            passes += 1
            largest = 0
            for k in 0 ..< count {
                let img = UnsafeBufferPointer(rebasing: patterns[k * n ..< (k + 1) * n])
                let measured: (x: Float, y: Float)?
                if passes == 1, let firstPass, shifts[k].dx == 0, shifts[k].dy == 0 {
                    measured = firstPass[k]
                } else {
                    measured = centroid(img, width: width, height: height, dx: shifts[k].dx, dy: shifts[k].dy,
                                        radius: radius)
                }
                guard let c = measured else { continue }
                let rx = cx - c.x, ry = cy - c.y
                // Never move the beam out of the detector (empty or pathological patterns).
                let ndx = min(max(shifts[k].dx + rx, -Float(width) / 2), Float(width) / 2)
                let ndy = min(max(shifts[k].dy + ry, -Float(height) / 2), Float(height) / 2)
                shifts[k] = (ndx, ndy)
                largest = max(largest, (rx * rx + ry * ry).squareRoot())
            }
            largest = maxOverBatch(largest)
            if largest < tolerance { break }
            radius = min(radius, largest + minimumRadius)
        }
        return Result(shifts: shifts, passes: passes, finalResidual: largest)
    }
}
