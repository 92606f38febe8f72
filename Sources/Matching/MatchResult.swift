import Crystallography

/// One ranked match: a template and the in-plane rotation that maximises its correlation with the pattern.
public struct MatchCandidate: Sendable, Hashable {
    /// Phase index in the library (0-based).
    public var phase: Int
    /// Global template index.
    public var template: Int
    /// Rotation of the pattern relative to the template about the beam (radians, counter-clockwise from +x to +y).
    public var inPlaneAngle: Double
    /// Correlation index Q.
    public var correlation: Float
    /// Template orientation composed with the in-plane rotation (sample → crystal).
    public var orientation: Orientation

    public init(phase: Int, template: Int, inPlaneAngle: Double, correlation: Float, orientation: Orientation) {
        self.phase = phase; self.template = template; self.inPlaneAngle = inPlaneAngle
        self.correlation = correlation; self.orientation = orientation
    }
}

/// The result at one scan position. A position that cannot be indexed (pattern of zeros, no signal where any
/// template has spots) has phase −1, Q = 0, reliabilities 0, the identity orientation and no candidates.
public struct MatchResult: Sendable {
    /// Phase index in the library, −1 when not indexed.
    public var phase: Int
    public var orientation: Orientation
    /// Correlation index Q of the best match (0 ... 1).
    public var correlation: Float
    /// 100 (1 − Q2/Q1), Q2 the best match further than the reliability angle from the best (methods §2).
    public var reliability: Float
    /// 100 (1 − Q_other/Q1), Q_other the best match of any other phase (100 for a single-phase library).
    public var phaseReliability: Float
    /// Best candidates, best first (at most `topN`).
    public var candidates: [MatchCandidate]
    /// Pattern centre used (pixels).
    public var centreX: Double, centreY: Double

    public init(phase: Int, orientation: Orientation, correlation: Float, reliability: Float, phaseReliability: Float,
                candidates: [MatchCandidate], centreX: Double, centreY: Double) {
        self.phase = phase; self.orientation = orientation; self.correlation = correlation
        self.reliability = reliability; self.phaseReliability = phaseReliability
        self.candidates = candidates; self.centreX = centreX; self.centreY = centreY
    }

    public var isIndexed: Bool { phase >= 0 }
    public var euler: EulerAngles { orientation.euler }

    public static func notIndexed(centreX: Double, centreY: Double) -> MatchResult {
        MatchResult(phase: -1, orientation: .identity, correlation: 0, reliability: 0, phaseReliability: 0,
                    candidates: [], centreX: centreX, centreY: centreY)
    }
}
