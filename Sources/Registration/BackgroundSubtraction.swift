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
/// deep at distance R), and no 3 x 3 pre-smoothing is applied.
public struct ParaboloidBackground {
    private var line: [Double], out: [Double], z: [Double]
    private var v: [Int]

    /// Workspace for images up to `maxSide` pixels on a side.
    public init(maxSide: Int) {
        let n = max(1, maxSide)
        line = [Double](repeating: 0, count: n)
        out = [Double](repeating: 0, count: n)
        z = [Double](repeating: 0, count: n + 1)
        v = [Int](repeating: 0, count: n)
    }

    /// Writes `image - opening(image)` into `destination` (may alias `image`); `opening` receives the
    /// background (width * height values). `curvature` = c in data units per px^2.
    public mutating func subtract(_ image: UnsafeBufferPointer<Float>, width: Int, height: Int, curvature: Float,
                                  background opening: UnsafeMutableBufferPointer<Float>,
                                  into destination: UnsafeMutableBufferPointer<Float>) {
        let n = width * height
        precondition(image.count >= n && opening.count >= n && destination.count >= n)
        precondition(max(width, height) <= line.count, "ParaboloidBackground: workspace too small")
        guard n > 0 else { return }
        let bg = opening.baseAddress!
        guard curvature > 0, curvature.isFinite else {
            // A flat element of infinite extent: the opening is the global minimum.
            var m = Float.infinity
            for i in 0 ..< n { m = min(m, image[i]) }
            for i in 0 ..< n { bg[i] = m; destination[i] = image[i] - m }
            return
        }
        bg.update(from: image.baseAddress!, count: n)
        let c = Double(curvature)
        // Erosion: min over q of f(q) + c (p - q)^2; dilation: max over q of f(q) - c (p - q)^2.
        pass(bg, count: width, stride: 1, lines: height, lineStride: width, c: c, dilate: false)
        pass(bg, count: height, stride: width, lines: width, lineStride: 1, c: c, dilate: false)
        pass(bg, count: width, stride: 1, lines: height, lineStride: width, c: c, dilate: true)
        pass(bg, count: height, stride: width, lines: width, lineStride: 1, c: c, dilate: true)
        for i in 0 ..< n {
            let b = min(bg[i], image[i]) // the opening never exceeds the image; guard rounding
            bg[i] = b
            destination[i] = image[i] - b
        }
    }

    /// One separable pass over `lines` lines of `count` samples.
    private mutating func pass(_ base: UnsafeMutablePointer<Float>, count: Int, stride: Int, lines: Int,
                               lineStride: Int, c: Double, dilate: Bool) {
        let sign: Double = dilate ? -1 : 1
        let inv = 1 / c
        line.withUnsafeMutableBufferPointer { f in
        out.withUnsafeMutableBufferPointer { o in
        z.withUnsafeMutableBufferPointer { zz in
        v.withUnsafeMutableBufferPointer { vv in
            for l in 0 ..< lines {
                let p = base + l * lineStride
                for i in 0 ..< count { f[i] = sign * Double(p[i * stride]) * inv }
                Self.lowerEnvelope(f.baseAddress!, count, o.baseAddress!, vv.baseAddress!, zz.baseAddress!)
                for i in 0 ..< count { p[i * stride] = Float(sign * o[i] * c) }
            }
        }}}}
    }

    /// `out[p] = min_q (p - q)^2 + f[q]` by the lower envelope of parabolas.
    @inline(__always)
    static func lowerEnvelope(_ f: UnsafeMutablePointer<Double>, _ n: Int, _ out: UnsafeMutablePointer<Double>,
                              _ v: UnsafeMutablePointer<Int>, _ z: UnsafeMutablePointer<Double>) {
        var k = 0
        v[0] = 0
        z[0] = -.infinity
        z[1] = .infinity
        if n > 1 {
            for q in 1 ..< n {
                let fq = f[q] + Double(q * q)
                var s: Double
                repeat {
                    let vk = v[k]
                    s = (fq - (f[vk] + Double(vk * vk))) / Double(2 * (q - vk))
                    if s <= z[k] && k > 0 { k -= 1 } else { break }
                } while true
                if s <= z[k] { // k == 0 and the new parabola dominates everywhere
                    v[0] = q; z[0] = -.infinity; z[1] = .infinity
                } else {
                    k += 1
                    v[k] = q
                    z[k] = s
                    z[k + 1] = .infinity
                }
            }
        }
        k = 0
        for p in 0 ..< n {
            while z[k + 1] < Double(p) { k += 1 }
            let d = Double(p - v[k])
            out[p] = d * d + f[v[k]]
        }
    }
}
