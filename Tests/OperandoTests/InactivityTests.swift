import Foundation
import Testing
import Operando
import STEMCore

/// End to end on the simulator: profiles → peak fits → stages → inactive / dead / slow maps.
@Suite struct InactivityTests {
    static let simulator = try! ElectrodeSimulator()

    /// Phase series of one rate, fitted in `parts` contiguous blocks of scan positions.
    static func series(_ rate: ElectrodeSimulator.Rate, parts: Int = 1) throws -> PhaseSeries {
        let sim = simulator, p = sim.parameters
        let fitter = try GraphitePeakFitter(axis: p.axis)
        var s = PhaseSeries(scan: p.scan, steps: p.steps)
        let partition = ScanPartition(total: p.scan.count, parts: parts)
        for step in 0 ..< p.steps {
            for k in 0 ..< parts {
                let r = partition.range(of: k)
                let block = try sim.profiles(step: step, rate: rate, positions: r)
                s.record(step: step, first: r.lowerBound, fits: try fitter.fit(block))
            }
        }
        return s
    }

    static let fastSeries = try! series(.fast)
    static let slowSeries = try! series(.slow)

    @Test func simulatorIsDeterministicAndHasEveryKind() throws {
        let a = try ElectrodeSimulator(), b = try ElectrodeSimulator()
        #expect(a.particleID == b.particleID)
        #expect(try a.profiles(step: 3, rate: .fast, positions: 0 ..< 50).values
                == b.profiles(step: 3, rate: .fast, positions: 0 ..< 50).values)
        var p = ElectrodeSimulator.Parameters()
        p.seed = 2
        #expect(try ElectrodeSimulator(p).particleID != a.particleID)
        let truth = a.truth
        for kind in [ParticleActivity.noSignal, .active, .slow, .dead] {
            #expect(truth.filter { $0 == kind }.count >= 20, "\(kind)")
        }
        // Profiles of any sub-range equal the same rows of the full block.
        let full = try a.profiles(step: 5, rate: .slow, positions: 0 ..< a.parameters.scan.count)
        let part = try a.profiles(step: 5, rate: .slow, positions: 100 ..< 130)
        #expect(part.values == Array(full.values[100 * full.axis.count ..< 130 * full.axis.count]))
    }

    @Test func stagesPerPixelAndTimeMatchTheSimulation() throws {
        let sim = Self.simulator, n = sim.parameters.scan.count
        var agree = 0, total = 0
        for step in 0 ..< sim.parameters.steps {
            for i in 0 ..< n {
                let truth = sim.trueStage(index: i, step: step, rate: .fast)
                total += 1
                if Self.fastSeries.stage(step: step, index: i) == truth { agree += 1 }
            }
        }
        let accuracy = Double(agree) / Double(total)
        #expect(accuracy >= 0.95, "stage accuracy \(accuracy)")
        // Peak positions of single-phase pixels within 0.002 Å of the truth.
        var errors: [Double] = []
        for step in 0 ..< sim.parameters.steps {
            for i in 0 ..< n {
                let peaks = sim.truePeaks(index: i, step: step, rate: .fast)
                guard peaks.count == 1 else { continue }
                let d = Double(Self.fastSeries.dominantD[step * n + i])
                errors.append(abs(d - peaks[0].d))
            }
        }
        errors.sort()
        // The peak table holds the same dominant peak, with a width near the simulated 0.012 Å.
        let n3 = PhaseSeries.peakSlots * PhaseSeries.peakFields
        var widths: [Float] = []
        for e in 0 ..< Self.fastSeries.stage.count where Self.fastSeries.stage[e] != 0 {
            let slots = (0 ..< PhaseSeries.peakSlots).map { Array(Self.fastSeries.peaks[e * n3 + $0 * 4 ..< e * n3 + $0 * 4 + 4]) }
            #expect(slots.contains { $0[0] == Self.fastSeries.dominantD[e] })
            if let top = slots.max(by: { $0[3] < $1[3] }) { widths.append(top[2]) }
        }
        widths.sort()
        #expect(abs(widths[widths.count / 2] - 0.012) < 0.002, "median FWHM \(widths[widths.count / 2]) Å")
        #expect(errors.count > 500)
        #expect(errors[Int(0.99 * Double(errors.count))] < 0.002, "99th percentile \(errors[Int(0.99 * Double(errors.count))]) Å")
    }

    @Test func inactiveDeadAndSlowParticlesAreFound() throws {
        let sim = Self.simulator
        let report = try InactivityReport(fast: Self.fastSeries, fastSegment: 0 ... sim.parameters.steps - 1,
                                          slow: Self.slowSeries, depthAxis: sim.parameters.depthAxis)
        let truthFast = sim.truthInactivity(.fast)
        let fastAccuracy = Double(zip(report.fast, truthFast).filter { $0 == $1 }.count) / Double(truthFast.count)
        #expect(fastAccuracy >= 0.95, "fast-rate inactivity accuracy \(fastAccuracy)")
        let truth = sim.truth
        let combined = try #require(report.combined)
        let accuracy = Double(zip(combined, truth).filter { $0 == $1 }.count) / Double(truth.count)
        #expect(accuracy >= 0.95, "dead/slow accuracy \(accuracy)")
        for kind in [ParticleActivity.dead, .slow] {
            let truthK = truth.filter { $0 == kind }.count
            let hits = zip(combined, truth).filter { $0 == kind && $1 == kind }.count
            #expect(Double(hits) >= 0.95 * Double(truthK), "\(kind): \(hits) of \(truthK)")
        }
        // Fractions among material positions.
        let material = truth.filter { $0 != .noSignal }.count
        let deadTruth = Double(truth.filter { $0 == .dead }.count) / Double(material)
        #expect(abs(report.combinedFractions![Int(ParticleActivity.dead.rawValue)] - deadTruth) < 0.02)
    }

    @Test func depthProfileMatchesTheSimulatedOne() throws {
        let sim = Self.simulator
        let bins = 6
        let report = try InactivityReport(fast: Self.fastSeries, fastSegment: 0 ... sim.parameters.steps - 1,
                                          slow: Self.slowSeries, depthAxis: sim.parameters.depthAxis, depthBins: bins)
        let truth = try DepthProfile(labels: sim.truth.map(\.rawValue), classes: ParticleActivity.allCases.count,
                                     scan: sim.parameters.scan, axis: sim.parameters.depthAxis, bins: bins)
        let got = try #require(report.combinedDepthProfile)
        #expect(got.depth == truth.depth)
        for kind in [ParticleActivity.dead, .slow, .active] {
            let a = got.fraction(of: kind.rawValue), b = truth.fraction(of: kind.rawValue)
            let worst = zip(a, b).map { abs($0 - $1) }.max()!
            #expect(worst < 0.05, "\(kind): measured \(a), simulated \(b)")
        }
        // Single-series inactivity (dead + slow at the fast rate) against depth, too.
        let truthFast = try DepthProfile(labels: sim.truthInactivity(.fast).map(\.rawValue), classes: 3,
                                         scan: sim.parameters.scan, axis: sim.parameters.depthAxis, bins: bins)
        let inactive = report.fastDepthProfile.fraction(of: PixelActivity.inactive.rawValue)
        let expected = truthFast.fraction(of: PixelActivity.inactive.rawValue)
        #expect(zip(inactive, expected).allSatisfy { abs($0 - $1) < 0.05 }, "measured \(inactive), simulated \(expected)")
    }

    @Test func stageFractionsOverTimeFollowTheCharge() throws {
        // Start: graphite everywhere; end of the slow charge: every non-dead particle is LiC6.
        let last = Self.slowSeries.steps - 1
        let start = Self.slowSeries.meanPhaseFractions(step: 0)
        #expect(start[0] > 0.99)
        let end = Self.slowSeries.meanPhaseFractions(step: last)
        let truth = Self.simulator.truth
        let material = Double(truth.filter { $0 != .noSignal }.count)
        let dead = Double(truth.filter { $0 == .dead }.count)
        #expect(abs(end[3] - (material - dead) / material) < 0.03, "LiC6 \(end[3])")
        #expect(abs(end[0] - dead / material) < 0.03, "graphite \(end[0])")
        #expect(abs(end.reduce(0, +) - 1) < 1e-5)
        // Restricting to dead particles gives graphite only.
        let deadOnly = Self.slowSeries.meanPhaseFractions(step: last, include: truth.map { $0 == .dead })
        #expect(deadOnly[0] > 0.99)
    }

    @Test func splittingTheScanIntoPartsGivesIdenticalResults() throws {
        for parts in [2, 3] {
            let s = try Self.series(.fast, parts: parts)
            #expect(s.stage == Self.fastSeries.stage)
            #expect(s.dominantD == Self.fastSeries.dominantD)
            #expect(s.phaseFractions == Self.fastSeries.phaseFractions)
            #expect(s.peaks == Self.fastSeries.peaks)
        }
    }

    @Test func classificationOfHandMadeSeries() throws {
        // 4 positions, 3 steps: constant graphite, graphite → LiC6, no peak, small drift within tolerance.
        var s = PhaseSeries(scan: ScanGrid(rows: 1, columns: 4), steps: 3)
        let st: [[UInt8]] = [[1, 1, 1], [1, 3, 4], [0, 0, 0], [2, 2, 2]]
        let d: [[Float]] = [[3.355, 3.356, 3.355], [3.355, 3.52, 3.70], [0, 0, 0], [3.42, 3.43, 3.435]]
        for i in 0 ..< 4 { for t in 0 ..< 3 { s.stage[t * 4 + i] = st[i][t]; s.dominantD[t * 4 + i] = d[i][t] } }
        let labels = try InactivityCriteria(positionTolerance: 0.02).classify(s, segment: 0 ... 2)
        #expect(labels == [.inactive, .active, .noSignal, .inactive])
        #expect(try InactivityCriteria(positionTolerance: 0.01).classify(s, segment: 0 ... 2)[3] == .active)
        #expect(throws: STEMError.self) { _ = try InactivityCriteria().classify(s, segment: 1 ... 5) }
        #expect(try ParticleActivity.combine(fast: [.inactive, .inactive, .active, .noSignal, .active],
                                             slow: [.inactive, .active, .active, .active, .inactive])
                == [.dead, .slow, .active, .noSignal, .inconsistent])
    }
}
