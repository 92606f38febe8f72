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
        var sum = 0.0
        for p in points {
            let d = radialResidual(x: p.x, y: p.y)
            sum += d * d
        }
        return (sum / Double(points.count)).squareRoot()
    }

    /// Normalised elliptical radius of (x, y) less 1: 0 on the ellipse, about (radial offset / radius) off it.
    public func radialResidual(x: Double, y: Double) -> Double {
        let c = cos(angle), s = sin(angle)
        let dx = x - centreX, dy = y - centreY
        let u = (c * dx + s * dy) / semiMajor, v = (-s * dx + c * dy) / semiMinor
        return (u * u + v * v).squareRoot() - 1
    }

    /// `fit` that ignores the points off the ring: a Bragg spot on a ray of the ring search (a crystal on an
    /// amorphous film) puts that ray's maximum elsewhere. After each fit, the points whose radial residual is
    /// more than 3 robust sigmas (1.4826 MAD, at least 0.2 % of the radius) from the median residual of all the
    /// points are left out and the ellipse is fitted again, until the set is stable (at most `rounds` refits).
    /// Returns the ellipse and the points it was fitted to.
    public static func fitRejectingOutliers(points: [(x: Double, y: Double)], rounds: Int = 10) throws
        -> (ellipse: EllipticalDistortion, inliers: [(x: Double, y: Double)]) {
        var e = try fit(points: points)
        var kept = points
        for _ in 0 ..< rounds {
            let d = points.map { e.radialResidual(x: $0.x, y: $0.y) }
            let median = Self.median(d)
            let mad = Self.median(d.map { abs($0 - median) })
            let cut = max(3 * 1.4826 * mad, 0.002)
            let next = zip(points, d).filter { abs($0.1 - median) <= cut }.map(\.0)
            if next.count < 5 || (next.count == kept.count && zip(next, kept).allSatisfy { $0.0.x == $0.1.x && $0.0.y == $0.1.y }) { break }
            kept = next
            e = try fit(points: kept)
        }
        return (e, kept)
    }

    static func median(_ v: [Double]) -> Double {
        guard !v.isEmpty else { return 0 }
        let s = v.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
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
    /// radius in [minRadius, maxRadius] of the largest value of the ray's profile (step 0.25 px, bilinear
    /// samples), refined by a parabola through the neighbouring samples. The profile is, at each radius, the
    /// median over the `2 sector + 1` rays around the direction (`sector` = 5: +-10 degrees of 180 rays), so a
    /// Bragg spot, which covers a few degrees, does not move the ring's maximum, while a continuous ring does
    /// not change (0 keeps the single ray). With `guess` (an ellipse fitted to a first set of points) the rays
    /// start at its centre and their radii are scaled along each ray to its shape, so the ring lies at one
    /// radius on all the rays of a sector: a second search about the first fit is not smeared by the
    /// ellipticity. Rays whose maximum lies on the search boundary are skipped.
    public static func ringPoints(_ image: UnsafeBufferPointer<Float>, width: Int, height: Int, centreX: Double,
                                  centreY: Double, minRadius: Double, maxRadius: Double,
                                  rays: Int = 180, sector: Int = 5,
                                  about guess: EllipticalDistortion? = nil) -> [(x: Double, y: Double)] {
        var points = [(x: Double, y: Double)]()
        let step = 0.25
        let steps = Int(((maxRadius - minRadius) / step).rounded(.down))
        guard steps >= 2, rays > 0 else { return points }
        let p = image.baseAddress!
        // With a guess, each ray is sampled about the guess's centre and its radii scaled by the guess's
        // radius along the ray over sqrt(a b), so that a ring on the guess lies at the same sample on every ray
        // and the sector median does not smear it.
        let ox = guess?.centreX ?? centreX, oy = guess?.centreY ?? centreY
        func scale(_ c: Double, _ s: Double) -> Double {
            guard let g = guess, g.semiMajor > 0, g.semiMinor > 0 else { return 1 }
            let u = c * cos(g.angle) + s * sin(g.angle), v = -c * sin(g.angle) + s * cos(g.angle)
            return (g.semiMajor * g.semiMinor).squareRoot() / (u * u * g.semiMinor * g.semiMinor + v * v * g.semiMajor * g.semiMajor).squareRoot()
        }
        // The profile of every ray, then per ray the median over its sector at each radius.
        var profiles = [Float](repeating: 0, count: rays * (steps + 1))
        for k in 0 ..< rays {
            let phi = 2 * Double.pi * Double(k) / Double(rays)
            let c = cos(phi), s = sin(phi), f = scale(c, s)
            for t in 0 ... steps {
                let r = (minRadius + Double(t) * step) * f
                // Pixel-edge coordinates -> pixel-index coordinates for sampling.
                let x = ox + r * c - 0.5, y = oy + r * s - 0.5
                profiles[k * (steps + 1) + t] = BilinearShift.sample(p, width: width, height: height, x: Float(x), y: Float(y))
            }
        }
        let half = max(0, min(sector, (rays - 1) / 2))
        var profile = [Float](repeating: 0, count: steps + 1)
        var window = [Float](repeating: 0, count: 2 * half + 1)
        for k in 0 ..< rays {
            let phi = 2 * Double.pi * Double(k) / Double(rays)
            let c = cos(phi), s = sin(phi)
            for t in 0 ... steps {
                for j in -half ... half { window[j + half] = profiles[((k + j + rays) % rays) * (steps + 1) + t] }
                window.sort()
                profile[t] = window[half]
            }
            var best = 0
            for t in 1 ... steps where profile[t] > profile[best] { best = t }
            guard best > 0 && best < steps else { continue }
            let l = Double(profile[best - 1]), m = Double(profile[best]), r = Double(profile[best + 1])
            let denom = l - 2 * m + r
            let off = denom < 0 ? 0.5 * (l - r) / denom : 0
            let radius = (minRadius + (Double(best) + off) * step) * scale(c, s)
            points.append((ox + radius * c, oy + radius * s))
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
