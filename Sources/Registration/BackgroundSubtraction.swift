/// Background subtraction of the sliding-paraboloid / rolling-ball type (methods notes, section 1, step 4;
/// radius W/10, 51 px at 512).
///
/// Method: the background is the grey-scale *opening* of the pattern by a paraboloid structuring element
/// `b(dx, dy) = -c (dx^2 + dy^2)` whose apex curvature equals that of a ball of radius R,
/// `c = g / (2R)` (g = one grey level in data units, see `RegistrationParameters.GreyLevelScale`); the
/// result is `pattern - opening >= 0`. A paraboloid is a sum of 1D parabolas, so the erosion and dilation are
/// separable (four 1D passes). Each pass is the exact min-plus (max-minus) convolution with the sampled
/// parabola `c d^2`, eight lines at a time, over only the offsets d that can matter: a sample q can lower the
/// erosion at p only if `c d^2 <= f(p) - min f`, so on the flat background a few offsets are visited and only
/// near strong peaks the whole line (this is branch-free within a pass and several times faster than the lower
/// envelope of parabolas of Felzenszwalb & Huttenlocher 2012, which gives the same values). Differences from ImageJ's rolling
/// ball: the element is an unbounded paraboloid instead of a sphere cap (identical near the apex, about half as
/// deep at distance R). As in ImageJ's rolling ball, the background is computed on the image shrunk by block
/// minima (factor 1, 2, 4, 8 for R <= 10, 30, 100, more: 4 at R = 51) and enlarged by bilinear interpolation,
/// which is 16x less work at the authors' size; the caller passes a smoothed image (see `PatternRegistrar`).
///
/// The work is split so that a caller streaming an image row by row never holds a second full-size copy:
/// `shrink(row:y:width:height:)` for every row, then `open(curvature:)` on the small image, then
/// `backgroundRow(_:width:height:into:)` for every row. `subtract` does the three steps on a whole image.
public final class ParaboloidBackground {
    private let capacity: Int
    /// `c d^2` for every offset d of a line; one line padded by +-infinity; a copy of the shrunk image.
    private let table: UnsafeMutablePointer<Float>, paddedLine: UnsafeMutablePointer<Float>
    private let columnScratch: UnsafeMutablePointer<Float>
    private let small: UnsafeMutablePointer<Float>, rowTop: UnsafeMutablePointer<Float>, rowBottom: UnsafeMutablePointer<Float>
    /// Column of the left small pixel and interpolation weight of each full-resolution column.
    private let columnIndex: UnsafeMutablePointer<Int>, columnWeight: UnsafeMutablePointer<Float>
    /// Minima over the rows of the current block (shrinking).
    private let blockRows: UnsafeMutablePointer<Float>
    /// Small rows currently expanded along x into `rowTop` / `rowBottom`.
    private var cached = (-1, -1)
    private var expandedWidth = -1
    /// Shrink factor of the background estimate (ImageJ's rolling-ball rule for the radius).
    public let shrinkFactor: Int

    /// Workspace for images up to `maxSide` pixels on a side, for a ball radius `radius` (px).
    public init(maxSide: Int, radius: Float = 1) {
        shrinkFactor = radius <= 10 ? 1 : radius <= 30 ? 2 : radius <= 100 ? 4 : 8
        let n = max(1, maxSide)
        capacity = n
        small = .allocate(capacity: n * n)
        table = .allocate(capacity: n + 1)
        paddedLine = .allocate(capacity: 3 * n + 8)
        columnScratch = .allocate(capacity: n * n + 8)
        rowTop = .allocate(capacity: n)
        rowBottom = .allocate(capacity: n)
        blockRows = .allocate(capacity: n)
        columnIndex = .allocate(capacity: n)
        columnWeight = .allocate(capacity: n)
    }

    deinit {
        small.deallocate(); rowTop.deallocate(); rowBottom.deallocate(); blockRows.deallocate(); table.deallocate()
        paddedLine.deallocate(); columnScratch.deallocate(); columnIndex.deallocate(); columnWeight.deallocate()
    }

