import STEMCore

/// Whether a scan position took part in one charge or discharge.
public enum PixelActivity: UInt8, Sendable, Codable, CaseIterable {
    /// No graphite peak in most steps (pore, binder, outside the electrode).
    case noSignal = 0
    case active = 1
    /// Phase and peak position unchanged over the segment (arXiv:2503.06113).
    case inactive = 2
}

/// Activity of a position from two series at different C-rates (arXiv:2503.06113): dead = inactive at both
/// rates, slow = inactive at the fast rate but active at the slow rate.
public enum ParticleActivity: UInt8, Sendable, Codable, CaseIterable, CustomStringConvertible {
    case noSignal = 0
    case active = 1
    case slow = 2
    case dead = 3
    /// Active at the fast rate but inactive at the slow one (not expected physically; reported separately).
    case inconsistent = 4

    public var description: String {
        switch self {
        case .noSignal: return "no signal"
        case .active: return "active"
        case .slow: return "slow"
        case .dead: return "dead"
        case .inconsistent: return "inconsistent"
        }
    }

    /// Combines the classification of the same positions at a fast and at a slow rate.
    public static func combine(fast: [PixelActivity], slow: [PixelActivity]) throws -> [ParticleActivity] {
        guard fast.count == slow.count else {
            throw STEMError.shapeMismatch(path: "inactivity", field: "slow-rate map", expected: "\(fast.count) positions",
                                          found: "\(slow.count)")
        }
        return zip(fast, slow).map { f, s in
            if f == .noSignal || s == .noSignal { return .noSignal }
            switch (f, s) {
            case (.inactive, .inactive): return .dead
            case (.inactive, .active): return .slow
            case (.active, .inactive): return .inconsistent
            default: return .active
            }
        }
    }
}

/// When a position counts as inactive over a segment of time steps.
public struct InactivityCriteria: Hashable, Sendable {
    /// Largest change of the dominant peak's d-spacing (Å) an inactive position may show.
    public var positionTolerance: Double
    /// Require the same dominant stage at every step with a peak.
    public var requireSameStage: Bool
    /// Minimum fraction of the steps with a peak for the position to count as electrode material.
    public var minimumPresence: Double

    public init(positionTolerance: Double = 0.02, requireSameStage: Bool = true, minimumPresence: Double = 0.5) {
        self.positionTolerance = positionTolerance
        self.requireSameStage = requireSameStage
        self.minimumPresence = minimumPresence
    }

    /// Classifies every scan position over the steps `segment` of a series: inactive when, over the steps
    /// with a peak, the dominant stage never changes (if required) and the dominant d-spacing stays within
    /// `positionTolerance`; positions with a peak in fewer than `minimumPresence` of the steps have no signal.
    public func classify(_ series: PhaseSeries, segment: ClosedRange<Int>) throws -> [PixelActivity] {
        guard segment.lowerBound >= 0, segment.upperBound < series.steps, segment.count >= 2 else {
            throw STEMError.invalidParameter(name: "segment", value: "\(segment)",
                                             expected: "at least two steps inside 0 ... \(series.steps - 1)")
        }
        let n = series.scan.count
        var out = [PixelActivity](repeating: .noSignal, count: n)
        for i in 0 ..< n {
            var present = 0, firstStage: UInt8 = 0, sameStage = true
            var lo = Float.infinity, hi = -Float.infinity
            for t in segment {
                let s = series.stage[t * n + i]
                guard s != 0 else { continue }
                if present == 0 { firstStage = s } else if s != firstStage { sameStage = false }
                present += 1
                let d = series.dominantD[t * n + i]
                lo = min(lo, d); hi = max(hi, d)
            }
            guard Double(present) >= minimumPresence * Double(segment.count) else { continue }
            let still = Double(hi - lo) <= positionTolerance && (sameStage || !requireSameStage)
            out[i] = still ? .inactive : .active
        }
        return out
    }
}

/// Fractions of each label among the positions with signal (label 0 = no signal is excluded).
public func activityFractions(_ labels: [UInt8], classes: Int) -> [Double] {
    var counts = [Int](repeating: 0, count: classes)
    for l in labels where Int(l) < classes { counts[Int(l)] += 1 }
    let material = counts.dropFirst().reduce(0, +)
    return counts.enumerated().map { k, c in k == 0 || material == 0 ? 0 : Double(c) / Double(material) }
}
