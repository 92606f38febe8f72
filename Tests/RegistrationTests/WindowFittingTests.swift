import Foundation
import Testing
import Registration

/// Centroid windows fitted to the spot (`RegistrationParameters.windowsFitSpots`): flat-topped discs of
/// convergent-beam data wider than the paper's windows.
@Suite struct WindowFittingTests {
    /// A pattern of exact-area discs (`DiscRenderer`) of radius `radius` on a flat background of 5 counts with
    /// Gaussian noise of 2 counts: the direct beam (1.5 x the radius, 800 counts) at `beam` and a lattice of
    /// discs of 60-120 counts around it. Returns the pattern and the true centres (direct beam first).
    static func discPattern(width w: Int, radius: Float, beam: (Float, Float), a: (Float, Float), b: (Float, Float),
                            rng: inout SplitMix64) -> ([Float], [(Float, Float)]) {
        var image = [Float](repeating: 5, count: w * w)
        var centres = [beam]
        image.withUnsafeMutableBufferPointer {
            DiscRenderer.draw(into: $0, width: w, height: w, cx: beam.0, cy: beam.1, radius: 1.5 * radius, value: 800)
        }
        for i in -4 ... 4 {
            for j in -4 ... 4 where i != 0 || j != 0 {
                let x = beam.0 + Float(i) * a.0 + Float(j) * b.0, y = beam.1 + Float(i) * a.1 + Float(j) * b.1
                let dx = x - Float(w) / 2, dy = y - Float(w) / 2
                if (dx * dx + dy * dy).squareRoot() > 0.38 * Float(w) { continue }
                let value = Float(60 + 60 * rng.uniform())
                image.withUnsafeMutableBufferPointer {
                    DiscRenderer.draw(into: $0, width: w, height: w, cx: x, cy: y, radius: radius, value: value)
                }
                centres.append((x, y))
            }
        }
        for k in image.indices { image[k] += Float(2 * rng.gaussian()) }
        return (image, centres)
    }

    /// RMS distance of every true centre to its detected spot (all must be found within 2 px), and the
    /// direct beam's error.
    static func errors(_ centres: [(Float, Float)], _ spots: [Spot]) -> (rms: Double, beam: Double, missed: Int) {
        let truth = centres.map { TrueSpot(x: Double($0.0), y: Double($0.1), amplitude: 1, sigma: 1) }
        let m = matchSpots(truth: truth, found: spots)
        let beam = spots.first.map { hypot(Double($0.x - centres[0].0), Double($0.y - centres[0].1)) } ?? .infinity
        return (m.rms, beam, m.missed)
    }

