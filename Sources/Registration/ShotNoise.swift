import Foundation

/// Shot-noise significance of a candidate spot in counted data (not a step of the paper).
///
/// The paper's threshold, `max(user, 3 grey levels, noise)` with the noise the standard deviation of the
/// corner pixels, assumes noise of many counts per pixel. A counting detector at low dose records a few
/// electrons per pattern away from the beam: the corners hold almost none, the 8-bit range is a few counts, and
/// every small cluster of electrons (a handful among the 3 x 3 scan neighbours within one blur radius) passes
/// the prominence test: on `simulate`'s 128 px scan at 0.001 of its dose (60 electrons per pattern) it finds
/// 1060 spots that the noise-free scan does not have, beside 993 that it has; on pure Poisson noise whose
/// diffuse background falls from 0.02 electrons per pixel at the centre to 0.0002 in the corners, 2-20 spots
/// per pattern.
///
/// The test, aperture photometry as for faint sources on a counted sky: the electrons `n` inside a disc of
/// radius `coreRadius` (1.5 blur sigmas) about the candidate must be improbable for Poisson noise of the local
/// background, `P(Poisson(mu) >= n) <= p`. `mu` is the disc's area times the mean count of an annulus about
/// it beyond the spot (`skyAnnulus`: from twice the spot's half-maximum radius, two core radii wide; pixels
/// more than `3 sqrt(m) + 2` electrons above the annulus mean m, other spots, left out once), at least the
/// corners' mean (where the paper measures its noise). `p = falseSpotsPerPattern * (disc area / pattern
/// area)`, the union bound over the independent discs of a pattern. Values become electrons through
/// `electronsPerUnit`: the binned area, the patterns in the 3 x 3 mean, over the input value of one electron.
/// The paraboloid background is not used: on sparse counts it follows the minima of the blurred noise, a
/// fraction of the mean rate. With tens of electrons per pixel a spot that passes the paper's rule is many
/// sigma above its surroundings, so the test changes nothing where the paper's regime holds.
public enum ShotNoise {
    /// Expected false spots per pattern that the test lets through from pure Poisson noise.
    public static let falseSpotsPerPattern = 0.01

    /// Radius of the counting disc: 1.5 blur sigmas (3 px at the default sigma), at least 1.5 px. Of the radii
    /// 1, 1.5 and 2 sigmas, on `simulate`'s 128 px scan at 0.001 of its dose, it kept the most real spots for
    /// the same false ones.
    public static func coreRadius(blurSigma: Float) -> Float { max(1.5, 1.5 * blurSigma) }

    /// Tail probability per disc for a pattern of `pixels` pixels and a disc of `area` pixels.
    public static func tail(pixels: Int, area: Float) -> Double {
        min(0.5, falseSpotsPerPattern * Double(area) / Double(max(1, pixels)))
    }

    /// `P(N >= n)` for `N ~ Poisson(mu)`; `n` is rounded to the nearest integer. Exact (the lower sum of the
    /// probability mass) up to `mu = 400`; above, `P(N >= k) = P(Gamma(k) <= mu)` by the Wilson-Hilferty cube
    /// root of the gamma variate (within 1 % at tails down to 1e-6).
    public static func upperTail(_ n: Double, mean mu: Double) -> Double {
        let k = n.rounded()
        if k <= 0 { return 1 }
        if !(mu > 0) { return 0 }
        if mu > 400 {
            let v = 1 / (9 * k)
            let z = (cbrt(mu / k) - 1 + v) / v.squareRoot()
            return 0.5 * erfc(-z / 2.0.squareRoot())
        }
        // 1 - P(N <= k - 1), the lower sum from 0: exact to 1e-16 absolute, far below the tails the test uses.
        if k - 1 >= mu + 40 * mu.squareRoot() + 40 { return 0 }
        var term = exp(-mu), cdf = term
        var j = 1.0
        while j <= k - 1 {
            term *= mu / j
            cdf += term
            j += 1
        }
        return max(0, 1 - cdf)
    }

    /// Sum of `image` over the pixels whose centres lie within `radius` of the centre of pixel `(x, y)`
    /// (clipped to the image), and their number.
    public static func discSum(_ image: UnsafePointer<Float>, width w: Int, height h: Int, x: Int, y: Int,
                               radius: Float) -> (sum: Double, area: Int) {
        var s = 0.0, a = 0
        visit(width: w, height: h, x: x, y: y, inner: -1, outer: radius) { s += Double(image[$0]); a += 1 }
        return (s, a)
    }

    /// The mean of `image` over the annulus `inner < r <= outer` about pixel `(x, y)`, in units of `image`,
    /// after leaving out once the pixels more than `3 sqrt(m) + 2` electrons above the first mean `m`
    /// (`electronsPerUnit` converts); nil when the annulus holds no pixel of the image.
    public static func skyAnnulus(_ image: UnsafePointer<Float>, width w: Int, height h: Int, x: Int, y: Int,
                                  inner: Float, outer: Float, electronsPerUnit e: Double) -> Double? {
        var s = 0.0, a = 0
        visit(width: w, height: h, x: x, y: y, inner: inner, outer: outer) { s += Double(image[$0]); a += 1 }
        guard a > 0 else { return nil }
        let m = s / Double(a) * e
        let cut = (m + 3 * max(0, m).squareRoot() + 2) / e
        var s2 = 0.0, a2 = 0
        visit(width: w, height: h, x: x, y: y, inner: inner, outer: outer) {
            let v = Double(image[$0])
            if v <= cut { s2 += v; a2 += 1 }
        }
        return a2 > 0 ? s2 / Double(a2) : s / Double(a)
    }

    /// The annulus of `skyAnnulus` for a spot of half-maximum radius `halfMaximum` on the detection image.
    public static func skyRadii(core: Float, halfMaximum: Float) -> (inner: Float, outer: Float) {
        let inner = max(2 * core, 2 * halfMaximum)
        return (inner, inner + 2 * core)
    }

    /// Calls `body(i)` for every pixel index `i` of the image whose centre lies at a distance r from the centre
    /// of pixel `(x, y)` with `inner < r <= outer`.
    @inline(__always)
    static func visit(width w: Int, height h: Int, x: Int, y: Int, inner: Float, outer: Float, _ body: (Int) -> Void) {
        let r = Int(outer.rounded(.down)), o2 = outer * outer, i2 = inner < 0 ? -1 : inner * inner
        for dy in max(-r, -y) ... min(r, h - 1 - y) {
            let dy2 = Float(dy * dy), row = (y + dy) * w
            for dx in max(-r, -x) ... min(r, w - 1 - x) {
                let d2 = Float(dx * dx) + dy2
                if d2 <= o2 && d2 > i2 { body(row + x + dx) }
            }
        }
    }
}
