import Crystallography
import Foundation

/// Refinement of the best orientation below the library step: a pattern search over small rotations about the
/// sample x, y and z axes (steps of half the library step, halved three times), each trial orientation scored by
/// the correlation index of its exact kinematic spots, sampled bilinearly in the (scaled, background-subtracted)
/// polar image at their fractional radius and angle.
enum OrientationRefinement {
    static func refine(_ start: MatchCandidate, pattern ws: PatternMatcher.Workspace, matcher: PatternMatcher,
                       builder: TemplateLibraryBuilder, patternNorm: Float) -> MatchCandidate {
        var bestQ = score(start.orientation, phase: start.phase, ws: ws, matcher: matcher, builder: builder, patternNorm: patternNorm)
        // The refined score uses exact positions; keep the library score if it is higher (never make Q worse).
        guard bestQ > 0 else { return start }
        var best = start.orientation
        let axes = [Vector3(1, 0, 0), Vector3(0, 1, 0), Vector3(0, 0, 1)]
        var step = matcher.library.parameters.stepDegrees * .pi / 360
        for _ in 0 ..< 4 {
            var improved = true
            var rounds = 0
            while improved && rounds < 6 {
                improved = false
                rounds += 1
                for axis in axes {
                    for sign in [-1.0, 1.0] {
                        let trial = Orientation(quaternion: best.quaternion * Quaternion(axis: axis, angle: sign * step))
                        let q = score(trial, phase: start.phase, ws: ws, matcher: matcher, builder: builder, patternNorm: patternNorm)
                        if q > bestQ { bestQ = q; best = trial; improved = true }
                    }
                }
            }
            step /= 2
        }
        var out = start
        out.orientation = best
        out.correlation = max(start.correlation, bestQ)
        return out
    }

    /// Q of one orientation on the pattern in `ws.polar`, with the matcher's normalisation.
    static func score(_ o: Orientation, phase: Int, ws: PatternMatcher.Workspace, matcher: PatternMatcher,
                      builder: TemplateLibraryBuilder, patternNorm: Float) -> Float {
        let spots = builder.templateSpots(phase: phase, orientation: o)
        let t = matcher.transform
        let n = t.angularBins, stride = 2 * n
        var num: Float = 0, tt: Float = 0, pp: Float = 0
        for s in spots {
            let r = (s.x * s.x + s.y * s.y).squareRoot() - Float(t.minimumRadius)
            var a = atan2(s.y, s.x) / (2 * .pi) * Float(n)
            if a < 0 { a += Float(n) }
            let r0 = Int(r.rounded(.down)), a0 = Int(a.rounded(.down)) % n
            guard r0 >= 0, r0 + 1 < t.radialBins else { continue }
            let fr = r - Float(r0), fa = a - a.rounded(.down)
            let p00 = ws.polar[r0 * stride + a0], p01 = ws.polar[r0 * stride + a0 + 1]
            let p10 = ws.polar[(r0 + 1) * stride + a0], p11 = ws.polar[(r0 + 1) * stride + a0 + 1]
            let p = (p00 * (1 - fa) + p01 * fa) * (1 - fr) + (p10 * (1 - fa) + p11 * fa) * fr
            num += p * s.intensity
            tt += s.intensity * s.intensity
            pp += p * p
        }
        guard tt > 0 else { return 0 }
        switch matcher.parameters.normalisation {
        case .pattern: return num / (patternNorm * tt.squareRoot())
        case .spots: return pp > 0 ? num / (pp.squareRoot() * tt.squareRoot()) : 0
        }
    }
}
