import Foundation

/// The direct beam's flank under the spots next to it: at each radius r from the refined beam up to `reach`,
/// a low quantile (0.3) of the pattern sampled around the circle, made non-increasing outwards (so a ring of
/// Bragg spots at some radius never raises it), minus its value at `reach` (so it ends at zero there). A
/// disc next to a much brighter beam has the beam's flank on one side of its centroid window, which pulls it
/// towards the beam (0.3-0.6 px on pyxem's tilt-boundary discs, 6 px apart from a beam 5x brighter); the
/// window's border mean, a constant, cannot take a slope out, and this profile can. Beyond `reach` the
/// pattern is left as it is.
public struct BeamFlank {
    public let centreX: Float, centreY: Float
    /// The profile at whole radii 0 ... reach (the last is 0).
    public private(set) var values: [Float]
    public var reach: Int { values.count - 1 }
    /// Fraction of each circle's samples below the value taken: spots may cover up to 70 % of a circle.
    public static let quantile: Float = 0.3
    /// Samples per circle at most (one per px of circumference, at least 8).
    public static let maxSamples = 128

    /// The profile of `image` (width x height, pixel j spanning [j, j + 1)) about (x, y) out to `reach` px;
    /// `scratch` holds at least `2 maxSamples` values.
    public init(_ image: UnsafeBufferPointer<Float>, width: Int, height: Int, centreX x: Float, centreY y: Float,
                reach: Int, scratch: UnsafeMutablePointer<Float>) {
        centreX = x; centreY = y
        let p = image.baseAddress!
        var v = [Float](repeating: 0, count: max(1, reach) + 1)
        for r in 0 ... max(1, reach) {
            let m = max(8, min(Self.maxSamples, Int(2 * Float.pi * Float(r))))
            let circle = Self.directions[m - 8]
            var n = 0
            let right = Float(width - 1), bottom = Float(height - 1), rf = Float(r)
            circle.withUnsafeBufferPointer { circle in
                for u in circle {
                    let sx = x + rf * u.x - 0.5, sy = y + rf * u.y - 0.5 // pixel-centre coordinates
                    guard sx >= 0, sy >= 0, sx <= right, sy <= bottom else { continue }
                    // `BilinearShift.sample` inside the image (no clamps but at the last row and column).
                    let x0 = Int(sx), y0 = Int(sy)
                    let tx = sx - Float(x0), ty = sy - Float(y0)
                    let dx = x0 &+ 1 < width ? 1 : 0, dy = y0 &+ 1 < height ? width : 0
                    let q = p + (y0 &* width &+ x0)
                    let a = q[0], b = q[dx], c = q[dy], d = q[dy &+ dx]
                    scratch[n] = (1 - ty) * ((1 - tx) * a + tx * b) + ty * ((1 - tx) * c + tx * d)
                    n &+= 1
                }
            }
            v[r] = n > 0 ? Self.select(UnsafeMutableBufferPointer(start: scratch, count: n),
                                       rank: min(n - 1, Int(Self.quantile * Float(n))), spare: scratch + Self.maxSamples) : 0
            if r > 0 { v[r] = min(v[r], v[r - 1]) }
        }
        let end = v[v.count - 1]
        values = v.map { $0 - end }
    }

    /// `(cos a, sin a)` at `a = 2 pi k / m`, k < m, for m = 8 ... `maxSamples` samples per circle (index m - 8): the
    /// profile of every pattern samples the same circles.
    static let directions: [[SIMD2<Float>]] = (8 ... maxSamples).map { m in (0 ..< m).map { circleDirection($0, of: m) } }

    /// The profile at distance `d` from the beam (linear between whole radii; 0 from `reach` on).
    @inline(__always)
    public func value(atDistance d: Float) -> Float {
        let r0 = Int(d)
        if r0 >= reach { return 0 }
        let f = d - Float(r0)
        return (1 - f) * values[r0] + f * values[r0 + 1]
    }

    /// The value of rank `k` (0-based) of `values` (quickselect), overwriting them; `spare` holds at least
    /// `values.count` values. Each round is a three-way partition about the middle value, branch-free: every
    /// value is written to both ends of the other buffer and only the end it belongs to advances (fewer,
    /// greater; the values equal to the pivot leave the gap between them), so no comparison is a branch to
    /// predict; the round then continues on the side that holds rank k, or returns the pivot.
    public static func select(_ values: UnsafeMutableBufferPointer<Float>, rank k: Int, spare: UnsafeMutablePointer<Float>) -> Float {
        var src = values.baseAddress!, dst = spare
        var n = values.count, k = k
        while n > 1 {
            let pivot = src[n >> 1]
            var less = 0, back = n &- 1
            for i in 0 ..< n {
                let x = src[i]
                dst[less] = x; dst[back] = x
                less &+= Int(unsafeBitCast(x < pivot, to: UInt8.self)) // 0 or 1, no branch
                back &-= Int(unsafeBitCast(x > pivot, to: UInt8.self))
            }
            let previous = src
            if k < less {
                src = dst
                n = less
            } else if k > back {
                src = dst + (back &+ 1)
                k &-= back &+ 1
                n &-= back &+ 1
            } else {
                return pivot
            }
            dst = previous // the next round's n values fit where this round's came from
        }
        return src[0]
    }
}
