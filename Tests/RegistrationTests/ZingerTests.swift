import Foundation
import Testing
import Registration

/// Isolated bright pixels (`Zingers`): X-ray and cosmic-ray hits replaced, spots, discs and noise untouched.
@Suite struct ZingerTests {
    /// A 128-px pattern with Poisson background, Gaussian spots of sigma 1 and 0.6 px, a flat disc and a
    /// bright direct beam, plus 10 hits of 300-5000 counts away from them (two at the edges, one in a corner)
    /// and a pair of adjacent bright pixels: exactly the 10 isolated hits are replaced, each by the mean of
    /// its neighbours, and every other pixel is unchanged.
    @Test func hitsReplacedSpotsKept() {
        let w = 128
        var rng = SplitMix64(seed: 17)
        let spots = [TrueSpot(x: 40.3, y: 40.7, amplitude: 400, sigma: 1), TrueSpot(x: 90.5, y: 30.5, amplitude: 300, sigma: 0.6),
                     TrueSpot(x: 30.2, y: 95.6, amplitude: 120, sigma: 1.2)]
        var clean = SyntheticPattern(width: w, height: w, spots: spots, backgroundLevel: 3, diffuseAmplitude: 5).render(poisson: &rng)
        clean.withUnsafeMutableBufferPointer {
            DiscRenderer.draw(into: $0, width: w, height: w, cx: 64.2, cy: 63.9, radius: 6, value: 3000)
            DiscRenderer.draw(into: $0, width: w, height: w, cx: 100.4, cy: 100.8, radius: 3, value: 80)
        }
        let hits = [(10, 70), (75, 15), (110, 60), (20, 20), (60, 110), (95, 80), (5, 120), (0, 50), (127, 90), (0, 0)]
        var pattern = clean
        for (k, (x, y)) in hits.enumerated() { pattern[y * w + x] += Float(300 + 500 * k) }
        pattern[70 * w + 100] += 2000; pattern[70 * w + 101] += 1800 // two side by side: not isolated
        var expected = pattern
        for (x, y) in hits {
            var s: Float = 0, n: Float = 0
            for yy in max(0, y - 1) ... min(w - 1, y + 1) {
                for xx in max(0, x - 1) ... min(w - 1, x + 1) where xx != x || yy != y { s += pattern[yy * w + xx]; n += 1 }
            }
            expected[y * w + x] = s / n
        }
        let replaced = pattern.withUnsafeMutableBufferPointer { Zingers.remove($0, width: w, height: w) }
        #expect(replaced == hits.count)
        #expect(pattern == expected)
        // Nothing of the clean pattern is an isolated bright pixel.
        var untouched = clean
        #expect(untouched.withUnsafeMutableBufferPointer { Zingers.remove($0, width: w, height: w) } == 0)
        #expect(untouched == clean)
    }

    /// Dark-subtracted data (Gaussian noise of 3 counts about zero, negative values) and a low-dose counting
    /// pattern (0.05 counts per pixel): no pixel is taken for a hit.
    @Test func noiseIsNotAHit() {
        let w = 96
        var rng = SplitMix64(seed: 3)
        var dark = (0 ..< w * w).map { _ in Float(3 * rng.gaussian()) }
        #expect(dark.withUnsafeMutableBufferPointer { Zingers.remove($0, width: w, height: w) } == 0)
        var sparse = (0 ..< w * w).map { _ in Float(rng.poisson(0.05)) }
        #expect(sparse.withUnsafeMutableBufferPointer { Zingers.remove($0, width: w, height: w) } == 0)
    }

    /// Registration end to end: with 20 hits of 2000 counts the filter gives the spots of the pattern without
    /// them (within 0.05 px); without it the hits raise the 8-bit range and the table changes; on the pattern
    /// without hits the filter changes nothing.
    @Test func registrationIgnoresHits() throws {
        var rng = SplitMix64(seed: 29)
        let synth = SyntheticPattern.lattice(width: 256, beam: (128.3, 127.6), a: (21.1, 2.3), b: (-3.2, 19.7),
                                             maxOrder: 6, maxRadius: 90, rng: &rng, sigma: 1.5)
        let clean = synth.render(poisson: &rng, dose: 1)
        var hit = clean
        for _ in 0 ..< 20 { hit[Int(rng.uniform() * Double(256 * 256))] += 2000 }
        var p = singlePatternParameters(width: 256)
        func spots(_ pattern: [Float], _ p: RegistrationParameters) throws -> [Spot] {
            let pipeline = try RegistrationPipeline(parameters: p, inputShape: .init(rows: 256, columns: 256))
            var prepared = [Float](repeating: 0, count: 256 * 256)
            _ = pattern.withUnsafeBufferPointer { src in prepared.withUnsafeMutableBufferPointer { pipeline.prepare(src, count: 1, into: $0) } }
            return pipeline.registrar.register(pattern: prepared).spots
        }
        let withFilter = try spots(hit, p), cleanSpots = try spots(clean, p)
        p.removeZingers = false
        let without = try spots(hit, p), cleanWithout = try spots(clean, p)
        #expect(cleanSpots == cleanWithout)
        #expect(withFilter.count == cleanSpots.count, "\(withFilter.count) spots with hits, \(cleanSpots.count) without")
        // Every spot within 0.05 px of the clean pattern's (a hit replaced inside a spot's window moves it a little).
        let truth = cleanSpots.map { TrueSpot(x: Double($0.x), y: Double($0.y), amplitude: 1, sigma: 1) }
        #expect(matchSpots(truth: truth, found: withFilter, tolerance: 0.05).missed == 0)
        // With the filter off the hits set the 8-bit range (fewer real spots pass) and some pass as spots.
        let m = matchSpots(truth: truth, found: without, tolerance: 0.05)
        #expect(m.missed > 5 && without.count != cleanSpots.count,
                "the filter off: \(without.count) spots, \(m.missed) of the \(cleanSpots.count) clean ones missing")
    }

    /// The vector scan against the rule applied pixel by pixel, on widths whose rows end in a partial vector
    /// (the last lanes overlap the previous vector): hits at every third column of the first, a middle and the
    /// last row, on a flat background of 2 counts, are each found once and replaced by their neighbours' mean.
    @Test func everyColumnAgainstTheRule() {
        for w in [2, 9, 10, 13, 17, 64, 131] {
            let h = 7
            var pattern = [Float](repeating: 2, count: w * h)
            for y in [0, 3, h - 1] { for x in stride(from: y % 3, to: w, by: 3) { pattern[y * w + x] = 500 + Float(x) } }
            // The rule pixel by pixel, from the original values.
            var expected = pattern, hits = 0
            for y in 0 ..< h {
                for x in 0 ..< w {
                    var m = -Float.infinity, s: Float = 0, n: Float = 0
                    for yy in max(0, y - 1) ... min(h - 1, y + 1) {
                        for xx in max(0, x - 1) ... min(w - 1, x + 1) where xx != x || yy != y {
                            m = max(m, pattern[yy * w + xx]); s += pattern[yy * w + xx]; n += 1
                        }
                    }
                    let c = max(m, 0)
                    if pattern[y * w + x] > Zingers.factor * c + Zingers.poissonAllowance * (c + 1).squareRoot() {
                        expected[y * w + x] = s / n; hits += 1
                    }
                }
            }
            #expect(hits >= w / 3, "width \(w): \(hits) hits")
            let replaced = pattern.withUnsafeMutableBufferPointer { Zingers.remove($0, width: w, height: h) }
            #expect(replaced == hits, "width \(w)")
            #expect(pattern == expected, "width \(w)")
        }
    }
}
