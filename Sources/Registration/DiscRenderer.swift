import Foundation

/// Anti-aliased disc drawing with exact area coverage (methods notes, section 1, "Reconstruction": the
/// authors draw on a 4x canvas and downsample; the exact coverage is the limit of that supersampling).
/// Pixel (row i, column j) covers [j, j+1) x [i, i+1); a disc of radius r centred at (cx, cy) adds
/// `value * area(pixel ∩ disc)` to each pixel, so the sum over pixels is `value * π r²` (inside the image).
public enum DiscRenderer {
    /// Area of the intersection of the disc of radius `r` centred at the origin with [x0, x1] x [y0, y1].
    public static func coverage(x0: Double, x1: Double, y0: Double, y1: Double, r: Double) -> Double {
        let a = max(x0, -r), b = min(x1, r)
        guard a < b, y0 < y1 else { return 0 }
        @inline(__always) func h(_ t: Double) -> Double { (max(0, r * r - t * t)).squareRoot() }
        @inline(__always) func G(_ t: Double) -> Double { // ∫ h
            let u = min(max(t / r, -1), 1)
            return 0.5 * (t * h(t) + r * r * asin(u))
        }
        // The x positions where the disc's boundary crosses y0 or y1 split [a, b] into pieces on which the upper
        // and lower bounds are each one curve or one line (at most 6 cuts, sorted in place, no allocation).
        var cuts: (Double, Double, Double, Double, Double, Double) = (a, b, 0, 0, 0, 0)
        var count = 2
        withUnsafeMutableBytes(of: &cuts) { raw in
            let c = raw.bindMemory(to: Double.self)
            func crossings(_ y: Double) {
                guard abs(y) < r else { return }
                let t = (r * r - y * y).squareRoot()
                if t > a && t < b { c[count] = t; count += 1 }
                if -t > a && -t < b { c[count] = -t; count += 1 }
            }
            crossings(y0)
            crossings(y1)
            for i in 1 ..< count { // insertion sort
                let v = c[i]
                var j = i - 1
                while j >= 0 && c[j] > v { c[j + 1] = c[j]; j -= 1 }
                c[j + 1] = v
            }
        }
        var area = 0.0
        withUnsafeBytes(of: &cuts) { raw in
            let c = raw.bindMemory(to: Double.self)
            for k in 0 ..< count - 1 {
                let u = c[k], w = c[k + 1]
                if w <= u { continue }
                let hm = h(0.5 * (u + w))
                if min(y1, hm) <= max(y0, -hm) { continue }
                let upper = y1 < hm ? y1 * (w - u) : G(w) - G(u)
                let lower = y0 > -hm ? y0 * (w - u) : -(G(w) - G(u))
                area += upper - lower
            }
        }
        return max(0, area)
    }

    /// The image rows `draw` visits for a disc at height `cy` (nil: none).
    @inline(__always)
    public static func rows(cy: Float, radius: Float, height: Int) -> Range<Int>? {
        guard radius > 0, cy.isFinite else { return nil }
        let r = Double(radius), y = Double(cy)
        let i0 = max(0, Int((y - r).rounded(.down))), i1 = min(height - 1, Int((y + r).rounded(.up)))
        return i0 <= i1 ? i0 ..< i1 + 1 : nil
    }

    /// Adds a disc of `value` per unit area, radius `radius`, centre (cx, cy) to `image`.
    public static func draw(into image: UnsafeMutableBufferPointer<Float>, width: Int, height: Int,
                            cx: Float, cy: Float, radius: Float, value: Float) {
        guard radius > 0, value != 0, cx.isFinite, cy.isFinite, value.isFinite else { return }
        let r = Double(radius), x = Double(cx), y = Double(cy)
        let j0 = max(0, Int((x - r).rounded(.down))), j1 = min(width - 1, Int((x + r).rounded(.up)))
        guard j0 <= j1, let rowRange = rows(cy: cy, radius: radius, height: height) else { return }
        let p = image.baseAddress!
        let r2 = r * r
        for i in rowRange {
            let ya = Double(i) - y, yb = ya + 1
            for j in j0 ... j1 {
                let xa = Double(j) - x, xb = xa + 1
                // Farthest corner inside: full pixel; nearest point outside: empty.
                let fx = max(abs(xa), abs(xb)), fy = max(abs(ya), abs(yb))
                let nx = xa > 0 ? xa : (xb < 0 ? -xb : 0), ny = ya > 0 ? ya : (yb < 0 ? -yb : 0)
                let cov: Double
                if fx * fx + fy * fy <= r2 { cov = 1 }
                else if nx * nx + ny * ny >= r2 { continue }
                else { cov = coverage(x0: xa, x1: xb, y0: ya, y1: yb, r: r) }
                p[i * width + j] += Float(cov) * value
            }
        }
    }
}
