/// How the experimental pattern intensities are compressed before correlation.
public enum IntensityScaling: Sendable, Hashable {
    case linear
    /// v^gamma (0.5 is common: it lifts weak reflections against the strong ones).
    case gamma(Double)
    /// log(1 + v).
    case logarithmic
}

/// The denominator of the correlation index.
public enum CorrelationNormalisation: Sendable, Hashable {
    /// The ASTAR index of the methods notes, Q = Σ P(x_j) T_j / (√(Σ P(x_j)²) √(Σ T_j²)), the pattern sums running over
    /// the template's spots only. It favours templates with few spots (two spots of equal intensity give Q = 1 on
    /// any pattern with equal values at their positions), so it is not the default.
    case spots
    /// Q = Σ P(x_j) T_j / (‖P‖ √(Σ T_j²)) with ‖P‖ the norm of the whole polar image: the cosine between the pattern
    /// and the template drawn as point spots (pyxem's normalised correlation).
    case pattern
}

/// Where the pattern centre (g = 0) is.
public enum PatternCentre: Sendable, Hashable {
    /// The same pixel for every pattern (column x, row y).
    case fixed(x: Double, y: Double)
    /// Found per pattern as the centroid of the pixels above half the maximum within `searchRadius` pixels of the
    /// nominal centre (x, y): follows a descan-shifted direct beam.
    case directBeam(x: Double, y: Double, searchRadius: Double)
}

/// Parameters of `PatternMatcher`.
public struct MatchingParameters: Sendable, Hashable {
    /// Angular bins of the polar transform (360: 1° in-plane resolution).
    public var angularBins: Int
    public var scaling: IntensityScaling
    /// Subtract each radius's mean (after scaling) and clip at zero: removes the diffuse background.
    public var subtractRadialMean: Bool
    public var normalisation: CorrelationNormalisation
    /// Smooth the polar image with a [1 2 1]/4 kernel along radius and angle: makes the score tolerant of the
    /// half-bin rounding of template spot positions.
    public var smoothPolar: Bool
    public var centre: PatternCentre
    /// Candidates kept per pattern (best first, over all phases).
    public var topN: Int
    /// Q2 of the reliability is the best match more than this far (degrees, symmetry-aware) from the best.
    public var reliabilityMinimumAngle: Double
    /// Q2 skips the best orientation's Friedel twin (180° about the beam, see `FriedelPseudoSymmetry`), which
    /// kinematic templates cannot distinguish; otherwise most zone axes would get a reliability near 0.
    public var reliabilityIgnoresFriedelTwin: Bool
    /// Refine the best orientation below the library step (local search on exact spot positions).
    public var refine: Bool
    /// Templates that survive the coarse pass (a pass on 4× coarser angles); 0 disables pruning.
    public var coarseCandidates: Int
    /// Before the coarse pass, keep only this fraction of each phase's templates, ranked by the rotation-invariant
    /// score Σ_j T_j R(r_j) / ‖T‖ with R the pattern's radial profile (pyxem's pruning idea); 0 or 1: no radial stage.
    public var radialKeepFraction: Double = 0

    public init(angularBins: Int = 360, scaling: IntensityScaling = .gamma(0.5), subtractRadialMean: Bool = true, smoothPolar: Bool = true,
                normalisation: CorrelationNormalisation = .pattern, centre: PatternCentre, topN: Int = 5,
                reliabilityMinimumAngle: Double = 5, reliabilityIgnoresFriedelTwin: Bool = true, refine: Bool = false, coarseCandidates: Int = 0) {
        self.angularBins = angularBins
        self.scaling = scaling
        self.subtractRadialMean = subtractRadialMean
        self.smoothPolar = smoothPolar
        self.normalisation = normalisation
        self.centre = centre
        self.topN = topN
        self.reliabilityMinimumAngle = reliabilityMinimumAngle
        self.reliabilityIgnoresFriedelTwin = reliabilityIgnoresFriedelTwin
        self.refine = refine
        self.coarseCandidates = coarseCandidates
    }

    public func validate() throws {
        guard angularBins >= 36, angularBins <= 7200, angularBins % 4 == 0 else {
            throw MatchingError.invalidParameter(name: "angularBins", value: "\(angularBins)", expected: "36 ... 7200, a multiple of 4")
        }
        if case let .gamma(g) = scaling, !(g > 0 && g <= 4) {
            throw MatchingError.invalidParameter(name: "gamma", value: "\(g)", expected: "0 < gamma ≤ 4")
        }
        guard topN >= 1, topN <= 1000 else {
            throw MatchingError.invalidParameter(name: "topN", value: "\(topN)", expected: "1 ... 1000")
        }
        guard reliabilityMinimumAngle > 0, reliabilityMinimumAngle < 90 else {
            throw MatchingError.invalidParameter(name: "reliabilityMinimumAngle", value: "\(reliabilityMinimumAngle)", expected: "0 ... 90 degrees")
        }
        guard radialKeepFraction >= 0, radialKeepFraction <= 1 else {
            throw MatchingError.invalidParameter(name: "radialKeepFraction", value: "\(radialKeepFraction)", expected: "0 ... 1")
        }
        guard coarseCandidates >= 0 else {
            throw MatchingError.invalidParameter(name: "coarseCandidates", value: "\(coarseCandidates)", expected: "≥ 0")
        }
        if case let .directBeam(_, _, r) = centre, !(r >= 1) {
            throw MatchingError.invalidParameter(name: "centre search radius", value: "\(r)", expected: "≥ 1 pixel")
        }
    }
}
