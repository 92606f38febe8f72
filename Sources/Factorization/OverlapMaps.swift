/// Overlap maps from the spatial weight matrix (arXiv:2503.06699; methods notes section 3).
///
/// Weights are first normalised with one global minimum and maximum. Per scan position the three largest weights
/// w1 >= w2 >= w3 (components c1, c2, c3) decide:
/// - c1 is the background component: if w2 / w1 >= `backgroundRatio` (0.65) the position is relabelled to c2 and
///   overlap is tested between c2 and c3 (w3 / w2 >= t); otherwise it stays background, without overlap;
/// - otherwise the label is c1 and the position overlaps when c2 is not the background and w2 / w1 >= t.
/// The evolution map repeats the test for t = 0.75, 0.80, ..., 0.95; a higher t paints over a lower one, so each
/// position holds the highest threshold it passes. Ratios with a zero denominator count as 0 (no overlap).
public struct OverlapParameters: Sendable, Equatable {
    public var backgroundRatio: Float = 0.65
    public var overlapThreshold: Float = 0.75
    public var evolutionThresholds: [Float] = [0.75, 0.80, 0.85, 0.90, 0.95]
    public init() {}
}

/// Per-position result of the overlap analysis for a block of positions.
public struct OverlapMaps: Sendable, Equatable {
    /// Label after the background relabel rule.
    public var labels: [Int32]
    /// The second component of an overlapping position (with its label), -1 where there is no overlap at the
    /// default threshold.
    public var overlapPartner: [Int32]
    /// Evolution level: 0 = no overlap at any threshold, i = overlap up to evolutionThresholds[i - 1].
    public var evolution: [UInt8]

    public var overlaps: [Bool] { overlapPartner.map { $0 >= 0 } }
}

public enum OverlapAnalysis {
    /// Minimum and maximum of a weight block (combine ranks with a min/max all-reduce for the global range).
    public static func range(of weights: [Float]) -> ClosedRange<Float> {
        guard let lo = weights.min(), let hi = weights.max() else { return 0 ... 0 }
        return lo ... hi
    }

    /// Hard label: the component of largest weight per position (ties: the lowest index). `weights` is
    /// positions x k row-major (NMF's W).
    public static func hardLabels(weights: [Float], components k: Int) -> [Int32] {
        let n = k > 0 ? weights.count / k : 0
        return (0 ..< n).map { i in
            var best = 0
            for c in 1 ..< max(k, 1) where weights[i * k + c] > weights[i * k + best] { best = c }
            return Int32(best)
        }
    }

    /// Labels, overlaps and evolution levels. `range` is the global (all ranks) weight range; nil uses this
    /// block's own. `background` is the background component or nil when there is none.
    public static func maps(weights: [Float], components k: Int, background: Int?,
                            range: ClosedRange<Float>? = nil,
                            parameters: OverlapParameters = OverlapParameters()) throws -> OverlapMaps {
        guard k >= 1, weights.count % k == 0 else {
            throw NMFError.shapeMismatch(what: "weight matrix", expected: "positions x \(k) values",
                                         found: "\(weights.count)")
        }
        if let b = background, !(0 ..< k).contains(b) {
            throw NMFError.invalidParameter(name: "background component", value: "\(b)", expected: "0 ..< \(k)")
        }
        let bounds = range ?? Self.range(of: weights)
        let span = bounds.upperBound - bounds.lowerBound
        let n = weights.count / k
        var labels = [Int32](repeating: 0, count: n)
        var partner = [Int32](repeating: -1, count: n)
        var evolution = [UInt8](repeating: 0, count: n)
        @inline(__always) func ratio(_ a: Float, _ b: Float) -> Float { b > 0 ? a / b : 0 }
        for i in 0 ..< n {
            // Top three normalised weights (a component appears once; k < 3 leaves zeros).
            var top: [(w: Float, c: Int)] = [(-1, -1), (-1, -1), (-1, -1)]
            for c in 0 ..< k {
                let w = span > 0 ? (weights[i * k + c] - bounds.lowerBound) / span : 0
                if w > top[0].w { top[2] = top[1]; top[1] = top[0]; top[0] = (w, c) }
                else if w > top[1].w { top[2] = top[1]; top[1] = (w, c) }
                else if w > top[2].w { top[2] = (w, c) }
            }
            let (w1, c1) = top[0]
            let (w2, c2) = top[1].c >= 0 ? top[1] : (0, -1)
            var overlapRatio: Float = 0, second = -1
            if let b = background, c1 == b {
                if c2 >= 0 && ratio(w2, w1) >= parameters.backgroundRatio {
                    labels[i] = Int32(c2)
                    let (w3, c3) = top[2]
                    if c3 >= 0 { overlapRatio = ratio(w3, w2); second = c3 }
                } else {
                    labels[i] = Int32(b)
                }
            } else {
                labels[i] = Int32(c1)
                if c2 >= 0 && c2 != background { overlapRatio = ratio(w2, w1); second = c2 }
            }
            if second >= 0 {
                if overlapRatio >= parameters.overlapThreshold { partner[i] = Int32(second) }
                for (level, t) in parameters.evolutionThresholds.enumerated() where overlapRatio >= t {
                    evolution[i] = UInt8(level + 1)
                }
            }
        }
        return OverlapMaps(labels: labels, overlapPartner: partner, evolution: evolution)
    }

    /// Background detection when the user names none: the component whose pattern (a row of H, `detector`
    /// pixels) keeps the smallest fraction of its intensity outside a disc of `beamRadius` pixels around its
    /// brightest pixel (the direct beam). Vacuum and thin amorphous regions scatter least outside the beam.
    public static func detectBackground(components h: [Float], components k: Int, rows: Int, columns: Int,
                                        beamRadius: Double) -> Int {
        let p = rows * columns
        var best = 0, bestFraction = Double.infinity
        for c in 0 ..< k {
            let pattern = h[c * p ..< (c + 1) * p]
            guard let peak = pattern.indices.max(by: { pattern[$0] < pattern[$1] }) else { continue }
            let py = (peak - c * p) / columns, px = (peak - c * p) % columns
            var total = 0.0, outside = 0.0
            for r in 0 ..< rows {
                for col in 0 ..< columns {
                    let v = Double(h[c * p + r * columns + col])
                    total += v
                    let dy = Double(r - py), dx = Double(col - px)
                    if dy * dy + dx * dx > beamRadius * beamRadius { outside += v }
                }
            }
            let fraction = total > 0 ? outside / total : 0
            if fraction < bestFraction { bestFraction = fraction; best = c }
        }
        return best
    }
}