    /// Writes `image - opening(image)` into `destination` (may alias `image`); `opening` receives the
    /// background (width * height values). `curvature` = c in data units per px^2.
    public func subtract(_ image: UnsafeBufferPointer<Float>, width: Int, height: Int, curvature: Float,
                         background opening: UnsafeMutableBufferPointer<Float>,
                         into destination: UnsafeMutableBufferPointer<Float>) {
        let n = width * height
        precondition(image.count >= n && opening.count >= n && destination.count >= n)
        precondition(max(width, height) <= capacity, "ParaboloidBackground: workspace too small")
        guard n > 0 else { return }
        let bg = opening.baseAddress!
        guard curvature > 0, curvature.isFinite else {
            // A flat element of infinite extent: the opening is the global minimum.
            var m = Float.infinity
            for i in 0 ..< n { m = min(m, image[i]) }
            for i in 0 ..< n { bg[i] = m; destination[i] = image[i] - m }
            return
        }
        for y in 0 ..< height { shrink(row: image.baseAddress! + y * width, y: y, width: width, height: height) }
        open(curvature: curvature, width: width, height: height)
        for y in 0 ..< height {
            let dst = bg + y * width
            backgroundRow(y, width: width, height: height, into: dst)
            Self.clampAndSubtract(image.baseAddress! + y * width, dst, destination.baseAddress! + y * width, count: width)
        }
    }

    /// Width and height of the shrunk image.
    @inline(__always) func smallSize(width: Int, height: Int) -> (Int, Int) {
        let f = shrinkFactor
        return ((width + f - 1) / f, (height + f - 1) / f)
    }

    /// Shrinking, one image row at a time in order y = 0, 1, ...: block minima of `shrinkFactor` x
    /// `shrinkFactor` pixels (the minimum does not depend on the order of the comparisons).
    public func shrink(row: UnsafePointer<Float>, y: Int, width: Int, height: Int) {
        precondition(width <= capacity && height <= capacity, "ParaboloidBackground: workspace too small")
        let f = shrinkFactor, t = blockRows
        if y % f == 0 {
            t.update(from: row, count: width)
        } else {
            var x = 0
            while x + 8 <= width {
                let a = UnsafeRawPointer(t + x).loadUnaligned(as: SIMD8<Float>.self)
                let b = UnsafeRawPointer(row + x).loadUnaligned(as: SIMD8<Float>.self)
                UnsafeMutableRawPointer(t + x).storeBytes(of: a.replacing(with: b, where: b .< a), as: SIMD8<Float>.self)
                x += 8
            }
            while x < width { let b = row[x]; t[x] = b < t[x] ? b : t[x]; x += 1 }
        }
        guard y % f == f - 1 || y == height - 1 else { return }
        let (sw, _) = smallSize(width: width, height: height)
        let srow = small + (y / f) * sw
        for bx in 0 ..< sw {
            let x0 = bx * f, x1 = min(width, x0 + f)
            var m = t[x0]
            for x in x0 + 1 ..< x1 { m = min(m, t[x]) }
            srow[bx] = m
        }
    }

    /// The opening of the shrunk image (after every row went through `shrink`): erosion then dilation by
    /// the paraboloid of curvature `curvature` (data units per full-resolution px^2), two separable passes each.
    public func open(curvature: Float, width: Int, height: Int) {
        let f = shrinkFactor
        let (sw, sh) = smallSize(width: width, height: height)
        let c = curvature * Float(f * f)
        for d in 0 ..< max(sw, sh) { table[d] = c * Float(d * d) }
        // Erosion: min over q of g(q) + c (p - q)^2; dilation: max over q of g(q) - c (p - q)^2.
        Self.passAlongRows(small, width: sw, height: sh, table: table, dilate: false, line: paddedLine)
        Self.passAlongColumns(small, width: sw, height: sh, table: table, dilate: false, scratch: columnScratch)
        Self.passAlongRows(small, width: sw, height: sh, table: table, dilate: true, line: paddedLine)
        Self.passAlongColumns(small, width: sw, height: sh, table: table, dilate: true, scratch: columnScratch)
        // Bilinear enlargement along x: small pixel k is centred at full-resolution index (k + 0.5) f - 0.5.
        let inv = 1 / Float(f)
        for x in 0 ..< width {
            let fx = max(0, min(Float(sw - 1), (Float(x) + 0.5) * inv - 0.5))
            let x0 = Int(fx)
            columnIndex[x] = x0
            columnWeight[x] = fx - Float(x0)
        }
        cached = (-1, -1)
        expandedWidth = width
    }

