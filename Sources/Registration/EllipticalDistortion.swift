import Foundation
import STEMCore

/// Elliptical distortion of the diffraction plane: a ring of reciprocal radius g appears as an ellipse with
/// semi-axes a >= b, the major axis at `angle` (radians from +x towards +y, image coordinates). The
/// correction maps the ellipse onto the circle of the same area (radius sqrt(a b)): about the direct beam,
/// stretch the minor axis by sqrt(a/b) and shrink the major axis by sqrt(b/a).
public struct EllipticalDistortion: Sendable, Equatable, Codable {
    public var centreX: Double
    public var centreY: Double
    public var semiMajor: Double
    public var semiMinor: Double
    public var angle: Double

    public init(centreX: Double, centreY: Double, semiMajor: Double, semiMinor: Double, angle: Double) {
        self.centreX = centreX; self.centreY = centreY
        self.semiMajor = semiMajor; self.semiMinor = semiMinor; self.angle = angle
    }

    /// Axis ratio a / b (>= 1).
    public var axisRatio: Double { semiMinor > 0 ? semiMajor / semiMinor : 1 }

    /// Root-mean-square of (normalised elliptical radius - 1) over `points`: 0 for points exactly on the
    /// ellipse; about (radial scatter / radius) otherwise. A fit to a ring that is not there scores high.
    public func rmsResidual(points: [(x: Double, y: Double)]) -> Double {
        guard !points.isEmpty, semiMajor > 0, semiMinor > 0 else { return .infinity }
        let c = cos(angle), s = sin(angle)
        var sum = 0.0
        for p in points {
            let dx = p.x - centreX, dy = p.y - centreY
            let u = (c * dx + s * dy) / semiMajor, v = (-s * dx + c * dy) / semiMinor
            let d = (u * u + v * v).squareRoot() - 1
            sum += d * d
        }
        return (sum / Double(points.count)).squareRoot()
    }

    /// The corrected position of (x, y), relative to the optical axis at (originX, originY) (the direct beam).
    public func correct(x: Float, y: Float, originX: Float, originY: Float) -> (x: Float, y: Float) {
        guard semiMajor > 0, semiMinor > 0 else { return (x, y) }
        let c = cos(angle), s = sin(angle)
        let dx = Double(x - originX), dy = Double(y - originY)
        let u = c * dx + s * dy, v = -s * dx + c * dy // along major, minor
        let k = (semiMinor / semiMajor).squareRoot()
        let u2 = u * k, v2 = v / k
        return (originX + Float(c * u2 - s * v2), originY + Float(s * u2 + c * v2))
    }

    /// Least-squares ellipse through `points` (at least 5, not collinear): the conic
    /// A x² + B xy + C y² + D x + E y = 1 in coordinates centred on the points' centroid and scaled to unit
    /// spread (so the conic does not pass through the origin and the normal equations are well conditioned),
    /// then converted to centre, semi-axes and angle.
    public static func fit(points: [(x: Double, y: Double)]) throws -> EllipticalDistortion {
        guard points.count >= 5 else {
            throw STEMError.invalidParameter(name: "ellipse points", value: "\(points.count)", expected: "at least 5 points")
        }
        let n = Double(points.count)
        let mx = points.reduce(0) { $0 + $1.x } / n, my = points.reduce(0) { $0 + $1.y } / n
        let spread = (points.reduce(0) { $0 + ($1.x - mx) * ($1.x - mx) + ($1.y - my) * ($1.y - my) } / n).squareRoot()
        guard spread > 0, spread.isFinite else {
            throw STEMError.invalidParameter(name: "ellipse points", value: "all equal", expected: "points spread on a ring")
        }
        var ata = [Double](repeating: 0, count: 25), atb = [Double](repeating: 0, count: 5)
        for p in points {
            let x = (p.x - mx) / spread, y = (p.y - my) / spread
            let row = [x * x, x * y, y * y, x, y]
            for i in 0 ..< 5 {
                atb[i] += row[i]
                for j in 0 ..< 5 { ata[i * 5 + j] += row[i] * row[j] }
            }
        }
        guard let sol = solve5(ata, atb) else {
            throw STEMError.invalidParameter(name: "ellipse points", value: "degenerate", expected: "points on an ellipse")
        }
        let (A, B, C, D, E) = (sol[0], sol[1], sol[2], sol[3], sol[4])
        let F = -1.0
        let det = 4 * A * C - B * B
        guard det > 0 else {
            throw STEMError.invalidParameter(name: "ellipse points", value: "conic is not an ellipse", expected: "points on an ellipse")
        }
        // Centre: gradient zero.
        let x0 = (B * E - 2 * C * D) / det, y0 = (B * D - 2 * A * E) / det
        // Value of the conic at the centre gives the scale: A' u² + C' v² = -F0.
        let f0 = A * x0 * x0 + B * x0 * y0 + C * y0 * y0 + D * x0 + E * y0 + F
        let theta = 0.5 * atan2(B, A - C)
        let ct = cos(theta), st = sin(theta)
        let ap = A * ct * ct + B * ct * st + C * st * st
        let cp = A * st * st - B * ct * st + C * ct * ct
        guard ap * f0 < 0, cp * f0 < 0 else {
            throw STEMError.invalidParameter(name: "ellipse points", value: "imaginary ellipse", expected: "points on an ellipse")
        }
        var a = (-f0 / ap).squareRoot(), b = (-f0 / cp).squareRoot(), angle = theta
        if b > a { swap(&a, &b); angle += Double.pi / 2 }
        // Angle in (-π/2, π/2].
        while angle > Double.pi / 2 { angle -= Double.pi }
        while angle <= -Double.pi / 2 { angle += Double.pi }
        return EllipticalDistortion(centreX: mx + x0 * spread, centreY: my + y0 * spread,
                                    semiMajor: a * spread, semiMinor: b * spread, angle: angle)
    }

