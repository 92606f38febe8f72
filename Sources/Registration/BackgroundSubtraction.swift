/// Background subtraction of the sliding-paraboloid / rolling-ball type (methods notes, section 1, step 4;
/// radius W/10, 51 px at 512).
///
/// Method: the background is the grey-scale *opening* of the pattern by a paraboloid structuring element
/// `b(dx, dy) = -c (dx^2 + dy^2)` whose apex curvature equals that of a ball of radius R,
/// `c = g / (2R)` (g = one grey level in data units, see `RegistrationParameters.GreyLevelScale`); the
/// result is `pattern - opening >= 0`. A paraboloid is a sum of 1D parabolas, so the erosion and dilation are
/// separable, and each 1D pass is the exact lower envelope of parabolas (Felzenszwalb & Huttenlocher 2012,
/// "Distance transforms of sampled functions"), O(n) per line whatever R. Differences from ImageJ's rolling
/// ball: the element is an unbounded paraboloid instead of a sphere cap (identical near the apex, about half as
/// deep at distance R). As in ImageJ's rolling ball, the background is computed on the image shrunk by block
/// minima (factor 1, 2, 4, 8 for R <= 10, 30, 100, more: 4 at R = 51) and enlarged by bilinear interpolation,
/// which is 16x less work at the authors' size; the caller passes a smoothed image (see `PatternRegistrar`).
public final class ParaboloidBackground {
    private let capacity: Int
    private let line: UnsafeMutablePointer<Double>, out: UnsafeMutablePointer<Double>, z: UnsafeMutablePointer<Double>
    private let lifted: UnsafeMutablePointer<Double>
    private let v: UnsafeMutablePointer<Int>
    private let small: UnsafeMutablePointer<Float>, rowTop: UnsafeMutablePointer<Float>, rowBottom: UnsafeMutablePointer<Float>
    /// Shrink factor of the background estimate (ImageJ's rolling-ball rule for the radius).
    public let shrinkFactor: Int

    /// Workspace for images up to `maxSide` pixels on a side, for a ball radius `radius` (px).
    public init(maxSide: Int, radius: Float = 1) {
        shrinkFactor = radius <= 10 ? 1 : radius <= 30 ? 2 : radius <= 100 ? 4 : 8
        let n = max(1, maxSide)
        capacity = n
        small = .allocate(capacity: n * n)
        line = .allocate(capacity: n)
        rowTop = .allocate(capacity: n)
        rowBottom = .allocate(capacity: n)
        out = .allocate(capacity: n)
        z = .allocate(capacity: n + 1)
        lifted = .allocate(capacity: n)
        v = .allocate(capacity: n)
    }

