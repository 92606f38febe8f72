import STEMCore

/// Everything the inactivity analysis reports for one cross-section (arXiv:2503.06113): the per-position
/// classification of the fast-rate series (and of the slow-rate series when given), dead / slow labels,
/// their fractions among positions with signal, and their profiles against depth.
public struct InactivityReport: Sendable {
    public let scan: ScanGrid
    /// Fast-rate (or only) series over its chosen segment.
    public let fast: [PixelActivity]
    /// Slow-rate series, when one was given.
    public let slow: [PixelActivity]?
    /// Dead / slow / active labels (needs both series).
    public let combined: [ParticleActivity]?
    /// Inactive fraction at the fast rate among positions with signal.
    public let inactiveFraction: Double
    /// Fractions among positions with signal, indexed by `ParticleActivity.rawValue` (0 for no signal).
    public let combinedFractions: [Double]?
    /// Depth profile of `fast` (labels `PixelActivity`).
    public let fastDepthProfile: DepthProfile
    /// Depth profile of `combined` (labels `ParticleActivity`).
    public let combinedDepthProfile: DepthProfile?

    public init(fast fastSeries: PhaseSeries, fastSegment: ClosedRange<Int>, slow slowSeries: PhaseSeries? = nil,
                slowSegment: ClosedRange<Int>? = nil, criteria: InactivityCriteria = InactivityCriteria(),
                depthAxis: DepthAxis = DepthAxis(), depthBins: Int? = nil) throws {
        scan = fastSeries.scan
        fast = try criteria.classify(fastSeries, segment: fastSegment)
        inactiveFraction = activityFractions(fast.map(\.rawValue), classes: 3)[Int(PixelActivity.inactive.rawValue)]
        fastDepthProfile = try DepthProfile(labels: fast.map(\.rawValue), classes: 3, scan: scan, axis: depthAxis,
                                            bins: depthBins)
        if let s = slowSeries {
            guard s.scan == scan else {
                throw STEMError.shapeMismatch(path: "slow-rate series", field: "scan", expected: "\(scan)", found: "\(s.scan)")
            }
            let labels = try criteria.classify(s, segment: slowSegment ?? 0 ... s.steps - 1)
            let c = try ParticleActivity.combine(fast: fast, slow: labels)
            slow = labels
            combined = c
            combinedFractions = activityFractions(c.map(\.rawValue), classes: ParticleActivity.allCases.count)
            combinedDepthProfile = try DepthProfile(labels: c.map(\.rawValue), classes: ParticleActivity.allCases.count,
                                                    scan: scan, axis: depthAxis, bins: depthBins)
        } else {
            slow = nil
            combined = nil
            combinedFractions = nil
            combinedDepthProfile = nil
        }
    }
}
