import Foundation
import Testing
import Registration

/// Maxima on a brighter spot's upper half (`RegistrationParameters.mergeUpperHalves`): on a counting
/// detector the corners are dark, so the paper's noise is zero, and the shot noise of a bright disc's plateau
/// makes maxima there.
@Suite struct PlateauTests {
    /// A 256-px counting pattern: a direct-beam disc of radius 20 px at 40 counts per pixel and eight discs
    /// of radius 6 px at 6-12 counts, Poisson noise, no background (the corners are zero). The beam and the
    /// eight discs are found, within 0.2 px RMS (the shot-noise limit of a centroid of 680-1360 electrons over
    /// a disc of radius 6 px is 0.12-0.16 px), and nothing else; without the rule the plateau's shot noise
    /// gives more maxima on the beam.
    @Test func noSpotsOnABrightPlateau() throws {
        let w = 256
        var rng = SplitMix64(seed: 43)
        var clean = [Float](repeating: 0, count: w * w)
        let beam = (128.3, 127.6)
        var truth = [TrueSpot(x: beam.0, y: beam.1, amplitude: 40, sigma: 0)]
        for k in 0 ..< 8 {
            let a = Double(k) * .pi / 4 + 0.2
            truth.append(TrueSpot(x: beam.0 + 60 * cos(a), y: beam.1 + 60 * sin(a), amplitude: 6 + 2 * Double(k % 4), sigma: 0))
        }
        clean.withUnsafeMutableBufferPointer { c in
            for (k, t) in truth.enumerated() {
                DiscRenderer.draw(into: c, width: w, height: w, cx: Float(t.x), cy: Float(t.y), radius: k == 0 ? 20 : 6,
                                  value: Float(t.amplitude))
            }
        }
        let pattern = clean.map { Float(rng.poisson(Double($0))) }
        var p = singlePatternParameters(width: w)
        let (_, spots, _) = try PatternRegistrar(parameters: p, shape: .init(rows: w, columns: w)).register(pattern: pattern)
        let m = matchSpots(truth: truth, found: spots, tolerance: 1)
        #expect(m.missed == 0 && spots.count == truth.count, "\(spots.count) spots, \(m.missed) of \(truth.count) missed")
        #expect(m.rms < 0.2, "RMS \(m.rms) px, errors \(m.errors)")
        #expect(hypot(Double(spots[0].x) - beam.0, Double(spots[0].y) - beam.1) < 0.15, "beam at \(spots[0])")
        p.mergeUpperHalves = false
        let (_, paper, _) = try PatternRegistrar(parameters: p, shape: .init(rows: w, columns: w)).register(pattern: pattern)
        #expect(paper.count > truth.count, "the paper's threshold alone: \(paper.count) spots")
    }
}
