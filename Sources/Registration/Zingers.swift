/// Isolated bright pixels ("zingers": X-ray and cosmic-ray hits on the camera, transient hot pixels), which a
/// diffraction pattern cannot hold: the point-spread function of the detector and the beam spreads every spot
/// and disc over several pixels, so a real maximum has a neighbour of a good fraction of its value (more than
/// 0.6 of it for a Gaussian spot of sigma 1 px, 0.14 for sigma 0.5 px), while a hit sits on a background many
/// times lower. A hit left in passes the prominence test as a spot, pulls the centroid of a spot whose window it
/// falls in, and, bright enough, sets the 8-bit range that the default threshold is measured in.
///
/// Rule: a pixel v with `v > 8 m + 10 sqrt(m + 1)`, m the largest of its (up to eight) neighbours clipped at
/// zero, is replaced by the mean of those neighbours. The second term is the Poisson fluctuation allowance in
/// counts (10 standard deviations of a pixel of mean m + 1); on data of another scale the factor 8 decides.
/// The pixels are found first and replaced afterwards, so the result does not depend on the scan order; two
/// bright pixels side by side are not isolated and stay.
public enum Zingers {
    public static let factor: Float = 8
    public static let poissonAllowance: Float = 10

    /// Replaces the isolated bright pixels of a `width` x `height` pattern in place; returns how many.
    @discardableResult
    public static func remove(_ pattern: UnsafeMutableBufferPointer<Float>, width w: Int, height h: Int) -> Int {
        precondition(pattern.count >= w * h)
        guard w >= 2, h >= 2 else { return 0 }
        let p = pattern.baseAddress!
        var found: [(index: Int, value: Float)] = []
        /// The full test at (x, y); records the replacement.
        @inline(__always) func test(_ x: Int, _ y: Int) {
            let v = p[y * w + x]
            var m = -Float.infinity, sum: Float = 0, n: Float = 0
            for yy in max(0, y - 1) ... min(h - 1, y + 1) {
                for xx in max(0, x - 1) ... min(w - 1, x + 1) where xx != x || yy != y {
                    let u = p[yy * w + xx]
                    m = max(m, u); sum += u; n += 1
                }
            }
            let c = max(m, 0)
            if v > factor * c + poissonAllowance * (c + 1).squareRoot() { found.append((y * w + x, sum / n)) }
        }
        // A necessary condition first, eight pixels at a time: v > 8 max(left, right) + 10 (m is at least the
        // larger of the two horizontal neighbours and the allowance at least 10). The last pixels of a row go
        // through one more vector that overlaps the previous one (its lanes already tested masked out when a
        // row is gone through lane by lane).
        let f = SIMD8<Float>(repeating: factor), a = SIMD8<Float>(repeating: poissonAllowance), zero = SIMD8<Float>()
        @inline(__always) func mayHold(_ q: UnsafePointer<Float>) -> SIMDMask<SIMD8<Int32>> {
            let v = UnsafeRawPointer(q).loadUnaligned(as: SIMD8<Float>.self)
            let l = UnsafeRawPointer(q - 1).loadUnaligned(as: SIMD8<Float>.self)
            let r = UnsafeRawPointer(q + 1).loadUnaligned(as: SIMD8<Float>.self)
            var m = l.replacing(with: r, where: r .> l)
            m = m.replacing(with: zero, where: m .< zero)
            return v .> f * m + a
        }
        let lane = SIMD8<Int32>(0, 1, 2, 3, 4, 5, 6, 7)
        /// The necessary condition on the first or last pixel of a row (its one horizontal neighbour), then the test.
        @inline(__always) func testEdge(_ x: Int, _ y: Int, neighbour: Int) {
            let row = p + y * w
            if row[x] > factor * max(row[neighbour], 0) + poissonAllowance { test(x, y) }
        }
        let none = SIMDMask<SIMD8<Int32>>(repeating: false)
        for y in 0 ..< h {
            let row = UnsafePointer(p + y * w)
            testEdge(0, y, neighbour: 1)
            if w >= 10 {
                // The row's lanes in one pass that only collects the condition; a row where it holds anywhere
                // (rare: hits, the brightest spots' cores) is gone through again lane by lane.
                let start = w - 9 // the last vector, over lanes w - 9 ... w - 2 (overlapping the previous one)
                var seen = none
                var x = 1
                while x &+ 9 <= w { seen = seen .| mayHold(row + x); x &+= 8 }
                seen = seen .| mayHold(row + start)
                if anyLane(seen) {
                    x = 1
                    while x &+ 9 <= w {
                        let candidate = mayHold(row + x)
                        if anyLane(candidate) { for k in 0 ..< 8 where candidate[k] { test(x + k, y) } }
                        x &+= 8
                    }
                    let candidate = mayHold(row + start) .& (lane .>= SIMD8<Int32>(repeating: Int32(x - start)))
                    if anyLane(candidate) { for k in 0 ..< 8 where candidate[k] { test(start + k, y) } }
                }
            } else {
                for x in 1 ..< max(1, w - 1) { test(x, y) }
            }
            testEdge(w - 1, y, neighbour: w - 2)
        }
        for z in found { p[z.index] = z.value }
        return found.count
    }
}
