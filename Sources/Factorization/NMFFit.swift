/// One objective check of a fit: after `iteration` iterations the square-root divergence was `error`
/// (||X - WH||_F for Frobenius, sqrt(2 KL) for KL: scikit-learn's `reconstruction_err_` convention).
public struct NMFCheckpoint: Sendable, Equatable {
    public var iteration: Int
    public var error: Double
}

/// How well the final factors reconstruct X, evaluated exactly (a direct pass over X in double precision,
/// one all-reduce), over all ranks' rows.
public struct NMFQuality: Sendable, Equatable {
    /// The divergence minimised: 1/2 ||X - WH||_F^2 or KL(X || WH).
    public var divergence: Double
    /// sqrt(2 * divergence): scikit-learn's `reconstruction_err_`.
    public var reconstructionError: Double
    /// ||X - WH||_F / ||X||_F (0 when X = 0).
    public var relativeError: Double
    /// mean |X - WH| over all N x P elements: the authors' K-component loss.
    public var meanAbsoluteError: Double
}

/// The result of fitting one k on one rank: this rank's rows of W, the replicated H, and the fit's history.
public struct NMFFit: Sendable {
    public var components: Int
    public var localRows: Int
    public var columns: Int
    /// Spatial weights, localRows x k, row-major (the rank's rows of the k x N coefficient matrix, transposed).
    public var w: [Float]
    /// Component patterns, k x columns, row-major (replicated on every rank).
    public var h: [Float]
    /// Iterations performed (one iteration = W update + H update).
    public var iterations: Int
    /// True when the tolerance test stopped the fit before `maxIterations`.
    public var converged: Bool
    public var history: [NMFCheckpoint]
    public var quality: NMFQuality
}
