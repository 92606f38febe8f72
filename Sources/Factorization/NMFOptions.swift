/// The divergence an NMF fit minimises.
public enum NMFLoss: String, Sendable, CaseIterable {
    /// 1/2 ||X - WH||_F^2 (beta = 2).
    case frobenius
    /// Generalised Kullback-Leibler divergence sum(X log(X / WH) - X + WH) (beta = 1).
    case kullbackLeibler = "kl"
}

/// The update rule.
public enum NMFSolver: String, Sendable, CaseIterable {
    /// Multiplicative updates (Lee & Seung 2001), for either loss.
    case multiplicative = "mu"
    /// Hierarchical alternating least squares (Cichocki & Phan 2009): exact coordinate minimisation of one column
    /// of W (one row of H) at a time, Gauss-Seidel over components. This is the update of scikit-learn's
    /// `solver='cd'` without shuffling and regularisation; Frobenius loss only.
    case hals = "cd"
}

/// How the factors are initialised.
public enum NMFInitialization: Sendable, Equatable {
    /// NNDSVD (Boutsidis & Gallopoulos 2008): zeros stay zero (sparse start; best with HALS).
    case nndsvd
    /// NNDSVD with its zeros replaced by the mean of X (better for multiplicative updates).
    case nndsvda
    /// Seeded random like scikit-learn: |N(0,1)| * sqrt(mean(X) / k). W rows are drawn from a stream keyed by the
    /// global row index, so the start is the same for any partition of the rows over ranks.
    case random(seed: UInt64)
}

/// What to do with negative input values (NMF needs X >= 0).
public enum NegativeValuePolicy: String, Sendable {
    /// Replace negatives by 0 (the default: detector noise around a subtracted dark level is often slightly negative).
    case clip
    /// Throw `NMFError.negativeInput`.
    case reject
}

/// Parameters of one NMF fit.
public struct NMFOptions: Sendable {
    public var components: Int
    public var loss: NMFLoss
    public var solver: NMFSolver
    public var initialization: NMFInitialization
    /// Upper bound on iterations (one iteration updates W then H).
    public var maxIterations: Int
    /// Stop when (e_prev - e) / e_0 < tolerance, e the square-root divergence checked every `checkInterval`
    /// iterations (scikit-learn's rule for `solver='mu'`). 0 disables the test.
    public var tolerance: Double
    /// Iterations between objective checks (methods notes and scikit-learn: 10).
    public var checkInterval: Int
    /// Lower bound of every denominator (the value scikit-learn substitutes for zero: float32 epsilon).
    public var epsilon: Float
    /// Oversampling and subspace iterations of the randomized SVD behind NNDSVD.
    public var svdOversampling: Int
    public var svdIterations: Int
    /// Seed of the randomized SVD's starting block.
    public var svdSeed: UInt64

    public init(components: Int, loss: NMFLoss = .frobenius, solver: NMFSolver = .multiplicative,
                initialization: NMFInitialization = .nndsvda, maxIterations: Int = 200, tolerance: Double = 1e-4,
                checkInterval: Int = 10, epsilon: Float = Float.ulpOfOne, svdOversampling: Int = 10,
                svdIterations: Int = 7, svdSeed: UInt64 = 0) {
        self.components = components
        self.loss = loss
        self.solver = solver
        self.initialization = initialization
        self.maxIterations = maxIterations
        self.tolerance = tolerance
        self.checkInterval = checkInterval
        self.epsilon = epsilon
        self.svdOversampling = svdOversampling
        self.svdIterations = svdIterations
        self.svdSeed = svdSeed
    }

    /// The authors' clustering fit (methods notes 3): Frobenius, NNDSVD, coordinate descent, 1500 iterations.
    public static func clustering(components: Int) -> NMFOptions {
        NMFOptions(components: components, loss: .frobenius, solver: .hals, initialization: .nndsvd,
                   maxIterations: 1500, tolerance: 1e-4)
    }

    /// The authors' K-component loss fit: KL divergence, multiplicative updates, 200 iterations, tol 1e-4
    /// (NNDSVDa: scikit-learn's default initialisation, which the authors did not override).
    public static func componentLoss(components: Int) -> NMFOptions {
        NMFOptions(components: components, loss: .kullbackLeibler, solver: .multiplicative,
                   initialization: .nndsvda, maxIterations: 200, tolerance: 1e-4)
    }

    func validate(rows: Int, columns: Int) throws {
        guard components >= 1 else {
            throw NMFError.invalidParameter(name: "components", value: "\(components)", expected: "k >= 1")
        }
        guard components <= min(rows, columns) else {
            throw NMFError.tooManyComponents(k: components, rows: rows, columns: columns)
        }
        guard maxIterations >= 0 else {
            throw NMFError.invalidParameter(name: "maxIterations", value: "\(maxIterations)", expected: ">= 0")
        }
        guard tolerance >= 0, tolerance.isFinite else {
            throw NMFError.invalidParameter(name: "tolerance", value: "\(tolerance)", expected: "finite >= 0")
        }
        guard checkInterval >= 1 else {
            throw NMFError.invalidParameter(name: "checkInterval", value: "\(checkInterval)", expected: ">= 1")
        }
        guard epsilon > 0, epsilon.isFinite else {
            throw NMFError.invalidParameter(name: "epsilon", value: "\(epsilon)", expected: "finite > 0")
        }
        if solver == .hals && loss != .frobenius {
            throw NMFError.invalidParameter(name: "solver", value: "cd",
                                            expected: "multiplicative updates for the KL loss (HALS is Frobenius only)")
        }
    }
}

/// Errors of the factorisation target; each says what was wrong and what was expected.
public enum NMFError: Error, CustomStringConvertible, Sendable, Equatable {
    case invalidParameter(name: String, value: String, expected: String)
    case shapeMismatch(what: String, expected: String, found: String)
    case negativeInput(count: Int, minimum: Float)
    case nonFiniteInput(count: Int)
    case tooManyComponents(k: Int, rows: Int, columns: Int)
    case tooFewPoints(count: Int, needed: Int)

    public var description: String {
        switch self {
        case let .invalidParameter(name, value, expected):
            return "invalid \(name) '\(value)': expected \(expected)"
        case let .shapeMismatch(what, expected, found):
            return "\(what): expected \(expected), found \(found)"
        case let .negativeInput(count, minimum):
            return "the data matrix has \(count) negative values (minimum \(minimum)); NMF needs X >= 0: clip them (policy 'clip') or shift the data"
        case let .nonFiniteInput(count):
            return "the data matrix has \(count) NaN or infinite values; NMF needs finite X >= 0"
        case let .tooManyComponents(k, rows, columns):
            return "k = \(k) components exceed min(positions, pixels) = min(\(rows), \(columns)); choose k <= \(min(rows, columns))"
        case let .tooFewPoints(count, needed):
            return "the knee needs at least \(needed) k values, got \(count); widen the k range"
        }
    }
}
