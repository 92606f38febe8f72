import STEMCore

/// Background subtraction of the sliding-paraboloid / rolling-ball type (methods notes, section 1, step 4;
/// radius W/10, 51 px at 512).
///
/// Method: the background is the grey-scale *opening* of the pattern by a paraboloid structuring element
/// `b(dx, dy) = -c (dx^2 + dy^2)` whose apex curvature equals that of a ball of radius R,
/// `c = g / (2R)` (g = one grey level in data units, see `RegistrationParameters.GreyLevelScale`); the
/// result is `pattern - opening >= 0`. A paraboloid is a sum of 1D parabolas, so the erosion and dilation are
/// separable (four 1D passes). Each pass is the exact min-plus (max-minus) convolution with the sampled
/// parabola `c d^2`, eight lines at a time, over only the offsets d that can matter: the walk outwards stops
/// when the prefix / suffix extrema of the line prove that no farther sample can change the result, so on the
/// flat background a few offsets are visited and only near strong peaks the whole line (several times faster
/// here than the lower envelope of parabolas of Felzenszwalb & Huttenlocher 2012, which gives the same values,
/// with one mispredicted branch per sample). Differences from ImageJ's rolling
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
    /// `c d^2` for every offset d of a line; the transposed shrunk image.
    private let table: UnsafeMutablePointer<Float>, transposed: UnsafeMutablePointer<Float>
    /// Eight columns padded by +-infinity, and their prefix and suffix extrema (`passAlongColumns`).
    private let columnScratch: UnsafeMutablePointer<SIMD8<Float>>
    private let extrema: UnsafeMutablePointer<SIMD8<Float>>
    private let small: UnsafeMutablePointer<Float>, rowTop: UnsafeMutablePointer<Float>, rowBottom: UnsafeMutablePointer<Float>
    /// Columns of the left and right small pixels and interpolation weight of each full-resolution column.
    private let columnIndex: UnsafeMutablePointer<Int>, columnRight: UnsafeMutablePointer<Int>
    private let columnWeight: UnsafeMutablePointer<Float>
    /// Runs of consecutive columns between the same two small pixels: first column, length, left and right
    /// small pixel (`expand` walks them instead of looking up both pixels per column).
    private let runs: UnsafeMutablePointer<(start: Int, length: Int, left: Int, right: Int)>
    private var runCount = 0
    /// Factor 2: the columns `expand` enlarges eight at a time (see `enlargementTables`).
    private var pairedColumns = 0 ..< 0
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
        small = AlignedAllocation.allocate(Float.self, capacity: n * n)
        table = .allocate(capacity: n + 1)
        transposed = AlignedAllocation.allocate(Float.self, capacity: n * n)
        extrema = .allocate(capacity: 6 * n)
        columnScratch = .allocate(capacity: 3 * n)
        rowTop = AlignedAllocation.allocate(Float.self, capacity: n)
        rowBottom = AlignedAllocation.allocate(Float.self, capacity: n)
        blockRows = .allocate(capacity: n)
        columnIndex = .allocate(capacity: n)
        columnRight = .allocate(capacity: n)
        columnWeight = .allocate(capacity: n)
        runs = .allocate(capacity: n)
    }

    deinit {
        small.deallocate(); rowTop.deallocate(); rowBottom.deallocate(); blockRows.deallocate(); table.deallocate()
        transposed.deallocate(); columnScratch.deallocate(); extrema.deallocate(); columnIndex.deallocate(); columnRight.deallocate(); columnWeight.deallocate()
        runs.deallocate()
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
        for d in 0 ... max(sw, sh) { table[d] = c * Float(d * d) }
        // Erosion: min over q of g(q) + c (p - q)^2; dilation: max over q of g(q) - c (p - q)^2. Both are
        // separable and their x and y passes commute, so the passes along rows run as passes along the columns
        // of the transposed image (one lane per line): erode y, transpose, erode x, dilate x, transpose back,
        // dilate y.
        let t = transposed
        Self.passAlongColumns(small, width: sw, height: sh, table: table, dilate: false, scratch: columnScratch,
                              extrema: extrema)
        Self.transpose(small, rows: sh, columns: sw, into: t)
        Self.passAlongColumns(t, width: sh, height: sw, table: table, dilate: false, scratch: columnScratch,
                              extrema: extrema)
        Self.passAlongColumns(t, width: sh, height: sw, table: table, dilate: true, scratch: columnScratch,
                              extrema: extrema)
        Self.transpose(t, rows: sw, columns: sh, into: small)
        Self.passAlongColumns(small, width: sw, height: sh, table: table, dilate: true, scratch: columnScratch,
                              extrema: extrema)
        // Bilinear enlargement along x (the tables depend on the width only): small pixel k is centred at
        // full-resolution index (k + 0.5) f - 0.5.
        if width != expandedWidth { enlargementTables(width: width, sw: sw) }
        cached = (-1, -1)
        expandedWidth = width
    }

    /// The column tables of the enlargement along x: left and right small pixel, weight, and runs.
    private func enlargementTables(width: Int, sw: Int) {
        let f = shrinkFactor
        let inv = 1 / Float(f)
        for x in 0 ..< width {
            let fx = max(0, min(Float(sw - 1), (Float(x) + 0.5) * inv - 0.5))
            let x0 = Int(fx)
            columnIndex[x] = x0
            columnRight[x] = min(x0 + 1, sw - 1)
            columnWeight[x] = fx - Float(x0)
        }
        // Factor 2: the columns from 2 on whose small pixels are (x / 2 - 1, x / 2) for even x and (x / 2, x / 2 + 1)
        // for odd x (all but the clamped last ones).
        pairedColumns = 0 ..< 0
        if f == 2 {
            var e = 2
            while e < width && columnIndex[e] == (e >> 1) - 1 + (e & 1) && columnRight[e] == columnIndex[e] + 1 { e += 1 }
            pairedColumns = 2 ..< max(2, e)
        }
        runCount = 0
        var x = 0
        while x < width {
            var e = x + 1
            while e < width && columnIndex[e] == columnIndex[x] && columnRight[e] == columnRight[x] { e += 1 }
            runs[runCount] = (x, e - x, columnIndex[x], columnRight[x])
            runCount += 1
            x = e
        }
    }

    /// Row y of the opening (before the clamp to the image), enlarged bilinearly from the shrunk image: the
    /// small rows are interpolated along x once (cached while consecutive rows share them) and blended along y.
    public func backgroundRow(_ y: Int, width: Int, height: Int, into dst: UnsafeMutablePointer<Float>) {
        let (top, bottom, ty) = backgroundRows(y, width: width, height: height)
        var x = 0
        while x + 8 <= width {
            let t = UnsafeRawPointer(top + x).loadUnaligned(as: SIMD8<Float>.self)
            let b = UnsafeRawPointer(bottom + x).loadUnaligned(as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(dst + x).storeBytes(of: t + ty * (b - t), as: SIMD8<Float>.self)
            x += 8
        }
        while x < width { dst[x] = top[x] + ty * (bottom[x] - top[x]); x += 1 }
    }

    /// Row y of the opening as its two enlarged small rows and the weight between them: the row is
    /// `top + weight (bottom - top)` (`backgroundRow`), for a caller that blends them on the fly. Valid until the
    /// next call. Without shrinking both are the small row itself and the weight is 0.
    public func backgroundRows(_ y: Int, width: Int, height: Int)
        -> (top: UnsafePointer<Float>, bottom: UnsafePointer<Float>, weight: Float) {
        precondition(width == expandedWidth, "ParaboloidBackground: open(curvature:width:height:) first")
        let f = shrinkFactor
        let (sw, sh) = smallSize(width: width, height: height)
        if f == 1 { let row = UnsafePointer(small + y * sw); return (row, row, 0) }
        let inv = 1 / Float(f)
        let fy = max(0, min(Float(sh - 1), (Float(y) + 0.5) * inv - 0.5))
        let y0 = Int(fy), y1 = min(y0 + 1, sh - 1), ty = fy - Float(y0)
        let top = rowTop, bottom = rowBottom
        if cached != (y0, y1) {
            if cached.1 == y0 { top.update(from: bottom, count: width) } else { expand(y0, width: width, sw: sw, into: top) }
            expand(y1, width: width, sw: sw, into: bottom)
            cached = (y0, y1)
        }
        return (UnsafePointer(top), UnsafePointer(bottom), ty)
    }

    /// Small row k enlarged along x: `a + w (b - a)` per column; from factor 4 on run by run (four columns at
    /// once in the runs of four of factor 4).
    @inline(__always)
    private func expand(_ k: Int, width: Int, sw: Int, into out: UnsafeMutablePointer<Float>) {
        let r = small + k &* sw
        let w = columnWeight
        guard shrinkFactor >= 4 else { // runs of one or two columns: per column is cheaper
            var x = 0
            if shrinkFactor == 2 {
                // Columns 2k and 2k + 1 between small pixels k - 1, k and k, k + 1 (`pairedColumns`): eight at a
                // time from three overlapping loads of four small pixels, the weights from the table.
                while x < pairedColumns.lowerBound { let a = r[columnIndex[x]]; out[x] = a + w[x] * (r[columnRight[x]] - a); x &+= 1 }
                while x &+ 8 <= pairedColumns.upperBound {
                    let k = x >> 1
                    let l = UnsafeRawPointer(r + (k &- 1)).loadUnaligned(as: SIMD4<Float>.self)
                    let m = UnsafeRawPointer(r + k).loadUnaligned(as: SIMD4<Float>.self)
                    let h = UnsafeRawPointer(r + (k &+ 1)).loadUnaligned(as: SIMD4<Float>.self)
                    let a = SIMD8(l[0], m[0], l[1], m[1], l[2], m[2], l[3], m[3])
                    let b = SIMD8(m[0], h[0], m[1], h[1], m[2], h[2], m[3], h[3])
                    let wv = UnsafeRawPointer(w + x).loadUnaligned(as: SIMD8<Float>.self)
                    UnsafeMutableRawPointer(out + x).storeBytes(of: a + wv * (b - a), as: SIMD8<Float>.self)
                    x &+= 8
                }
            }
            while x < width {
                let a = r[columnIndex[x]]
                out[x] = a + w[x] * (r[columnRight[x]] - a)
                x &+= 1
            }
            return
        }
        for j in 0 ..< runCount {
            let run = runs[j]
            let a = r[run.left], d = r[run.right] - a
            if run.length == 4 {
                let wv = UnsafeRawPointer(w + run.start).loadUnaligned(as: SIMD4<Float>.self)
                UnsafeMutableRawPointer(out + run.start).storeBytes(of: SIMD4(repeating: a) + wv * SIMD4(repeating: d),
                                                                    as: SIMD4<Float>.self)
            } else {
                for x in run.start ..< run.start &+ run.length { out[x] = a + w[x] * d }
            }
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

    /// `dst[j][i] = src[i][j]` for a `rows` x `columns` image.
    static func transpose(_ src: UnsafePointer<Float>, rows: Int, columns: Int, into dst: UnsafeMutablePointer<Float>) {
        for i in 0 ..< rows {
            let r = src + i &* columns
            for j in 0 ..< columns { dst[j &* rows &+ i] = r[j] }
        }
    }

    /// One pass along each column (lines of `height` samples): `out[y] = min_d in[y + d] + table[|d|]`
    /// (erosion) or `max_d in[y + d] - table[|d|]` (dilation), eight columns at a time (one lane per column).
    /// The offsets are visited outwards and the walk stops as soon as no remaining sample can change any of
    /// the eight results: for the erosion, every sample at distance >= d above is at least the prefix minimum
    /// of the column down to `y - d` (below: the suffix minimum from `y + d`), so it stops when
    /// `prefixMin(y - d) + table[d] >= out` and `suffixMin(y + d) + table[d] >= out` in every lane (with maxima
    /// for the dilation). On the smooth background a few
    /// offsets are visited (3 to 4 on average on simulated patterns), near strong peaks the whole line.
    /// `scratch` holds `3 height` vectors and `extrema` `6 height` vectors.
    static func passAlongColumns(_ image: UnsafeMutablePointer<Float>, width: Int, height n: Int,
                                 table: UnsafePointer<Float>, dilate: Bool, scratch: UnsafeMutablePointer<SIMD8<Float>>,
                                 extrema: UnsafeMutablePointer<SIMD8<Float>>) {
        if dilate { columns(image, width: width, height: n, table: table, dilate: true, scratch: scratch, extrema: extrema) }
        else { columns(image, width: width, height: n, table: table, dilate: false, scratch: scratch, extrema: extrema) }
    }

    @inline(__always)
    private static func columns(_ image: UnsafeMutablePointer<Float>, width: Int, height n: Int,
                                table: UnsafePointer<Float>, dilate: Bool, scratch columnBlock: UnsafeMutablePointer<SIMD8<Float>>,
                                extrema: UnsafeMutablePointer<SIMD8<Float>>) {
        // The columns in groups of eight, each group copied into a padded block of 3n rows of eight lanes
        // (n rows of +-infinity above and below, missing columns +-infinity), so no load needs a bounds test.
        let fillValue: Float = dilate ? -.infinity : .infinity
        let fill = SIMD8<Float>(repeating: fillValue)
        let block = columnBlock
        let pre = extrema, suf = extrema + 3 * n
        for i in 0 ..< n { block[i] = fill; block[2 &* n &+ i] = fill; pre[i] = fill; pre[2 &* n &+ i] = fill
                           suf[i] = fill; suf[2 &* n &+ i] = fill }
        let col = block + n, p = pre + n, q = suf + n
        @inline(__always) func better(_ u: SIMD8<Float>, _ acc: SIMD8<Float>) -> SIMDMask<SIMD8<Int32>> {
            dilate ? u .> acc : u .< acc
        }
        var x = 0
        while x < width {
            let count = min(8, width &- x)
            for y in 0 ..< n {
                let r = image + (y &* width &+ x)
                if count == 8 { col[y] = UnsafeRawPointer(r).loadUnaligned(as: SIMD8<Float>.self) }
                else { var v = fill; for i in 0 ..< count { v[i] = r[i] }; col[y] = v }
            }
            var run = fill
            for y in 0 ..< n { let v = col[y]; run = run.replacing(with: v, where: better(v, run)); p[y] = run }
            run = fill
            var yy = n
            while yy > 0 { yy &-= 1; let v = col[yy]; run = run.replacing(with: v, where: better(v, run)); q[yy] = run }
            let t1 = SIMD8<Float>(repeating: table[1])
            for y in 0 ..< n {
                // Offset 1 always (most walks visit it; a sample more never changes the extremum), then outwards.
                var acc = col[y]
                let a1 = dilate ? col[y &- 1] - t1 : col[y &- 1] + t1
                acc = acc.replacing(with: a1, where: better(a1, acc))
                let b1 = dilate ? col[y &+ 1] - t1 : col[y &+ 1] + t1
                acc = acc.replacing(with: b1, where: better(b1, acc))
                var d = 2
                while true {
                    // Stop when no sample at distance >= d, above or below, can improve any lane.
                    let t = SIMD8<Float>(repeating: table[d])
                    let above = dilate ? p[y &- d] - t : p[y &- d] + t
                    let below = dilate ? q[y &+ d] - t : q[y &+ d] + t
                    if !anyLane(better(above, acc) .| better(below, acc)) { break }
                    let a = dilate ? col[y &- d] - t : col[y &- d] + t
                    acc = acc.replacing(with: a, where: better(a, acc))
                    let b = dilate ? col[y &+ d] - t : col[y &+ d] + t
                    acc = acc.replacing(with: b, where: better(b, acc))
                    d &+= 1
                }
                let r = image + (y &* width &+ x)
                if count == 8 { UnsafeMutableRawPointer(r).storeBytes(of: acc, as: SIMD8<Float>.self) }
                else { for i in 0 ..< count { r[i] = acc[i] } }
            }
            x &+= 8
        }
    }
}
