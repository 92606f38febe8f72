/// Levenberg–Marquardt least squares for small dense problems (a handful of parameters, up to a few hundred
/// residuals): minimise Σ_i (y_i − f_i(θ))² by solving (JᵀJ + λ diag(JᵀJ)) δ = Jᵀr with a Cholesky
/// factorisation, accepting a step when the cost falls (then λ /= 10) and rejecting it otherwise (λ *= 10)
/// (Marquardt, J. SIAM 11 (1963) 431; Madsen, Nielsen & Tingleff, "Methods for non-linear least squares
/// problems", 2004, §3.2). Parameters may be kept inside boxes: a step is projected onto the bounds.
public struct LevenbergMarquardt: Sendable {
    public var maxIterations: Int
    /// Stop when the relative decrease of the cost is below this.
    public var relativeTolerance: Double
    public var initialDamping: Double

    public init(maxIterations: Int = 60, relativeTolerance: Double = 1e-8, initialDamping: Double = 1e-3) {
        self.maxIterations = maxIterations
        self.relativeTolerance = relativeTolerance
        self.initialDamping = initialDamping
    }

    public struct Result: Sendable {
        public var parameters: [Double]
        /// Σ residual² at the solution.
        public var cost: Double
        public var iterations: Int
        /// Diagonal of (JᵀJ)⁻¹ at the solution (multiply by cost / (m − n) for parameter variances); zero
        /// where the normal matrix is singular.
        public var covarianceDiagonal: [Double]
    }

    /// Fits `parameters` (n values) to `m` observations. `model(θ, residuals, jacobian)` must fill
    /// residuals[i] = y_i − f_i(θ) and jacobian[i * n + k] = ∂f_i/∂θ_k (row-major, m x n).
    public func minimise(parameters initial: [Double], observations m: Int,
                         lower: [Double]? = nil, upper: [Double]? = nil,
                         model: ([Double], inout [Double], inout [Double]) -> Void) -> Result {
        let n = initial.count
        var theta = initial
        func project(_ t: inout [Double]) {
            if let lo = lower { for k in 0 ..< n { t[k] = max(t[k], lo[k]) } }
            if let hi = upper { for k in 0 ..< n { t[k] = min(t[k], hi[k]) } }
        }
        project(&theta)
        var r = [Double](repeating: 0, count: m), jac = [Double](repeating: 0, count: m * n)
        var rTry = r, jTry = jac
        var normal = [Double](repeating: 0, count: n * n), gradient = [Double](repeating: 0, count: n)
        var a = normal, step = gradient, trial = theta
        model(theta, &r, &jac)
        var cost = sumOfSquares(r)
        var lambda = initialDamping
        var iterations = 0
        func buildNormal() {
            for k in 0 ..< n {
                var g = 0.0
                for i in 0 ..< m { g += jac[i * n + k] * r[i] }
                gradient[k] = g
                for l in 0 ... k {
                    var s = 0.0
                    for i in 0 ..< m { s += jac[i * n + k] * jac[i * n + l] }
                    normal[k * n + l] = s; normal[l * n + k] = s
                }
            }
        }
        buildNormal()
        while iterations < maxIterations {
            iterations += 1
            var accepted = false
            for _ in 0 ..< 12 {
                a = normal
                for k in 0 ..< n { a[k * n + k] += lambda * max(normal[k * n + k], 1e-12) }
                guard Self.choleskySolve(&a, gradient, &step, n) else { lambda *= 10; continue }
                for k in 0 ..< n { trial[k] = theta[k] + step[k] }
                project(&trial)
                model(trial, &rTry, &jTry)
                let c = sumOfSquares(rTry)
                if c.isFinite && c <= cost {
                    let decrease = cost - c
                    theta = trial; swap(&r, &rTry); swap(&jac, &jTry)
                    let old = cost
                    cost = c
                    lambda = max(lambda / 10, 1e-12)
                    accepted = true
                    buildNormal()
                    if decrease <= relativeTolerance * max(old, 1e-300) { iterations = maxIterations }
                    break
                }
                lambda *= 10
            }
            if !accepted { break }
        }
        // Covariance diagonal from the undamped normal matrix.
        var covariance = [Double](repeating: 0, count: n)
        a = normal
        if Self.choleskyFactor(&a, n) {
            var e = [Double](repeating: 0, count: n), x = e
            for k in 0 ..< n {
                for l in 0 ..< n { e[l] = l == k ? 1 : 0 }
                Self.choleskySubstitute(a, e, &x, n)
                covariance[k] = max(x[k], 0)
            }
        }
        return Result(parameters: theta, cost: cost, iterations: iterations, covarianceDiagonal: covariance)
    }

    private func sumOfSquares(_ r: [Double]) -> Double {
        var s = 0.0
        for v in r { s += v * v }
        return s
    }

    /// In-place Cholesky factor L (lower triangle) of a symmetric positive-definite n x n matrix.
    static func choleskyFactor(_ a: inout [Double], _ n: Int) -> Bool {
        for j in 0 ..< n {
            var d = a[j * n + j]
            for k in 0 ..< j { d -= a[j * n + k] * a[j * n + k] }
            guard d > 0, d.isFinite else { return false }
            let l = d.squareRoot()
            a[j * n + j] = l
            for i in j + 1 ..< n {
                var s = a[i * n + j]
                for k in 0 ..< j { s -= a[i * n + k] * a[j * n + k] }
                a[i * n + j] = s / l
            }
        }
        return true
    }

    /// Solves L Lᵀ x = b given the factor from `choleskyFactor`.
    static func choleskySubstitute(_ l: [Double], _ b: [Double], _ x: inout [Double], _ n: Int) {
        for i in 0 ..< n {
            var s = b[i]
            for k in 0 ..< i { s -= l[i * n + k] * x[k] }
            x[i] = s / l[i * n + i]
        }
        for i in stride(from: n - 1, through: 0, by: -1) {
            var s = x[i]
            for k in i + 1 ..< n { s -= l[k * n + i] * x[k] }
            x[i] = s / l[i * n + i]
        }
    }

    static func choleskySolve(_ a: inout [Double], _ b: [Double], _ x: inout [Double], _ n: Int) -> Bool {
        guard choleskyFactor(&a, n) else { return false }
        choleskySubstitute(a, b, &x, n)
        return true
    }
}