    /// Points of a diffraction ring of a (mean) pattern: along `rays` directions from (centreX, centreY), the
    /// radius in [minRadius, maxRadius] of the largest bilinearly sampled value (step 0.25 px), refined by a
    /// parabola through the neighbouring samples. Rays whose maximum lies on the search boundary are skipped.
    public static func ringPoints(_ image: UnsafeBufferPointer<Float>, width: Int, height: Int, centreX: Double,
                                  centreY: Double, minRadius: Double, maxRadius: Double,
                                  rays: Int = 180) -> [(x: Double, y: Double)] {
        var points = [(x: Double, y: Double)]()
        let step = 0.25
        let steps = Int(((maxRadius - minRadius) / step).rounded(.down))
        guard steps >= 2, rays > 0 else { return points }
        let p = image.baseAddress!
        var profile = [Float](repeating: 0, count: steps + 1)
        for k in 0 ..< rays {
            let phi = 2 * Double.pi * Double(k) / Double(rays)
            let c = cos(phi), s = sin(phi)
            for t in 0 ... steps {
                let r = minRadius + Double(t) * step
                // Pixel-edge coordinates -> pixel-index coordinates for sampling.
                let x = centreX + r * c - 0.5, y = centreY + r * s - 0.5
                profile[t] = BilinearShift.sample(p, width: width, height: height, x: Float(x), y: Float(y))
            }
            var best = 0
            for t in 1 ... steps where profile[t] > profile[best] { best = t }
            guard best > 0 && best < steps else { continue }
            let l = Double(profile[best - 1]), m = Double(profile[best]), r = Double(profile[best + 1])
            let denom = l - 2 * m + r
            let off = denom < 0 ? 0.5 * (l - r) / denom : 0
            let radius = minRadius + (Double(best) + off) * step
            points.append((centreX + radius * c, centreY + radius * s))
        }
        return points
    }

    /// Solves the 5 x 5 system by Gaussian elimination with partial pivoting.
    static func solve5(_ m0: [Double], _ b0: [Double]) -> [Double]? {
        var m = m0, b = b0
        for col in 0 ..< 5 {
            var piv = col
            for r in col + 1 ..< 5 where abs(m[r * 5 + col]) > abs(m[piv * 5 + col]) { piv = r }
            guard abs(m[piv * 5 + col]) > 1e-12 else { return nil }
            if piv != col {
                for j in 0 ..< 5 { m.swapAt(col * 5 + j, piv * 5 + j) }
                b.swapAt(col, piv)
            }
            for r in col + 1 ..< 5 {
                let f = m[r * 5 + col] / m[col * 5 + col]
                for j in col ..< 5 { m[r * 5 + j] -= f * m[col * 5 + j] }
                b[r] -= f * b[col]
            }
        }
        var x = [Double](repeating: 0, count: 5)
        for r in stride(from: 4, through: 0, by: -1) {
            var s = b[r]
            for j in r + 1 ..< 5 { s -= m[r * 5 + j] * x[j] }
            x[r] = s / m[r * 5 + r]
        }
        return x.allSatisfy { $0.isFinite } ? x : nil
    }
}
