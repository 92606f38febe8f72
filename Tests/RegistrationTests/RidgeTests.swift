import Foundation
import Testing
import Registration

/// Maxima whose top is a ridge (`TopRegion.isRidge`, `RegistrationParameters.rejectRidges`): the highest
/// point of a ring or a band is not a Bragg spot; spots on the ring, off it, streaks and flat discs are kept.
@Suite struct RidgeTests {
    /// The elongation of regions whose second moment is known: a disc about its centre (1), a 3:1 ellipse
    /// ((q^2 + 1) / 2q = 1.67, within the sampling of 235 pixels), a 40 x 3 px bar about its middle (pi L / 6 w = 7.0) and a circle of radius 30
    /// from a point on it (2 A R^2 / (A^2 / 2 pi), about 30).
    @Test func elongationOfKnownShapes() {
        let w = 128
        func top(_ inside: (Double, Double) -> Bool, peak: (Int, Int)) -> TopRegion {
            var image = [Float](repeating: 0, count: w * w)
            for y in 0 ..< w { for x in 0 ..< w where inside(Double(x), Double(y)) { image[y * w + x] = 10 } }
            image[peak.1 * w + peak.0] = 11 // the peak; the rest of the shape within the threshold of it
            let prominence = TopographicProminence(pixelCapacity: w * w)
            return image.withUnsafeBufferPointer {
                prominence.topRegion($0, width: w, height: w, peak: peak.1 * w + peak.0, threshold: 2)
            }
        }
        let disc = top({ ($0 - 64) * ($0 - 64) + ($1 - 64) * ($1 - 64) <= 100 }, peak: (64, 64))
        #expect(abs(disc.elongation - 1) < 0.05, "disc \(disc.elongation)")
        #expect(!disc.isRidge && !disc.touchesEdge && disc.area > 300)
        let ellipse = top({ ($0 - 64) * ($0 - 64) / 225 + ($1 - 64) * ($1 - 64) / 25 <= 1 }, peak: (64, 64))
        #expect(abs(ellipse.elongation - 10.0 / 6) < 0.1, "ellipse \(ellipse.elongation)")
        #expect(!ellipse.isRidge)
        let bar = top({ abs($0 - 64) < 20 && abs($1 - 64) < 1.5 }, peak: (64, 64))
        #expect(abs(bar.elongation - Double.pi * 40 / 18) < 0.3, "bar \(bar.elongation)")
        #expect(bar.isRidge)
        let ring = top({ abs((($0 - 64) * ($0 - 64) + ($1 - 64) * ($1 - 64)).squareRoot() - 30) < 1.5 }, peak: (94, 64))
        #expect(ring.elongation > 20 && ring.isRidge, "ring \(ring.elongation)")
        let fromRim = top({ ($0 - 64) * ($0 - 64) + ($1 - 64) * ($1 - 64) <= 100 }, peak: (73, 64))
        #expect(fromRim.elongation < 3 && !fromRim.isRidge, "flat disc from its rim \(fromRim.elongation)")
    }

    /// A 256-px pattern: a bright direct beam, an amorphous-like ring (radius 70 px, sigma 2.5 px, 40 counts)
    /// with six Gaussian spots on it and four off it, a streak of 5:1 and a flat disc of radius 8 px, Poisson
    /// noise. Every true spot is found and nothing else; without the rule the ring's highest point is a
    /// spot too. A ring alone gives the direct beam only.
    @Test func ringMaximumIsNoSpot() throws {
        let w = 256, c = 128.0
        var rng = SplitMix64(seed: 29)
        var truth = [TrueSpot(x: c + 0.3, y: c - 0.2, amplitude: 2000, sigma: 2.5)]
        for k in 0 ..< 6 {
            let a = Double(k) * 1.05 + 0.3
            truth.append(TrueSpot(x: c + 70 * cos(a), y: c + 70 * sin(a), amplitude: 90 + 10 * Double(k), sigma: 1.8))
        }
        for (x, y) in [(60.4, 70.2), (190.7, 60.3), (75.2, 190.6), (170.3, 170.8)] {
            truth.append(TrueSpot(x: x, y: y, amplitude: 120, sigma: 1.8))
        }
        func render(spots: [TrueSpot], streakAndDisc: Bool) -> [Float] {
            var clean = SyntheticPattern(width: w, height: w, spots: spots, backgroundLevel: 5, diffuseAmplitude: 20).render()
            for i in 0 ..< w {
                for j in 0 ..< w {
                    let r = hypot(Double(j) + 0.5 - c, Double(i) + 0.5 - c)
                    clean[i * w + j] += Float(40 * exp(-(r - 70) * (r - 70) / (2 * 2.5 * 2.5)))
                    if streakAndDisc { // a streak of sigma 6 x 1.2 px at (200, 128)
                        let dx = Double(j) + 0.5 - 200.5, dy = Double(i) + 0.5 - 128.5
                        clean[i * w + j] += Float(150 * exp(-dx * dx / 72 - dy * dy / 2.88))
                    }
                }
            }
            if streakAndDisc {
                clean.withUnsafeMutableBufferPointer { DiscRenderer.draw(into: $0, width: w, height: w, cx: 40.6, cy: 128.3, radius: 8, value: 100) }
            }
            return clean.map { Float(rng.poisson(Double($0))) }
        }
        let pattern = render(spots: truth, streakAndDisc: true)
        let expected = truth + [TrueSpot(x: 200.5, y: 128.5, amplitude: 0, sigma: 0), TrueSpot(x: 40.6, y: 128.3, amplitude: 0, sigma: 0)]
        var p = singlePatternParameters(width: w)
        let (_, spots, _) = try PatternRegistrar(parameters: p, shape: .init(rows: w, columns: w)).register(pattern: pattern)
        let m = matchSpots(truth: expected, found: spots, tolerance: 1.5)
        #expect(m.missed == 0, "missed \(m.missed) of \(expected.count)")
        #expect(spots.count == expected.count, "\(spots.count) spots for \(expected.count) true ones")

        let ringOnly = render(spots: [truth[0]], streakAndDisc: false)
        let (_, alone, _) = try PatternRegistrar(parameters: p, shape: .init(rows: w, columns: w)).register(pattern: ringOnly)
        #expect(alone.count == 1, "a ring alone gave \(alone.count) spots")
        p.rejectRidges = false
        let (_, withRidge, _) = try PatternRegistrar(parameters: p, shape: .init(rows: w, columns: w)).register(pattern: ringOnly)
        #expect(withRidge.count >= 2, "the paper's rule takes the ring's highest point as a spot")
        #expect(withRidge.dropFirst().allSatisfy { abs(hypot(Double($0.x) - c, Double($0.y) - c) - 70) < 4 })
    }
}
