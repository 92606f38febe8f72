import Foundation
import Testing
import Operando
import STEMCore

@Suite struct PeakFitTests {
    static let axis = RadialAxis(unit: .qInverseAngstrom, lower: 1.60, upper: 1.95, count: 200)

    /// A profile in q with pseudo-Voigt peaks at the given d-spacings (Å) and heights, plus noise.
    static func profile(peaks: [(Double, Double)], fwhmD: Double = 0.012, noise: Double = 1, seed: UInt64 = 3) -> [Float] {
        var rng = SeededGenerator(seed: seed)
        let shape = PeakShape.pseudoVoigt(eta: 0.3)
        return axis.centres.map { q in
            var v = 150 * (1 - 0.3 * (q - 1.775))
            for (d, h) in peaks {
                let q0 = 2 * Double.pi / d, w = fwhmD * 2 * Double.pi / (d * d)
                v += h * shape.evaluate(q, centre: q0, fwhm: w).value
            }
            return Float(v + noise * v.squareRoot() * rng.normal())
        }
    }

    @Test func recoversPositionsOfSinglePeaksWithNoise() throws {
        let fitter = try GraphitePeakFitter(axis: Self.axis)
        var worst = 0.0
        for (k, d) in [3.355, 3.38, 3.42, 3.47, 3.525, 3.60, 3.705].enumerated() {
            let fit = fitter.fit(Self.profile(peaks: [(d, 400)], seed: UInt64(k)))
            #expect(fit.peaks.count == 1, "d = \(d): \(fit.peaks)")
            guard let p = fit.peaks.first else { continue }
            worst = max(worst, abs(p.dSpacing - d))
            #expect(abs(p.fwhmD - 0.012) < 0.003)
            #expect(p.dSpacingError > 0 && p.dSpacingError < 0.002)
        }
        #expect(worst < 0.002, "worst position error \(worst) Å")
    }

    @Test func separatesCoexistingStagesAndReportsFractions() throws {
        let fitter = try GraphitePeakFitter(axis: Self.axis)
        // LiC12 + LiC6 with heights 300 and 100: same widths and shape, so area shares are 3/4 and 1/4.
        let fit = fitter.fit(Self.profile(peaks: [(3.525, 300), (3.705, 100)], noise: 0.5))
        try #require(fit.peaks.count == 2)
        #expect(abs(fit.peaks[0].dSpacing - 3.525) < 0.002)
        #expect(abs(fit.peaks[1].dSpacing - 3.705) < 0.002)
        #expect(fit.peaks.map(\.stage) == [.stage2, .stage1])
        #expect(fit.dominantStage == .stage2)
        #expect(abs(fit.phaseFractions[2] - 0.75) < 0.04)
        #expect(abs(fit.phaseFractions[3] - 0.25) < 0.04)
        #expect(fit.phaseFractions[0] == 0 && fit.phaseFractions[1] == 0)
    }

    @Test func emptyAndWeakProfilesGiveNoPeak() throws {
        let fitter = try GraphitePeakFitter(axis: Self.axis)
        let empty = fitter.fit(Self.profile(peaks: []))
        #expect(empty.peaks.isEmpty)
        #expect(empty.dominantStage == .none)
        #expect(empty.phaseFractions == [0, 0, 0, 0])
        #expect(abs(empty.backgroundOffset - 150) < 3)
        // A peak of 2 noise levels (σ ≈ √150 ≈ 12) is rejected; one of 15 is found.
        #expect(fitter.fit(Self.profile(peaks: [(3.52, 25)], seed: 9)).peaks.isEmpty)
        #expect(fitter.fit(Self.profile(peaks: [(3.52, 180)], seed: 9)).peaks.count == 1)
        // Flat zero and NaN-polluted profiles do not produce NaN.
        let zeros = fitter.fit([Float](repeating: 0, count: Self.axis.count))
        #expect(zeros.peaks.isEmpty && zeros.backgroundOffset == 0)
        var nan = Self.profile(peaks: [(3.45, 400)])
        nan[100] = .nan
        let f = fitter.fit(nan)
        #expect(f.peaks.count == 1 && f.peaks[0].dSpacing.isFinite)
    }

    @Test func gaussianShapeAndFitInD() throws {
        // Profiles binned in d are fitted the same way.
        let axisD = RadialAxis(unit: .dAngstrom, lower: 3.2, upper: 3.9, count: 300)
        var rng = SeededGenerator(seed: 5)
        let y: [Float] = axisD.centres.map { d in
            let v = 100 + 500 * exp(-4 * log(2.0) * (d - 3.47) * (d - 3.47) / (0.015 * 0.015))
            return Float(v + v.squareRoot() * rng.normal())
        }
        let fitter = try GraphitePeakFitter(axis: axisD, options: .init(shape: .gaussian))
        let fit = fitter.fit(y)
        try #require(fit.peaks.count == 1)
        #expect(abs(fit.peaks[0].dSpacing - 3.47) < 0.001)
        #expect(abs(fit.peaks[0].height - 500) < 25)
        #expect(fit.peaks[0].stage == .dilute)
    }

    @Test func stageWindowsAssignHandMadeCases() throws {
        let w = StageWindows.default
        #expect(w.stage(ofD: 3.355) == .graphite)
        #expect(w.stage(ofD: 3.36) == .graphite)
        #expect(w.stage(ofD: 3.40) == .dilute)
        #expect(w.stage(ofD: 3.47) == .dilute)
        #expect(w.stage(ofD: 3.51) == .stage2)
        #expect(w.stage(ofD: 3.53) == .stage2)
        #expect(w.stage(ofD: 3.70) == .stage1)
        #expect(w.stage(ofD: 3.25) == .none)
        #expect(w.stage(ofD: 3.85) == .none)
        #expect(w.stage(ofD: 3.38) == .dilute)  // boundaries belong to the upper window
        let custom = try StageWindows(boundaries: [3.3, 3.37, 3.45, 3.6, 3.75])
        #expect(custom.stage(ofD: 3.46) == .stage2)
        #expect(throws: STEMError.self) { _ = try StageWindows(boundaries: [3.3, 3.2, 3.45, 3.6, 3.75]) }
        #expect(throws: STEMError.self) { _ = try StageWindows(boundaries: [3.3, 3.4]) }
    }

    @Test func fitterRejectsAxisWithoutTheWindow() {
        let far = RadialAxis(unit: .qInverseAngstrom, lower: 0.5, upper: 1.0, count: 100)
        #expect(throws: STEMError.self) { _ = try GraphitePeakFitter(axis: far) }
    }

    @Test func levenbergMarquardtSolvesAnExponentialDecay() {
        // y = 5 exp(-0.7 t) + 1, noiseless: parameters recovered to 1e-8.
        let t = (0 ..< 30).map { Double($0) * 0.2 }
        let y = t.map { 5 * exp(-0.7 * $0) + 1 }
        let r = LevenbergMarquardt().minimise(parameters: [1, 0.1, 0], observations: t.count) { p, res, jac in
            for i in 0 ..< t.count {
                let e = exp(-p[1] * t[i])
                res[i] = y[i] - (p[0] * e + p[2])
                jac[i * 3] = e; jac[i * 3 + 1] = -p[0] * t[i] * e; jac[i * 3 + 2] = 1
            }
        }
        #expect(abs(r.parameters[0] - 5) < 1e-6 && abs(r.parameters[1] - 0.7) < 1e-6 && abs(r.parameters[2] - 1) < 1e-6)
        #expect(r.cost < 1e-12)
    }
}