    deinit {
        small.deallocate(); rowTop.deallocate(); rowBottom.deallocate(); line.deallocate(); out.deallocate(); z.deallocate(); lifted.deallocate(); v.deallocate()
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
        // Shrink as ImageJ's rolling ball does (factor 1 / 2 / 4 / 8 for radius <= 10 / 30 / 100 / more):
        // block minima, opening on the small image, bilinear enlargement, then never above the image.
        let f = shrinkFactor
        let sw = (width + f - 1) / f, sh = (height + f - 1) / f
        do {
            // Minimum over the block's rows first (contiguous, vectorised), then over each block's columns; the
            // minimum does not depend on the order of the comparisons.
            let sp = small, t = rowTop
            for by in 0 ..< sh {
                let y0 = by * f, y1 = min(height, y0 + f)
                t.update(from: image.baseAddress! + y0 * width, count: width)
                for y in y0 + 1 ..< y1 {
                    let row = image.baseAddress! + y * width
                    for x in 0 ..< width { let v = row[x]; t[x] = v < t[x] ? v : t[x] }
                }
                let srow = sp + by * sw
                for bx in 0 ..< sw {
                    let x0 = bx * f, x1 = min(width, x0 + f)
                    var m = t[x0]
                    for x in x0 + 1 ..< x1 { m = min(m, t[x]) }
                    srow[bx] = m
                }
            }
        }
        let c = Double(curvature) * Double(f * f)
        do {
            let sp = small
            let b = Lines(f: line, o: out, z: z, g: lifted, v: v)
            // Erosion: min over q of g(q) + c (p - q)^2; dilation: max over q of g(q) - c (p - q)^2.
            Self.pass(sp, count: sw, stride: 1, lines: sh, lineStride: sw, c: c, dilate: false, b)
            Self.pass(sp, count: sh, stride: sw, lines: sw, lineStride: 1, c: c, dilate: false, b)
            Self.pass(sp, count: sw, stride: 1, lines: sh, lineStride: sw, c: c, dilate: true, b)
            Self.pass(sp, count: sh, stride: sw, lines: sw, lineStride: 1, c: c, dilate: true, b)
            if f == 1 {
                bg.update(from: sp, count: n)
                Self.clampAndSubtract(image.baseAddress!, bg, destination.baseAddress!, count: n)
            } else {
                // Bilinear enlargement: small pixel k is centred at full-resolution index (k + 0.5) f - 0.5.
                let inv = 1 / Float(f)
                for x in 0 ..< width {
                    let fx = max(0, min(Float(sw - 1), (Float(x) + 0.5) * inv - 0.5))
                    let x0 = Int(fx)
                    v[x] = x0
                    line[x] = Double(fx - Float(x0))
                }
                // Small rows interpolated along x once (cached while consecutive output rows share them), then
                // blended along y row by row (same arithmetic per pixel as interpolating each pixel directly).
                let top = rowTop, bottom = rowBottom
                var cached = (-1, -1)
                @inline(__always) func expand(_ k: Int, into out: UnsafeMutablePointer<Float>) {
                    let r = sp + k * sw
                    for x in 0 ..< width {
                        let x0 = v[x], x1 = min(x0 + 1, sw - 1), tx = Float(line[x])
                        out[x] = r[x0] + tx * (r[x1] - r[x0])
                    }
                }
                for y in 0 ..< height {
                    let fy = max(0, min(Float(sh - 1), (Float(y) + 0.5) * inv - 0.5))
                    let y0 = Int(fy), y1 = min(y0 + 1, sh - 1), ty = fy - Float(y0)
                    if cached != (y0, y1) {
                        if cached.1 == y0 { top.update(from: bottom, count: width) } else { expand(y0, into: top) }
                        expand(y1, into: bottom)
                        cached = (y0, y1)
                    }
                    let dst = bg + y * width
                    for x in 0 ..< width { dst[x] = top[x] + ty * (bottom[x] - top[x]) }
                    Self.clampAndSubtract(image.baseAddress! + y * width, dst, destination.baseAddress! + y * width,
                                          count: width)
                }
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

    /// Line buffers of one separable pass.
    struct Lines { var f, o, z, g: UnsafeMutablePointer<Double>; var v: UnsafeMutablePointer<Int> }

    /// One separable pass over `lines` lines of `count` samples.
    static func pass(_ base: UnsafeMutablePointer<Float>, count: Int, stride: Int, lines: Int,
                     lineStride: Int, c: Double, dilate: Bool, _ b: Lines) {
        let sign: Double = dilate ? -1 : 1
        let inv = 1 / c
        for l in 0 ..< lines {
            let p = base + l * lineStride
            for i in 0 ..< count { b.f[i] = sign * Double(p[i * stride]) * inv }
            lowerEnvelope(b.f, count, b.o, b.v, b.z, b.g)
            for i in 0 ..< count { p[i * stride] = Float(sign * b.o[i] * c) }
        }
    }

    /// `out[p] = min_q (p - q)^2 + f[q]` by the lower envelope of parabolas; `g` is workspace for `n` values.
    @inline(__always)
    static func lowerEnvelope(_ f: UnsafeMutablePointer<Double>, _ n: Int, _ out: UnsafeMutablePointer<Double>,
                              _ v: UnsafeMutablePointer<Int>, _ z: UnsafeMutablePointer<Double>,
                              _ g: UnsafeMutablePointer<Double>) {
        // g[q] = f[q] + q^2, the lifted samples, computed once (the same values the loop below would recompute).
        for q in 0 ..< n { g[q] = f[q] + Double(q &* q) }
        var k = 0
        v[0] = 0
        z[0] = -.infinity
        z[1] = .infinity
        if n > 1 {
            for q in 1 ..< n {
                let fq = g[q]
                var s: Double
                repeat {
                    let vk = v[k]
                    s = (fq - g[vk]) / Double(2 &* (q &- vk))
                    if s <= z[k] && k > 0 { k &-= 1 } else { break }
                } while true
                if s <= z[k] { // k == 0 and the new parabola dominates everywhere
                    v[0] = q; z[0] = -.infinity; z[1] = .infinity
                } else {
                    k &+= 1
                    v[k] = q
                    z[k] = s
                    z[k + 1] = .infinity
                }
            }
        }
        k = 0
        for p in 0 ..< n {
            while z[k &+ 1] < Double(p) { k &+= 1 }
            let d = Double(p &- v[k])
            out[p] = d * d + f[v[k]]
        }
    }
}
