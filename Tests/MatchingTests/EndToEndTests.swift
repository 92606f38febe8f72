import Crystallography
import Foundation
import Matching
import Simulation
import STEMCore
import Testing

/// Simulate a polycrystal with known orientations (the Simulation target: zone-axis grains tilted by up to 1°,
/// 1° precession, descan, background, Poisson noise), match it, and compare with the ground truth. Accuracy is the
/// symmetry-aware disorientation up to the Friedel twin (`FriedelPseudoSymmetry`); grain-boundary positions (two
/// grains mixed) are left out.
@Suite struct EndToEndTests {
    static let conditions = DiffractionConditions(voltage: 200_000, precessionAngle: 1 * .pi / 180)

    static func run(phases: [CrystalStructure], grains: Int, seed: UInt64, coarse: Int = 0) throws
        -> (recovered: Int, rightPhase: Int, pure: Int, results: [MatchResult], simulator: PolycrystalSimulator) {
        var sp = SimulationParameters()
        sp.scan = ScanGrid(rows: 24, columns: 24)
        sp.phases = phases
        sp.grainCount = grains
        sp.conditions = conditions
        sp.seed = seed
        let sim = try PolycrystalSimulator(parameters: sp)
        let block = try sim.generateBlock(0 ..< sp.scan.count)
        var lp = Fixture.libraryParameters()
        lp.conditions = conditions
        let builder = try TemplateLibraryBuilder(phases: phases, parameters: lp)
        let library = try builder.build()
        var mp = Fixture.matchingParameters()
        mp.refine = true
        mp.coarseCandidates = coarse
        mp.radialKeepFraction = coarse > 0 ? 0.3 : 0   // the pruning stages `stemrun match` uses by default
        let matcher = try PatternMatcher(library: library, detector: sp.detector, parameters: mp, builder: builder)
        let results = matcher.match(block: block, threads: 2)
        var recovered = 0, rightPhase = 0, pure = 0
        let truth = sim.groundTruth
        for i in 0 ..< block.count where truth.secondaryGrainID[i] < 0 {
            pure += 1
            let phase = truth.phaseIndex(at: i)
            guard results[i].phase == phase else { continue }
            rightPhase += 1
            let d = Fixture.degrees(results[i].orientation, truth.orientation(at: i), phases[phase].pointGroup)
            if d < 2 { recovered += 1 }
        }
        return (recovered, rightPhase, pure, results, sim)
    }

    @Test func singlePhasePolycrystalIsRecovered() throws {
        let r = try Self.run(phases: [BuiltInPhase.aluminium.structure], grains: 10, seed: 7)
        #expect(r.pure > 200)
        #expect(Double(r.recovered) >= 0.95 * Double(r.pure), "\(r.recovered) of \(r.pure) positions within 2°")
        #expect(r.results.allSatisfy { $0.correlation.isFinite && $0.reliability.isFinite && $0.isIndexed })
    }

    /// Also with the pruning stages `stemrun match` uses by default (radial pre-selection of 30%, coarse pass
    /// keeping 100 templates per phase).
    @Test(arguments: [0, 100])
    func twoPhasePolycrystalGetsPhasesAndOrientations(coarse: Int) throws {
        let phases = [BuiltInPhase.aluminium.structure, BuiltInPhase.copper.structure]
        let r = try Self.run(phases: phases, grains: 10, seed: 11, coarse: coarse)
        let truth = r.simulator.groundTruth
        #expect(Set(truth.grains.map(\.phaseIndex)).count == 2)
        #expect(Double(r.rightPhase) >= 0.95 * Double(r.pure), "\(r.rightPhase) of \(r.pure) positions with the right phase")
        #expect(Double(r.recovered) >= 0.95 * Double(r.pure), "\(r.recovered) of \(r.pure) positions within 2°")
        // Phase reliability is high where the phase is right.
        let inside = (0 ..< r.results.count).filter { truth.secondaryGrainID[$0] < 0 }
        let median = inside.map { r.results[$0].phaseReliability }.sorted()[inside.count / 2]
        #expect(median > 10)
    }
}