    /// Row y of the opening (before the clamp to the image), enlarged bilinearly from the shrunk image: the
    /// small rows are interpolated along x once (cached while consecutive rows share them) and blended along y.
    public func backgroundRow(_ y: Int, width: Int, height: Int, into dst: UnsafeMutablePointer<Float>) {
        precondition(width == expandedWidth, "ParaboloidBackground: open(curvature:width:height:) first")
        let f = shrinkFactor
        let (sw, sh) = smallSize(width: width, height: height)
        if f == 1 { dst.update(from: small + y * sw, count: width); return }
        let inv = 1 / Float(f)
        let fy = max(0, min(Float(sh - 1), (Float(y) + 0.5) * inv - 0.5))
        let y0 = Int(fy), y1 = min(y0 + 1, sh - 1), ty = fy - Float(y0)
        let top = rowTop, bottom = rowBottom
        if cached != (y0, y1) {
            if cached.1 == y0 { top.update(from: bottom, count: width) } else { expand(y0, width: width, sw: sw, into: top) }
            expand(y1, width: width, sw: sw, into: bottom)
            cached = (y0, y1)
        }
        var x = 0
        while x + 8 <= width {
            let t = UnsafeRawPointer(top + x).loadUnaligned(as: SIMD8<Float>.self)
            let b = UnsafeRawPointer(bottom + x).loadUnaligned(as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(dst + x).storeBytes(of: t + ty * (b - t), as: SIMD8<Float>.self)
            x += 8
        }
        while x < width { dst[x] = top[x] + ty * (bottom[x] - top[x]); x += 1 }
    }

    @inline(__always)
    private func expand(_ k: Int, width: Int, sw: Int, into out: UnsafeMutablePointer<Float>) {
        let r = small + k * sw
        for x in 0 ..< width {
            let x0 = columnIndex[x], x1 = min(x0 + 1, sw - 1), tx = columnWeight[x]
            out[x] = r[x0] + tx * (r[x1] - r[x0])
        }
    }

    /// `background = min(background, image)` (the background never exceeds the image), `destination = image -
    /// background`; `destination` may alias `image`.
    @inline(__always)
    static func clampAndSubtract(_ image: UnsafePointer<Float>, _ bg: UnsafeMutablePointer<Float>,
                                 _ destination: UnsafeMutablePointer<Float>, count n: Int) {
        for i in 0 ..< n {
            let v = image[i]
            let b = min(bg[i], v)
            bg[i] = b
            destination[i] = v - b
        }
    }

    /// Largest offset d (at most `limit`) with `table[d] <= reach` (table increasing, table[0] = 0).
    @inline(__always)
    static func reachOf(_ reach: Float, table: UnsafePointer<Float>, limit: Int) -> Int {
        var d = 0
        while d < limit && table[d + 1] <= reach { d += 1 }
        return d
    }

    /// One pass along each row (lines of `width` samples): `out[x] = min_d line[x + d] + table[|d|]` (erosion) or
    /// `max_d line[x + d] - table[|d|]` (dilation), in place. Offsets beyond `reach = max(block) - min(line)`
    /// (erosion) or `max(line) - min(block)` (dilation) cannot change the result of a block of eight outputs and
    /// are skipped. `line` holds `3 width + 8` values (the row padded by +-infinity).
    static func passAlongRows(_ image: UnsafeMutablePointer<Float>, width n: Int, height: Int,
                              table: UnsafePointer<Float>, dilate: Bool, line: UnsafeMutablePointer<Float>) {
        let pad = n
        let fill: Float = dilate ? -.infinity : .infinity
        line.update(repeating: fill, count: 3 * n + 8)
        let centre = line + pad
        for y in 0 ..< height {
            let row = image + y * n
            centre.update(from: row, count: n)
            var low = Float.infinity, high = -Float.infinity
            for x in 0 ..< n { low = min(low, row[x]); high = max(high, row[x]) }
            var x = 0
            while x < n { // blocks of eight outputs; lanes beyond the row read the padding and are not stored
                let v = UnsafeRawPointer(centre + x).loadUnaligned(as: SIMD8<Float>.self)
                let count = min(8, n - x)
                var blockHigh = -Float.infinity, blockLow = Float.infinity
                for i in 0 ..< count { blockHigh = max(blockHigh, centre[x + i]); blockLow = min(blockLow, centre[x + i]) }
                let reach = dilate ? high - blockLow : blockHigh - low
                let dmax = reachOf(reach, table: table, limit: n - 1)
                var acc = v
                if dmax > 0 {
                    for d in 1 ... dmax {
                        let t = SIMD8<Float>(repeating: table[d])
                        let a = UnsafeRawPointer(centre + x - d).loadUnaligned(as: SIMD8<Float>.self)
                        let b = UnsafeRawPointer(centre + x + d).loadUnaligned(as: SIMD8<Float>.self)
                        if dilate {
                            let ua = a - t, ub = b - t
                            acc = acc.replacing(with: ua, where: ua .> acc)
                            acc = acc.replacing(with: ub, where: ub .> acc)
                        } else {
                            let ua = a + t, ub = b + t
                            acc = acc.replacing(with: ua, where: ua .< acc)
                            acc = acc.replacing(with: ub, where: ub .< acc)
                        }
                    }
                }
                for i in 0 ..< count { row[x + i] = acc[i] }
                x += 8
            }
        }
    }

    /// The same pass along each column (lines of `height` samples), eight columns at a time (one lane per
    /// column); `scratch` holds `width * height + 8` values.
    static func passAlongColumns(_ image: UnsafeMutablePointer<Float>, width: Int, height n: Int,
                                 table: UnsafePointer<Float>, dilate: Bool, scratch: UnsafeMutablePointer<Float>) {
        let src = scratch
        src.update(from: image, count: width * n)
        var x = 0
        while x < width {
            let count = min(8, width - x)
            @inline(__always) func load(_ y: Int) -> SIMD8<Float> {
                if count == 8 { return UnsafeRawPointer(src + y * width + x).loadUnaligned(as: SIMD8<Float>.self) }
                var v = SIMD8<Float>(repeating: dilate ? -.infinity : .infinity)
                for i in 0 ..< count { v[i] = src[y * width + x + i] }
                return v
            }
            var low = Float.infinity, high = -Float.infinity
            for y in 0 ..< n { for i in 0 ..< count { let v = src[y * width + x + i]; low = min(low, v); high = max(high, v) } }
            for y in 0 ..< n {
                let v = load(y)
                var blockHigh = -Float.infinity, blockLow = Float.infinity
                for i in 0 ..< count { blockHigh = max(blockHigh, v[i]); blockLow = min(blockLow, v[i]) }
                let reach = dilate ? high - blockLow : blockHigh - low
                let dmax = reachOf(reach, table: table, limit: n - 1)
                var acc = v
                if dmax > 0 {
                    for d in 1 ... dmax {
                        let t = SIMD8<Float>(repeating: table[d])
                        if y - d >= 0 {
                            let a = load(y - d)
                            if dilate { let u = a - t; acc = acc.replacing(with: u, where: u .> acc) }
                            else { let u = a + t; acc = acc.replacing(with: u, where: u .< acc) }
                        }
                        if y + d < n {
                            let b = load(y + d)
                            if dilate { let u = b - t; acc = acc.replacing(with: u, where: u .> acc) }
                            else { let u = b + t; acc = acc.replacing(with: u, where: u .< acc) }
                        }
                    }
                }
                for i in 0 ..< count { image[y * width + x + i] = acc[i] }
            }
            x += 8
        }
    }
}