    /// Discs of radius 4 and 6 px on a 256-px detector, where the paper's windows are 5 px (spots) and 10 px
    /// (direct beam): with fitted windows every disc is found within 0.1 px RMS and the beam within 0.05 px;
    /// with the paper's fixed windows the centroid sees the flat top only and the error is several times larger
    /// (the failure the fitting removes).
    @Test(arguments: [Float(4), 6])
    func flatDiscsWiderThanThePaperWindows(radius: Float) throws {
        var rng = SplitMix64(seed: 41)
        let (pattern, centres) = Self.discPattern(width: 256, radius: radius, beam: (128.37, 127.71),
                                                  a: (25.3, 3.1), b: (-4.2, 27.6), rng: &rng)
        var p = singlePatternParameters(width: 256)
        #expect(p.windowsFitSpots && p.spotWindow == 5 && p.directBeamWindow == 10)
        let fitted = try PatternRegistrar(parameters: p, shape: .init(rows: 256, columns: 256)).register(pattern: pattern)
        let e = Self.errors(centres, fitted.spots)
        #expect(e.missed == 0 && fitted.registration.maps.spotCount == centres.count,
                "\(e.missed) of \(centres.count) missed, \(fitted.registration.maps.spotCount) found")
        #expect(e.rms < 0.1, "RMS \(e.rms) px")
        #expect(e.beam < 0.05, "direct beam \(e.beam) px off")
        p.windowsFitSpots = false
        let fixed = try PatternRegistrar(parameters: p, shape: .init(rows: 256, columns: 256)).register(pattern: pattern)
        let f = Self.errors(centres, fixed.spots)
        #expect(f.rms > 3 * e.rms && f.rms > 0.2, "fixed windows: RMS \(f.rms) px, fitted \(e.rms) px")
    }

    /// Point-like spots (Gaussian sigma 1.5 px, the paper's regime at 512 px) keep the paper's windows: the
    /// spot table is identical with and without fitting.
    @Test func pointSpotsKeepThePaperWindows() throws {
        var rng = SplitMix64(seed: 5)
        let synth = SyntheticPattern.lattice(width: 512, beam: (256.3, 255.8), a: (24.1, 3.7), b: (-5.1, 22.9),
                                             maxOrder: 10, maxRadius: 140, rng: &rng)
        let pattern = synth.render(gaussianNoise: 3, rng: &rng)
        var p = singlePatternParameters(width: 512)
        let fitted = try PatternRegistrar(parameters: p, shape: .init(rows: 512, columns: 512)).register(pattern: pattern)
        p.windowsFitSpots = false
        let fixed = try PatternRegistrar(parameters: p, shape: .init(rows: 512, columns: 512)).register(pattern: pattern)
        #expect(fitted.spots.count == synth.spots.count)
        #expect(fitted.spots == fixed.spots)
    }

    /// The half-maximum radius of blurred spots: a Gaussian of sigma s under the blur of sigma 2 falls to half
    /// at 1.1774 sqrt(s^2 + 4); a flat disc of radius R much wider than the blur a little inside R (the blurred
    /// edge of a convex disc is below half at R); on a pedestal the half-way point is measured from it.
    @Test func halfMaximumRadiusOfBlurredSpots() {
        let w = 96, blur = GaussianBlur(sigma: 2)
        func measured(_ image: [Float]) -> Float {
            var out = [Float](repeating: 0, count: w * w)
            image.withUnsafeBufferPointer { s in out.withUnsafeMutableBufferPointer { blur.apply(s, width: w, height: w, into: $0) } }
            let peak = out.indices.max { out[$0] < out[$1] }!
            return out.withUnsafeBufferPointer {
                SpotMeasurement.halfMaximumRadius($0, width: w, height: w, index: peak, limit: w / 4)
            }
        }
        for s in [1.0, 3.0] {
            let g = SyntheticPattern(width: w, height: w, spots: [TrueSpot(x: 48.5, y: 48.5, amplitude: 100, sigma: s)],
                                     backgroundLevel: 0, diffuseAmplitude: 0)
            let expected = 1.1774 * (s * s + 4).squareRoot()
            #expect(abs(Double(measured(g.render())) - expected) < 0.1, "sigma \(s)")
        }
        for r in [Float(8), 12] {
            var disc = [Float](repeating: 0, count: w * w)
            disc.withUnsafeMutableBufferPointer { DiscRenderer.draw(into: $0, width: w, height: w, cx: 48.5, cy: 48.5, radius: r, value: 50) }
            let m = measured(disc)
            #expect(m < r && m > r - 0.5, "disc of radius \(r): \(m)")
            #expect(abs(measured(disc.map { $0 + 30 }) - m) < 1e-3, "on a pedestal")
        }
        // A neighbour on one side (a second disc 20 px to the right) does not count.
        var pair = [Float](repeating: 0, count: w * w)
        pair.withUnsafeMutableBufferPointer {
            DiscRenderer.draw(into: $0, width: w, height: w, cx: 40.5, cy: 48.5, radius: 8, value: 50)
            DiscRenderer.draw(into: $0, width: w, height: w, cx: 57.5, cy: 48.5, radius: 6, value: 40)
        }
        #expect(abs(measured(pair) - 8) < 0.5)
    }

    /// The window rule: a point spot keeps the paper's window, a wide one gets 3 R + 2, never more than the
    /// distance to the nearest spot and never less than the paper's window.
    @Test func windowRule() {
        let rb: Float = 1.1774 * 2
        #expect(SpotMeasurement.fittedWindow(5, halfMaximumRadius: rb, blurSigma: 2, spacing: 30) == 5)
        let r = (Float(16) + rb * rb).squareRoot() // R = 4
        #expect(abs(SpotMeasurement.fittedWindow(5, halfMaximumRadius: r, blurSigma: 2, spacing: 30) - 14) < 1e-4)
        #expect(SpotMeasurement.fittedWindow(5, halfMaximumRadius: r, blurSigma: 2, spacing: 9) == 9)
        #expect(SpotMeasurement.fittedWindow(5, halfMaximumRadius: r, blurSigma: 2, spacing: 3) == 5)
    }
}
