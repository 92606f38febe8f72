import Crystallography
import Foundation
import STEMCore

/// Template matching of diffraction patterns (methods §2, ACOM): each pattern is resampled on a polar grid and
/// correlated with every template for all in-plane rotations at once (`PolarCorrelation`); the best (template,
/// rotation) pairs become ranked candidates, from which the correlation index, the orientation reliability and
/// the phase reliability follow.
///
/// Immutable and thread-safe: scratch memory lives in a `Workspace` per thread, so a block of patterns is matched
/// without any allocation per pattern.
public struct PatternMatcher: Sendable {
    public let library: TemplateLibrary
    public let parameters: MatchingParameters
    public let detector: DetectorShape
    let transform: PolarTransform
    let fine: PolarTemplates
    let coarse: PolarTemplates
    let builder: TemplateLibraryBuilder?
    /// Template index ranges of each phase (templates are stored phase after phase).
    let phaseRanges: [Range<Int>]

    /// `builder` (the one the library came from, or one built with the same phases and parameters) is needed
    /// only for `refine`.
    public init(library: TemplateLibrary, detector: DetectorShape, parameters: MatchingParameters,
                builder: TemplateLibraryBuilder? = nil) throws {
        try parameters.validate()
        guard library.count > 0 else { throw MatchingError.corruptLibrary(detail: "the library holds no templates") }
        if parameters.refine && builder == nil {
            throw MatchingError.invalidParameter(name: "refine", value: "true", expected: "a TemplateLibraryBuilder to recompute spots")
        }
        self.library = library
        self.parameters = parameters
        self.detector = detector
        self.builder = builder
        let lp = library.parameters
        transform = PolarTransform(detector: detector, minimumRadius: Int(lp.minimumRadius.rounded(.down)),
                                   maximumRadius: Int(lp.maximumRadius.rounded(.up)), angularBins: parameters.angularBins)
        fine = PolarTemplates(library: library, transform: transform, angularBins: parameters.angularBins)
        coarse = PolarTemplates(library: library, transform: transform, angularBins: parameters.angularBins / 4)
        var ranges: [Range<Int>] = []
        var start = 0
        for p in 0 ..< library.phases.count {
            var end = start
            while end < library.count && library.templatePhase[end] == Int32(p) { end += 1 }
            ranges.append(start ..< end)
            start = end
        }
        guard start == library.count else {
            throw MatchingError.corruptLibrary(detail: "templates are not grouped phase after phase")
        }
        phaseRanges = ranges
    }

    /// Scratch buffers of one thread. The per-template arrays are raw buffers: the hot loops index them without
    /// exclusivity or uniqueness checks.
    public final class Workspace {
        var polar: [Float], polarSquared: [Float], coarsePolar: [Float], coarseSquared: [Float]
        var score: [Float], score2: [Float]
        let bestQ: UnsafeMutablePointer<Float>, coarseQ: UnsafeMutablePointer<Float>
        let bestK: UnsafeMutablePointer<Int32>
        let evaluated: UnsafeMutablePointer<Bool>
        var selection: [Float] = []
        let templates: Int

        public init(for matcher: PatternMatcher) {
            let size = matcher.transform.outputCount, n = matcher.parameters.angularBins
            polar = [Float](repeating: 0, count: size); polarSquared = polar
            coarsePolar = [Float](repeating: 0, count: size / 4); coarseSquared = coarsePolar
            score = [Float](repeating: 0, count: n); score2 = score
            templates = matcher.library.count
            bestQ = .allocate(capacity: templates); bestQ.initialize(repeating: 0, count: templates)
            coarseQ = .allocate(capacity: templates); coarseQ.initialize(repeating: 0, count: templates)
            bestK = .allocate(capacity: templates); bestK.initialize(repeating: 0, count: templates)
            evaluated = .allocate(capacity: templates); evaluated.initialize(repeating: false, count: templates)
        }

        deinit {
            bestQ.deallocate(); coarseQ.deallocate(); bestK.deallocate(); evaluated.deallocate()
        }
    }

    /// Matches every pattern of `block`, splitting it over `threads` threads.
    public func match(block: PatternBlock, threads: Int = 1) -> [MatchResult] {
        precondition(block.detector == detector, "PatternMatcher: block detector \(block.detector) differs from \(detector)")
        return block.pixels.withUnsafeBufferPointer { match(patterns: $0, count: block.count, threads: threads) }
    }

