import STEMCore

/// Lithiation stage of graphite, identified from the interlayer spacing d of the (00l) reflection
/// (Dahn, Phys. Rev. B 44 (1991) 9170; Ohzuku et al., J. Electrochem. Soc. 140 (1993) 2490; methods notes §4).
public enum LithiationStage: UInt8, Sendable, Codable, CaseIterable, CustomStringConvertible {
    /// No graphite peak found (pore, binder, outside the electrode).
    case none = 0
    /// Pristine graphite, (002) at d ≈ 3.35–3.36 Å.
    case graphite = 1
    /// Dilute stage 1 / stages 4–3 (and 2L), d ≈ 3.40–3.47 Å.
    case dilute = 2
    /// Stage 2, LiC12, (002) at d ≈ 3.51–3.53 Å.
    case stage2 = 3
    /// Stage 1, LiC6, (001) at d ≈ 3.70 Å.
    case stage1 = 4

    public var description: String {
        switch self {
        case .none: return "none"
        case .graphite: return "graphite"
        case .dilute: return "dilute/stage 3-4"
        case .stage2: return "stage 2 (LiC12)"
        case .stage1: return "stage 1 (LiC6)"
        }
    }

    /// The four stages with a peak, in order of increasing d.
    public static let lithiated: [LithiationStage] = [.graphite, .dilute, .stage2, .stage1]
}

/// Non-overlapping d-spacing windows (Å) that assign a peak to a stage. The defaults split the textbook
/// ranges of the methods notes at their midpoints: graphite [3.30, 3.38), dilute / stage 3–4 [3.38, 3.49),
/// stage 2 [3.49, 3.615), stage 1 [3.615, 3.80]; peaks outside every window are not assigned.
public struct StageWindows: Hashable, Sendable, Codable {
    /// Boundaries b0 < b1 < b2 < b3 < b4: stage k (graphite, dilute, stage 2, stage 1) covers [b_k, b_{k+1}),
    /// the last window is closed.
    public var boundaries: [Double]

    public init(boundaries: [Double]) throws {
        guard boundaries.count == 5, zip(boundaries, boundaries.dropFirst()).allSatisfy({ $0 < $1 }),
              boundaries.allSatisfy({ $0.isFinite && $0 > 0 }) else {
            throw STEMError.invalidParameter(
                name: "stage windows", value: "\(boundaries)",
                expected: "5 increasing d-spacings (Å) bounding graphite, dilute, stage 2, stage 1")
        }
        self.boundaries = boundaries
    }

    public static let `default` = try! StageWindows(boundaries: [3.30, 3.38, 3.49, 3.615, 3.80])

    /// The whole range covered by the windows.
    public var range: ClosedRange<Double> { boundaries[0] ... boundaries[4] }

    /// The window of a stage with a peak.
    public func window(of stage: LithiationStage) -> ClosedRange<Double>? {
        guard stage != .none else { return nil }
        let k = Int(stage.rawValue) - 1
        return boundaries[k] ... boundaries[k + 1]
    }

    /// The stage whose window holds d, or `.none`.
    @inlinable
    public func stage(ofD d: Double) -> LithiationStage {
        guard d >= boundaries[0], d <= boundaries[4] else { return .none }
        if d < boundaries[1] { return .graphite }
        if d < boundaries[2] { return .dilute }
        if d < boundaries[3] { return .stage2 }
        return .stage1
    }
}
