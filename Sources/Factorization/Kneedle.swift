/// The Kneedle knee detector (Satopää, Albrecht, Irwin & Raghavan 2011), offline mode, reproducing the `kneed`
/// package's (v0.9) `KneeLocator(x, y, S, curve, direction, interp_method="interp1d")`:
///
/// 1. normalise x and y to [0, 1] (min-max);
/// 2. turn the curve into a concave increasing one: convex decreasing -> 1 - y, convex increasing -> flip(1 - y),
///    concave decreasing -> flip(y); for the two flipped cases x_n is mirrored too (x_n <- flip(1 - x_n));
/// 3. difference curve d = y_n - x_n; its local maxima and minima (scipy `argrelextrema` with >= / <=, order 1,
///    clipped ends, so plateaus and end points count);
/// 4. threshold at a maximum i: T = d_i - S * mean(diff(x_n));
/// 5. walk right from the first maximum; entering a maximum sets the threshold (and remembers it), entering a
///    minimum resets it to 0 and suspends detection until the next maximum; the first point j with d_j < T while
///    detection is active reports the knee at the remembered maximum (mapped back through the flip for the
///    flipped curves).
public enum Kneedle {
    public enum Curve: String, Sendable { case convex, concave }
    public enum Direction: String, Sendable { case increasing, decreasing }

    /// The knee's x value, or nil when the curve has none (kneed then warns and returns None).
    /// Throws when fewer than 3 points are given or x is not strictly increasing.
    public static func knee(x: [Double], y: [Double], sensitivity: Double = 1, curve: Curve = .convex,
                            direction: Direction = .decreasing) throws -> Double? {
        let n = x.count
        guard n >= 3, y.count == n else { throw NMFError.tooFewPoints(count: min(n, y.count), needed: 3) }
        for i in 1 ..< n where !(x[i] > x[i - 1]) {
            throw NMFError.invalidParameter(name: "knee x", value: "\(x)", expected: "strictly increasing values")
        }
        guard y.allSatisfy({ $0.isFinite }) else {
            throw NMFError.invalidParameter(name: "knee y", value: "\(y)", expected: "finite values")
        }
        func normalise(_ v: [Double]) -> [Double] {
            let lo = v.min()!, hi = v.max()!
            return hi > lo ? v.map { ($0 - lo) / (hi - lo) } : v.map { _ in 0 }
        }
        var xn = normalise(x)
        var yn = normalise(y)
        switch (direction, curve) {
        case (.decreasing, .concave): yn.reverse()
        case (.decreasing, .convex): let m = yn.max()!; yn = yn.map { m - $0 }
        case (.increasing, .convex): let m = yn.max()!; yn = yn.map { m - $0 }.reversed()
        case (.increasing, .concave): break
        }
        if (direction, curve) == (.decreasing, .concave) || (direction, curve) == (.increasing, .convex) {
            xn = xn.map { 1 - $0 }.reversed()
        }
        let d = zip(yn, xn).map { $0 - $1 }
        func isExtremum(_ i: Int, _ compare: (Double, Double) -> Bool) -> Bool {
            compare(d[i], d[max(i - 1, 0)]) && compare(d[i], d[min(i + 1, n - 1)])
        }
        let maxima = (0 ..< n).filter { isExtremum($0, >=) }
        let minima = Set((0 ..< n).filter { isExtremum($0, <=) })
        guard let firstMaximum = maxima.first else { return nil }
        let meanStep = (1 ..< n).reduce(0.0) { $0 + (xn[$1] - xn[$1 - 1]) } / Double(n - 1)
        let maximaSet = Set(maxima)
        var threshold = 0.0, thresholdIndex = firstMaximum, detecting = true
        for i in firstMaximum ..< n - 1 {
            if maximaSet.contains(i) {
                threshold = d[i] - sensitivity * abs(meanStep)
                thresholdIndex = i
                detecting = true
            }
            if minima.contains(i) {
                threshold = 0
                detecting = false
            }
            if detecting && d[i + 1] < threshold {
                switch (curve, direction) {
                case (.convex, .decreasing), (.concave, .increasing): return x[thresholdIndex]
                case (.convex, .increasing), (.concave, .decreasing): return x[n - 1 - thresholdIndex]
                }
            }
        }
        return nil
    }

    /// The authors' choice of k: the knee of loss(k) (convex, decreasing, S = 1) and the recommended region
    /// knee - 4 ... knee + 4, clipped to the k range.
    public static func recommend(ks: [Int], losses: [Double], sensitivity: Double = 1,
                                 halfWidth: Int = 4) throws -> (knee: Int, region: ClosedRange<Int>)? {
        guard let knee = try knee(x: ks.map(Double.init), y: losses, sensitivity: sensitivity) else { return nil }
        let k = Int(knee.rounded())
        return (k, max(ks.min()!, k - halfWidth) ... min(ks.max()!, k + halfWidth))
    }
}
