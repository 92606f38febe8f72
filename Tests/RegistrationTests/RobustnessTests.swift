import Foundation
import Testing
import STEMCore
import Registration

@Suite struct RobustnessTests {
    func allFinite(_ r: PatternRegistration, _ spots: [Spot], _ rec: [Float]) -> Bool {
        r.maps.values.allSatisfy(\.isFinite) && rec.allSatisfy(\.isFinite)
            && spots.allSatisfy { $0.x.isFinite && $0.y.isFinite && $0.intensity.isFinite && $0.pseudoProminence.isFinite }
    }

    /// All-zero and saturated patterns give no spot and finite maps; NaN and Inf pixels are treated as zero.
    @Test func zeroSaturatedAndNaNPatterns() throws {
        let w = 128
        let registrar = try PatternRegistrar(parameters: singlePatternParameters(width: w), shape: .init(rows: w, columns: w))
        for constant: Float in [0, 65535] {
            let (r, s, rec) = registrar.register(pattern: [Float](repeating: constant, count: w * w))
            #expect(r.maps.spotCount == 0 && allFinite(r, s, rec) && rec.allSatisfy { $0 == 0 })
        }
        var rng = SplitMix64(seed: 8)
        let synth = SyntheticPattern.lattice(width: w, beam: (64.3, 63.8), a: (14, 1), b: (-1, 15), maxOrder: 3,
                                             maxRadius: 45, rng: &rng)
        var pattern = synth.render(gaussianNoise: 1, rng: &rng)
        let (clean, cleanSpots, _) = registrar.register(pattern: pattern)
        for k in stride(from: 0, to: w * w, by: 97) { pattern[k] = .nan }
        pattern[5] = .infinity; pattern[w * w - 3] = -.infinity
        let (r, s, rec) = registrar.register(pattern: pattern)
        #expect(r.invalidPixels == (w * w + 96) / 97 + 2)
        #expect(allFinite(r, s, rec))
        #expect(r.maps.spotCount >= clean.maps.spotCount - 2 && r.maps.spotCount > 5)
        #expect(abs(s[0].x - cleanSpots[0].x) < 0.2)
        // Partly saturated direct beam (a plateau) still gives one direct beam at the right place.
        let clipped = synth.render().map { min($0, 300) }
        let (rc, sc, _) = registrar.register(pattern: clipped)
        #expect(rc.maps.spotCount >= 1 && abs(sc[0].x - 64.3) < 0.3 && abs(sc[0].y - 63.8) < 0.3)
    }

    /// A detector smaller than the filter windows still works from 8 x 8 (finite maps; with the default 2-px
    /// blur, whose support is wider than the detector, a spot may be lost at the edges); with a blur suited
    /// to the size the spot is found; below 8 x 8, a typed error.
    @Test func tinyDetectors() throws {
        #expect(throws: STEMError.self) {
            _ = try PatternRegistrar(parameters: RegistrationParameters(workingWidth: 4), shape: .init(rows: 4, columns: 4))
        }
        for w in [8, 12, 16] {
            var p = RegistrationParameters(workingWidth: w)
            p.centring = false; p.scanMean = false
            var img = [Float](repeating: 1, count: w * w)
            img[(w / 2) * w + w / 2] = 50
            let (r, s, rec) = try PatternRegistrar(parameters: p, shape: .init(rows: w, columns: w)).register(pattern: img)
            #expect(allFinite(r, s, rec) && r.maps.spotCount <= 1)
            p.blurSigma = 0.5
            let (r2, s2, rec2) = try PatternRegistrar(parameters: p, shape: .init(rows: w, columns: w)).register(pattern: img)
            #expect(allFinite(r2, s2, rec2))
            #expect(r2.maps.spotCount == 1 && abs(s2[0].x - Float(w / 2) - 0.5) < 1e-3)
        }
        // Whole pipeline on a 1-row scan of 8 x 8 patterns with centring and the 3 x 3 mean.
        let pipeline = try RegistrationPipeline(parameters: RegistrationParameters(workingWidth: 8), inputShape: .init(rows: 8, columns: 8))
        var px = [Float](repeating: 0, count: 3 * 64)
        for k in 0 ..< 3 { px[k * 64 + 3 * 8 + 4] = 10 }
        let res = try pipeline.run(block: PatternBlock(firstIndex: 0, count: 3, detector: .init(rows: 8, columns: 8), pixels: px),
                                   scan: ScanGrid(rows: 1, columns: 3))
        #expect(res.maps.allSatisfy { $0.values.allSatisfy(\.isFinite) } && res.reconstruction.allSatisfy(\.isFinite))
    }

    @Test func invalidParametersAreTypedErrors() {
        var p = RegistrationParameters(workingWidth: 256)
        p.maxSpots = 0
        #expect(throws: STEMError.self) { try p.validate() }
        p = RegistrationParameters(workingWidth: 256); p.blurSigma = .nan
        #expect(throws: STEMError.self) { try p.validate() }
        p = RegistrationParameters(workingWidth: 256); p.userProminence = -1
        #expect(throws: STEMError.self) { try p.validate() }
        #expect(throws: STEMError.self) {
            _ = try RegistrationPipeline(parameters: RegistrationParameters(workingWidth: 16), inputShape: .init(rows: 16, columns: 16),
                                         mask: PixelMask(shape: .init(rows: 8, columns: 8)))
        }
    }

    /// The paper's defaults scale with the detector width.
    @Test func defaultsScaleWithWidth() {
        let p = RegistrationParameters(detectorWidth: 1024)
        #expect(p.binning && p.binningFactor == 2)
        #expect(p.centringInitialRadius == 128 && p.centringMinimumRadius == 30 && p.backgroundRadius == 51.2)
        #expect(p.directBeamWindow == 20 && p.spotWindow == 10 && p.pseudoProminenceRadiusDirect == 40)
        let q = RegistrationParameters(detectorWidth: 256)
        #expect(!q.binning && q.centringInitialRadius == 64 && q.centringMinimumRadius == 15 && q.spotWindow == 5)
        #expect(q.reconstructionSize == 256 && q.blurSigma == 2)
    }
}