    /// Matches `count` consecutive patterns (pattern-major, each row-major) over `threads` threads.
    public func match(patterns px: UnsafeBufferPointer<Float>, count n: Int, threads: Int = 1) -> [MatchResult] {
        let size = detector.pixelCount
        precondition(px.count >= n * size, "PatternMatcher: \(px.count) values for \(n) patterns of \(size) pixels")
        guard n > 0 else { return [] }
        var results = [MatchResult](repeating: .notIndexed(centreX: 0, centreY: 0), count: n)
        let parts = max(1, min(threads, n))
        results.withUnsafeMutableBufferPointer { out in
            let outBase = out.baseAddress!
            let pxBase = px.baseAddress!
            DispatchQueue.concurrentPerform(iterations: parts) { part in
                let range = ScanPartition(total: n, parts: parts).range(of: part)
                let ws = Workspace(for: self)
                for p in range {
                    (outBase + p).pointee = match(UnsafeBufferPointer(start: pxBase + p * size, count: size), workspace: ws)
                }
            }
        }
        return results
    }

    /// Matches one pattern (row-major, `detector.pixelCount` values).
    public func match(_ pattern: UnsafeBufferPointer<Float>, workspace ws: Workspace) -> MatchResult {
        precondition(pattern.count == detector.pixelCount, "PatternMatcher: pattern has \(pattern.count) values, expected \(detector.pixelCount)")
        let (cx, cy): (Double, Double)
        switch parameters.centre {
        case let .fixed(x, y): (cx, cy) = (x, y)
        case let .directBeam(x, y, r): (cx, cy) = DirectBeamCentre.locate(pattern, detector: detector, x0: x, y0: y, radius: r)
        }
        let n = parameters.angularBins
        let spotsNorm = parameters.normalisation == .spots
        // Polar image and its norm over one copy of each row.
        var patternNorm: Float = 0
        ws.polar.withUnsafeMutableBufferPointer { polar in
            transform.apply(pattern, centreX: cx, centreY: cy, scaling: parameters.scaling,
                            subtractRadialMean: parameters.subtractRadialMean, smooth: parameters.smoothPolar, into: polar)
            var ss: Float = 0
            for r in 0 ..< transform.radialBins {
                let row = polar.baseAddress! + r * 2 * n
                for a in 0 ..< n { ss += row[a] * row[a] }
            }
            patternNorm = ss.squareRoot()
        }
        guard patternNorm > 0, patternNorm.isFinite else { return .notIndexed(centreX: cx, centreY: cy) }
        if spotsNorm {
            for i in 0 ..< ws.polar.count { ws.polarSquared[i] = ws.polar[i] * ws.polar[i] }
        }

        // Which templates get the full-resolution pass.
        let T = library.count
        let pruning = parameters.coarseCandidates > 0 && parameters.coarseCandidates * library.phases.count < T
        if pruning {
            coarsePass(ws: ws, patternNorm: patternNorm)
        } else {
            for t in 0 ..< T { ws.evaluated[t] = true }
        }

        // Fine pass: best rotation per template.
        fine.start.withUnsafeBufferPointer { start in
            fine.offset.withUnsafeBufferPointer { off in
                fine.weight.withUnsafeBufferPointer { wt in
                    ws.polar.withUnsafeBufferPointer { polar in
                        ws.polarSquared.withUnsafeBufferPointer { polar2 in
                            ws.score.withUnsafeMutableBufferPointer { score in
                                ws.score2.withUnsafeMutableBufferPointer { score2 in
                                    // Lower bound of the `keep` best Q so far (a small min-heap would do; keep ≤ 1000).
                                    let keep = max(parameters.topN, 24)
                                    var kept: [Float] = []
                                    kept.reserveCapacity(keep + 1)
                                    var threshold: Float = -.infinity
                                    func updateThreshold(_ q: Float) -> Float {
                                        var i = kept.count
                                        while i > 0 && kept[i - 1] < q { i -= 1 }
                                        kept.insert(q, at: i)
                                        if kept.count > keep { kept.removeLast() }
                                        return kept.count == keep ? kept[keep - 1] : -.infinity
                                    }
                                    for t in 0 ..< T where ws.evaluated[t] {
                                        let spots = Int(start[t]) ..< Int(start[t + 1])
                                        let tn = fine.norm[t]
                                        guard !spots.isEmpty, tn > 0 else { ws.bestQ[t] = 0; ws.bestK[t] = 0; continue }
                                        PolarCorrelation.rotationScores(spots: spots, offset: off.baseAddress!, weight: wt.baseAddress!,
                                                                        polar: polar.baseAddress!, n: n, into: score.baseAddress!)
                                        var best: Float = -.infinity, bk = 0
                                        if spotsNorm {
                                            PolarCorrelation.squaredSums(spots: spots, offset: off.baseAddress!,
                                                                         polarSquared: polar2.baseAddress!, n: n, into: score2.baseAddress!)
                                            for k in 0 ..< n {
                                                let d = score2[k]
                                                let q = d > 0 ? score[k] / (d.squareRoot() * tn) : 0
                                                if q > best { best = q; bk = k }
                                            }
                                        } else {
                                            let m = PolarCorrelation.maximum(score.baseAddress!, n: n)
                                            best = m / (patternNorm * tn)
                                            // The rotation index matters only for templates that can enter the
                                            // candidate list; the others keep k = 0.
                                            if best > threshold {
                                                bk = PolarCorrelation.index(of: m, in: score.baseAddress!, n: n)
                                                threshold = updateThreshold(best)
                                            }
                                        }
                                        ws.bestQ[t] = best.isFinite ? best : 0
                                        ws.bestK[t] = Int32(bk)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return rank(ws: ws, centreX: cx, centreY: cy, patternNorm: patternNorm)
    }

    /// Candidate ranking, reliabilities and the optional refinement.
    private func rank(ws: Workspace, centreX cx: Double, centreY cy: Double, patternNorm: Float) -> MatchResult {
        let T = library.count, n = parameters.angularBins
        let keep = max(parameters.topN, 24)
        // Top `keep` templates by Q (insertion into a short sorted list), and the best per phase.
        var top: [(q: Float, t: Int)] = []
        top.reserveCapacity(keep + 1)
        var phaseBest = [Float](repeating: 0, count: library.phases.count)
        for t in 0 ..< T where ws.evaluated[t] {
            let q = ws.bestQ[t]
            let p = Int(library.templatePhase[t])
            if q > phaseBest[p] { phaseBest[p] = q }
            if top.count < keep || q > top[top.count - 1].q {
                var i = top.count
                while i > 0 && top[i - 1].q < q { i -= 1 }
                top.insert((q, t), at: i)
                if top.count > keep { top.removeLast() }
            }
        }
        guard let first = top.first, first.q > 0 else { return .notIndexed(centreX: cx, centreY: cy) }
        let angleStep = 2 * Double.pi / Double(n)
        func candidate(_ t: Int, k: Int, q: Float) -> MatchCandidate {
            let theta = Double(k) * angleStep
            let o = Orientation(quaternion: library.orientation(t).quaternion * Quaternion(axis: Vector3(0, 0, 1), angle: -theta))
            return MatchCandidate(phase: Int(library.templatePhase[t]), template: library.firstTemplate + t,
                                  inPlaneAngle: theta, correlation: q, orientation: o)
        }
        var candidates = top.map { candidate($0.t, k: Int(ws.bestK[$0.t]), q: $0.q) }
        let t0 = first.t
        let spots = Int(fine.start[t0]) ..< Int(fine.start[t0 + 1])
        let spotsNorm = parameters.normalisation == .spots
        ws.score.withUnsafeMutableBufferPointer { score in
            ws.score2.withUnsafeMutableBufferPointer { s2 in
                ws.polar.withUnsafeBufferPointer { polar in
                    ws.polarSquared.withUnsafeBufferPointer { p2 in
                        fine.offset.withUnsafeBufferPointer { off in
                            fine.weight.withUnsafeBufferPointer { wt in
                                PolarCorrelation.rotationScores(spots: spots, offset: off.baseAddress!, weight: wt.baseAddress!,
                                                                polar: polar.baseAddress!, n: n, into: score.baseAddress!)
                                if spotsNorm {
                                    PolarCorrelation.squaredSums(spots: spots, offset: off.baseAddress!, polarSquared: p2.baseAddress!,
                                                                 n: n, into: s2.baseAddress!)
                                }
                            }
                        }
                    }
                }
            }
        }
        // Sub-bin in-plane angle of the best match: vertex of the parabola through the peak and its neighbours.
        do {
            let k = Int(ws.bestK[t0])
            let sm = ws.score[(k + n - 1) % n], s0 = ws.score[k], sp = ws.score[(k + 1) % n]
            let curvature = sm - 2 * s0 + sp
            if curvature < 0 && !spotsNorm {
                let delta = Double(max(-0.5, min(0.5, 0.5 * (sm - sp) / curvature)))
                let theta = (Double(k) + delta) * angleStep
                candidates[0].inPlaneAngle = theta
                candidates[0].orientation = Orientation(quaternion: library.orientation(t0).quaternion
                                                        * Quaternion(axis: Vector3(0, 0, 1), angle: -theta))
            }
        }
        var best = candidates[0]
        if parameters.refine, let builder {
            best = OrientationRefinement.refine(best, pattern: ws, matcher: self, builder: builder, patternNorm: patternNorm)
            candidates[0] = best
        }
        let q1 = best.correlation
        let symmetry = library.phases[best.phase].symmetry
        let minimumAngle = parameters.reliabilityMinimumAngle * .pi / 180
        let skipTwin = parameters.reliabilityIgnoresFriedelTwin
        func isFar(_ o: Orientation) -> Bool {
            skipTwin ? FriedelPseudoSymmetry.disorientationAngle(o, best.orientation, symmetry: symmetry) > minimumAngle
                : o.disorientationAngle(to: best.orientation, symmetry: symmetry) > minimumAngle
        }

        // Q2: the best same-phase candidate far from the best, including other rotations of the best template.
        var q2: Float = 0
        var foundFar = false
        for c in candidates.dropFirst() where c.phase == best.phase
            && isFar(c.orientation) {
            q2 = c.correlation; foundFar = true
            break
        }
        let tn = fine.norm[t0]
        for k in 0 ..< n {
            let q: Float
            if spotsNorm {
                q = ws.score2[k] > 0 ? ws.score[k] / (ws.score2[k].squareRoot() * tn) : 0
            } else {
                q = ws.score[k] / (patternNorm * tn)
            }
            guard q > q2 else { continue }
            if isFar(candidate(t0, k: k, q: q).orientation) {
                q2 = q; foundFar = true
            }
        }
        // No far match among the kept candidates: the last kept one bounds Q2 from above.
        if !foundFar { q2 = top.count == keep ? top[keep - 1].q : 0 }

        let reliability = q1 > 0 ? max(0, min(100, 100 * (1 - q2 / q1))) : 0
        var other: Float = 0
        for (p, q) in phaseBest.enumerated() where p != best.phase { other = max(other, q) }
        let phaseReliability = library.phases.count > 1 ? max(0, min(100, 100 * (1 - other / q1))) : 100
        return MatchResult(phase: best.phase, orientation: best.orientation, correlation: q1, reliability: reliability,
                           phaseReliability: phaseReliability, candidates: Array(candidates.prefix(parameters.topN)),
                           centreX: cx, centreY: cy)
    }

    /// The k-th largest value (1-based) of `v` by Hoare's selection; reorders `v`.
    static func kthLargest(_ v: inout [Float], k: Int) -> Float {
        var lo = 0, hi = v.count - 1
        let target = k - 1
        while lo < hi {
            let pivot = v[(lo + hi) / 2]
            var i = lo, j = hi
            while i <= j {
                while v[i] > pivot { i += 1 }
                while v[j] < pivot { j -= 1 }
                if i <= j { v.swapAt(i, j); i += 1; j -= 1 }
            }
            if target <= j { hi = j } else if target >= i { lo = i } else { break }
        }
        return v[target]
    }

    /// The pruning pass: correlation on a 4× coarser angular grid (max-pooled polar image), then the best
    /// `coarseCandidates` templates of each phase are marked for the fine pass.
    private func coarsePass(ws: Workspace, patternNorm: Float) {
        let n = parameters.angularBins, nc = n / 4
        let spotsNorm = parameters.normalisation == .spots
        // Max-pool each row: coarse bin c covers fine bins 4c-2 ... 4c+1.
        for r in 0 ..< transform.radialBins {
            let fineRow = r * 2 * n, coarseRow = r * 2 * nc
            for c in 0 ..< nc {
                var m: Float = 0, m2: Float = 0
                for d in -2 ... 1 {
                    let a = (4 * c + d + n) % n
                    m = max(m, ws.polar[fineRow + a])
                    if spotsNorm { m2 = max(m2, ws.polarSquared[fineRow + a]) }
                }
                ws.coarsePolar[coarseRow + c] = m; ws.coarsePolar[coarseRow + nc + c] = m
                ws.coarseSquared[coarseRow + c] = m2; ws.coarseSquared[coarseRow + nc + c] = m2
            }
        }
        let T = library.count
        let coarseQ = ws.coarseQ
        // Optional radial stage: rank templates by Σ_j T_j R(r_j) / ‖T‖ and keep a fraction per phase.
        let fraction = parameters.radialKeepFraction
        let radial = fraction > 0 && fraction < 1
        if radial {
            var profile = [Float](repeating: 0, count: transform.radialBins)
            for r in 0 ..< transform.radialBins {
                var sum: Float = 0
                for c in 0 ..< nc { sum += ws.coarsePolar[r * 2 * nc + c] }
                profile[r] = sum
            }
            let stride = 2 * nc
            for t in 0 ..< T {
                var score: Float = 0
                for j in Int(coarse.start[t]) ..< Int(coarse.start[t + 1]) {
                    score += coarse.weight[j] * profile[Int(coarse.offset[j]) / stride]
                }
                coarseQ[t] = coarse.norm[t] > 0 ? score / coarse.norm[t] : 0
            }
            markBest(coarseQ, ws: ws) { max(parameters.coarseCandidates, Int((fraction * Double($0.count)).rounded(.up))) }
        }
        coarse.start.withUnsafeBufferPointer { start in
            coarse.offset.withUnsafeBufferPointer { off in
                coarse.weight.withUnsafeBufferPointer { wt in
                    ws.coarsePolar.withUnsafeBufferPointer { polar in
                        ws.coarseSquared.withUnsafeBufferPointer { polar2 in
                            ws.score.withUnsafeMutableBufferPointer { score in
                                ws.score2.withUnsafeMutableBufferPointer { score2 in
                                    for t in 0 ..< T {
                                        let spots = Int(start[t]) ..< Int(start[t + 1])
                                        let tn = coarse.norm[t]
                                        if radial && !ws.evaluated[t] { coarseQ[t] = -1; continue }
                                        guard !spots.isEmpty, tn > 0 else { coarseQ[t] = 0; continue }
                                        PolarCorrelation.rotationScores(spots: spots, offset: off.baseAddress!, weight: wt.baseAddress!,
                                                                        polar: polar.baseAddress!, n: nc, into: score.baseAddress!)
                                        var best: Float = 0
                                        if spotsNorm {
                                            PolarCorrelation.squaredSums(spots: spots, offset: off.baseAddress!,
                                                                         polarSquared: polar2.baseAddress!, n: nc, into: score2.baseAddress!)
                                            for k in 0 ..< nc where score2[k] > 0 { best = max(best, score[k] / (score2[k].squareRoot() * tn)) }
                                        } else {
                                            best = PolarCorrelation.maximum(score.baseAddress!, n: nc) / (patternNorm * tn)
                                        }
                                        coarseQ[t] = best
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        // Per phase, keep the best `coarseCandidates` for the fine pass.
        markBest(coarseQ, ws: ws) { _ in parameters.coarseCandidates }
    }

    /// Marks as evaluated, in each phase's template range, the `keep(range)` templates of highest score: the
    /// keep-th largest score by selection, then every template at or above it (ties may keep a few more).
    private func markBest(_ scores: UnsafeMutablePointer<Float>, ws: Workspace, keep: (Range<Int>) -> Int) {
        for range in phaseRanges {
            let k = keep(range)
            if range.count <= k {
                for t in range { ws.evaluated[t] = true }
                continue
            }
            ws.selection.removeAll(keepingCapacity: true)
            for t in range { ws.selection.append(scores[t]) }
            let cut = Self.kthLargest(&ws.selection, k: k)
            for t in range { ws.evaluated[t] = scores[t] >= cut }
        }
    }
}
