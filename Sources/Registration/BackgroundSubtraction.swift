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
    private let extrema: UnsafeMutablePointer<SIMD8<Float>>
    private let small: UnsafeMutablePointer<Float>, rowTop: UnsafeMutablePointer<Float>, rowBottom: UnsafeMutablePointer<Float>
    /// Columns of the left and right small pixels and interpolation weight of each full-resolution column.
    private let columnIndex: UnsafeMutablePointer<Int>, columnRight: UnsafeMutablePointer<Int>
    private let columnWeight: UnsafeMutablePointer<Float>
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
        paddedLine = .allocate(capacity: 9 * n + 72)
        extrema = .allocate(capacity: 2 * n)
        columnScratch = .allocate(capacity: n * n + 8)
        rowTop = .allocate(capacity: n)
        rowBottom = .allocate(capacity: n)
        blockRows = .allocate(capacity: n)
        columnIndex = .allocate(capacity: n)
        columnRight = .allocate(capacity: n)
        columnWeight = .allocate(capacity: n)
    }

    deinit {
        small.deallocate(); rowTop.deallocate(); rowBottom.deallocate(); blockRows.deallocate(); table.deallocate()
        paddedLine.deallocate(); columnScratch.deallocate(); extrema.deallocate(); columnIndex.deallocate(); columnRight.deallocate(); columnWeight.deallocate()
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
            while x &+ 8 <= width {
                let a = UnsafeRawPointer(t + x).loadUnaligned(as: SIMD8<Float>.self)
                let b = UnsafeRawPointer(row + x).loadUnaligned(as: SIMD8<Float>.self)
                UnsafeMutableRawPointer(t + x).storeBytes(of: a.replacing(with: b, where: b .< a), as: SIMD8<Float>.self)
                x &+= 8
            }
            while x < width { let b = row[x]; t[x] = b < t[x] ? b : t[x]; x &+= 1 }
        }
        guard y % f == f - 1 || y == height - 1 else { return }
        let sw = (width + f - 1) / f
        let srow = small + (y / f) * sw
        let whole = width / f // blocks of f columns inside the row
        switch f {
        case 1:
            srow.update(from: t, count: width)
        case 2:
            for bx in 0 ..< whole { let a = t[2 &* bx], b = t[2 &* bx &+ 1]; srow[bx] = b < a ? b : a }
        case 4:
            for bx in 0 ..< whole {
                let q = t + 4 &* bx
                let a = q[1] < q[0] ? q[1] : q[0], b = q[3] < q[2] ? q[3] : q[2]
                srow[bx] = b < a ? b : a
            }
        default:
            for bx in 0 ..< whole {
                var m = t[bx &* f]
                for x in 1 ..< f { let v = t[bx &* f &+ x]; m = v < m ? v : m }
                srow[bx] = m
            }
        }
        if whole < sw { // a partial block at the right edge
            var m = t[whole &* f]
            for x in whole &* f &+ 1 ..< width { m = min(m, t[x]) }
            srow[whole] = m
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
        Self.passAlongColumns(small, width: sw, height: sh, table: table, dilate: false, scratch: columnScratch,
                              extrema: extrema)
        Self.passAlongRows(small, width: sw, height: sh, table: table, dilate: true, line: paddedLine)
        Self.passAlongColumns(small, width: sw, height: sh, table: table, dilate: true, scratch: columnScratch,
                              extrema: extrema)
        // Bilinear enlargement along x: small pixel k is centred at full-resolution index (k + 0.5) f - 0.5.
        let inv = 1 / Float(f)
        for x in 0 ..< width {
            let fx = max(0, min(Float(sw - 1), (Float(x) + 0.5) * inv - 0.5))
            let x0 = Int(fx)
            columnIndex[x] = x0
            columnRight[x] = min(x0 + 1, sw - 1)
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
        let r = small + k &* sw
        var x = 0
        while x < width {
            let a = r[columnIndex[x]], b = r[columnRight[x]]
            out[x] = a + columnWeight[x] * (b - a)
            x &+= 1
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

    /// One pass along each row (lines of `width` samples): `out[x] = min_d line[x + d] + table[|d|]` (erosion) or
    /// `max_d line[x + d] - table[|d|]` (dilation), in place, eight outputs at a time. The offsets are visited
    /// outwards and each side stops as soon as no remaining sample can change any of the eight results: for
    /// the erosion, every sample at distance >= d on the left is at least the prefix minimum up to `x - d`, so
    /// the side stops when `prefixMin(x + i - d) + table[d] >= out_i` for every lane i (likewise on the right with
    /// suffix minima, and with maxima for the dilation). On a flat background a few offsets are visited; only near
    /// strong peaks the whole line. `scratch` holds `9 width + 72` values.
    static func passAlongRows(_ image: UnsafeMutablePointer<Float>, width n: Int, height: Int,
                              table: UnsafePointer<Float>, dilate: Bool, line scratch: UnsafeMutablePointer<Float>) {
        if dilate { rows(image, width: n, height: height, table: table, dilate: true, line: scratch) }
        else { rows(image, width: n, height: height, table: table, dilate: false, line: scratch) }
    }

    @inline(__always)
    private static func rows(_ image: UnsafeMutablePointer<Float>, width n: Int, height: Int,
                             table: UnsafePointer<Float>, dilate: Bool, line scratch: UnsafeMutablePointer<Float>) {
        let pad = n + 8, length = 3 * n + 24
        let fill: Float = dilate ? -.infinity : .infinity
        let values = scratch, prefix = scratch + length, suffix = scratch + 2 * length
        values.update(repeating: fill, count: length)
        prefix.update(repeating: fill, count: length)
        suffix.update(repeating: fill, count: length)
        let f = values + pad, pre = prefix + pad, suf = suffix + pad
        @inline(__always) func load(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
            UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
        }
        for y in 0 ..< height {
            let row = image + y * n
            f.update(from: row, count: n)
            var run = fill
            for x in 0 ..< n { let v = f[x]; run = dilate ? (v > run ? v : run) : (v < run ? v : run); pre[x] = run }
            run = fill
            var i = n
            while i > 0 { i &-= 1; let v = f[i]; run = dilate ? (v > run ? v : run) : (v < run ? v : run); suf[i] = run }
            var x = 0
            while x < n { // lanes beyond the row read the padding and are not stored
                var acc = load(f + x)
                let count = min(8, n - x)
                for i in count ..< 8 { acc[i] = -fill } // lanes beyond the row: nothing to improve
                var left = true, right = true
                var d = 1
                while (left || right) && d < n {
                    let t = SIMD8<Float>(repeating: table[d])
                    if dilate {
                        if left {
                            left = any(load(pre + x - d) - t .> acc)
                            if left { let u = load(f + x - d) - t; acc = acc.replacing(with: u, where: u .> acc) }
                        }
                        if right {
                            right = any(load(suf + x + d) - t .> acc)
                            if right { let u = load(f + x + d) - t; acc = acc.replacing(with: u, where: u .> acc) }
                        }
                    } else {
                        if left {
                            left = any(load(pre + x - d) + t .< acc)
                            if left { let u = load(f + x - d) + t; acc = acc.replacing(with: u, where: u .< acc) }
                        }
                        if right {
                            right = any(load(suf + x + d) + t .< acc)
                            if right { let u = load(f + x + d) + t; acc = acc.replacing(with: u, where: u .< acc) }
                        }
                    }
                    d += 1
                }
                if count == 8 { UnsafeMutableRawPointer(row + x).storeBytes(of: acc, as: SIMD8<Float>.self) }
                else { for i in 0 ..< count { row[x + i] = acc[i] } }
                x += 8
            }
        }
    }

    /// The same pass along each column (lines of `height` samples), eight columns at a time (one lane per
    /// column), with per-lane prefix and suffix extrema along the column; `scratch` holds
    /// `width * height + 8` values and `extrema` `16 height` values.
    static func passAlongColumns(_ image: UnsafeMutablePointer<Float>, width: Int, height n: Int,
                                 table: UnsafePointer<Float>, dilate: Bool, scratch: UnsafeMutablePointer<Float>,
                                 extrema: UnsafeMutablePointer<SIMD8<Float>>) {
        if dilate { columns(image, width: width, height: n, table: table, dilate: true, scratch: scratch, extrema: extrema) }
        else { columns(image, width: width, height: n, table: table, dilate: false, scratch: scratch, extrema: extrema) }
    }

    @inline(__always)
    private static func columns(_ image: UnsafeMutablePointer<Float>, width: Int, height n: Int,
                                table: UnsafePointer<Float>, dilate: Bool, scratch: UnsafeMutablePointer<Float>,
                                extrema: UnsafeMutablePointer<SIMD8<Float>>) {
        let src = scratch
        src.update(from: image, count: width * n)
        let fill = SIMD8<Float>(repeating: dilate ? -.infinity : .infinity)
        let pre = extrema, suf = extrema + n
        var x = 0
        while x < width {
            let count = min(8, width - x)
            @inline(__always) func load(_ y: Int) -> SIMD8<Float> {
                if count == 8 { return UnsafeRawPointer(src + y * width + x).loadUnaligned(as: SIMD8<Float>.self) }
                var v = fill
                for i in 0 ..< count { v[i] = src[y * width + x + i] }
                return v
            }
            var run = fill
            for y in 0 ..< n {
                let v = load(y)
                run = dilate ? run.replacing(with: v, where: v .> run) : run.replacing(with: v, where: v .< run)
                pre[y] = run
            }
            run = fill
            var yy = n
            while yy > 0 {
                yy &-= 1
                let y = yy
                let v = load(y)
                run = dilate ? run.replacing(with: v, where: v .> run) : run.replacing(with: v, where: v .< run)
                suf[y] = run
            }
            for y in 0 ..< n {
                var acc = load(y)
                var up = y > 0, down = y + 1 < n
                var d = 1
                while up || down {
                    let t = SIMD8<Float>(repeating: table[d])
                    if dilate {
                        if up {
                            up = any(pre[y - d] - t .> acc)
                            if up { let u = load(y - d) - t; acc = acc.replacing(with: u, where: u .> acc) }
                            up = up && y - d > 0
                        }
                        if down {
                            down = any(suf[y + d] - t .> acc)
                            if down { let u = load(y + d) - t; acc = acc.replacing(with: u, where: u .> acc) }
                            down = down && y + d + 1 < n
                        }
                    } else {
                        if up {
                            up = any(pre[y - d] + t .< acc)
                            if up { let u = load(y - d) + t; acc = acc.replacing(with: u, where: u .< acc) }
                            up = up && y - d > 0
                        }
                        if down {
                            down = any(suf[y + d] + t .< acc)
                            if down { let u = load(y + d) + t; acc = acc.replacing(with: u, where: u .< acc) }
                            down = down && y + d + 1 < n
                        }
                    }
                    d += 1
                }
                if count == 8 { UnsafeMutableRawPointer(image + y * width + x).storeBytes(of: acc, as: SIMD8<Float>.self) }
                else { for i in 0 ..< count { image[y * width + x + i] = acc[i] } }
            }
            x += 8
        }
    }
}
