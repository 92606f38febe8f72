import Crystallography
import Foundation
import Matching
import STEMCore
import Testing

@Suite struct LibraryTests {
    @Test func beamDirectionsCoverTheSphereUpToSymmetry() throws {
        let group = BuiltInPhase.aluminium.structure.pointGroup
        let dirs = BeamDirectionGrid.directions(group: group, stepDegrees: 2)
        // N = 4π/step² points on the sphere, one in |G| kept.
        let expected = 4 * Double.pi / pow(2 * .pi / 180, 2) / Double(group.order)
        #expect(abs(Double(dirs.count) - expected) < 0.05 * expected)
        // Every direction of the sphere has a grid direction within about the step, after symmetry.
        var rng = SystemRandomNumberGenerator()
        var worst = 0.0
        for _ in 0 ..< 300 {
            let v = normalized(Vector3(Double.random(in: -1 ... 1, using: &rng), Double.random(in: -1 ... 1, using: &rng),
                                       Double.random(in: -1 ... 1, using: &rng)))
            var best = -1.0
            for s in group.rotations {
                let w = s.rotate(v)
                for d in dirs { best = max(best, dot(w, d)) }
            }
            worst = max(worst, acos(min(1, best)) * 180 / .pi)
        }
        #expect(worst < 2.0)
    }

    @Test func cubicLibraryAtOneDegreeBuildsInUnderTenSeconds() throws {
        var library: TemplateLibrary!
        let seconds = try Fixture.seconds {
            library = try TemplateLibraryBuilder(phases: [BuiltInPhase.copper.structure], parameters: Fixture.libraryParameters(step: 1)).build()
        }
        #expect(seconds < 10)
        #expect(library.count > 1500)
        #expect(library.spotCount > library.count)
        // Spots lie in the radius range and carry their polar coordinates.
        for s in 0 ..< library.spotCount {
            let r = library.spotRadius[s]
            #expect(r >= 7 && r <= 60)
            #expect(abs(r - (library.spotX[s] * library.spotX[s] + library.spotY[s] * library.spotY[s]).squareRoot()) < 1e-3)
        }
    }

    @Test func slicesConcatenateToTheWholeLibrary() throws {
        let phases = [BuiltInPhase.aluminium.structure, BuiltInPhase.silicon.structure]
        let builder = try TemplateLibraryBuilder(phases: phases, parameters: Fixture.libraryParameters(step: 5))
        let whole = try builder.build()
        let n = builder.templateCount
        let parts = ScanPartition(total: n, parts: 3)
        let joined = try TemplateLibrary.concatenate((0 ..< 3).reversed().map { try builder.build(range: parts.range(of: $0)) })
        #expect(joined.flat == whole.flat)
        #expect(whole.templateCount(phase: 0) + whole.templateCount(phase: 1) == n)
    }

    @Test func flatFormRoundTripsAndChecksTheHash() throws {
        let phases = [BuiltInPhase.aluminium.structure]
        let lp = Fixture.libraryParameters(step: 5)
        let library = try TemplateLibraryBuilder(phases: phases, parameters: lp).build()
        let flat = library.flat
        let back = try TemplateLibrary(flat: flat, phases: phases, parameters: lp)
        #expect(back.flat == flat)
        #expect(back.orientation(3) == library.orientation(3))
        var other = lp
        other.stepDegrees = 4
        #expect(throws: MatchingError.self) { try TemplateLibrary(flat: flat, phases: phases, parameters: other) }
        var broken = flat
        broken.spotReals.removeLast()
        #expect(throws: MatchingError.self) { try TemplateLibrary(flat: broken, phases: phases, parameters: lp) }
        broken = flat
        broken.templateIntegers[0] = 5
        #expect(throws: MatchingError.self) { try TemplateLibrary(flat: broken, phases: phases, parameters: lp) }
    }

    @Test func calibrationThatPutsEverySpotOffTheDetectorIsAnError() throws {
        var lp = Fixture.libraryParameters(step: 5)
        lp.reciprocalPixelSize = 0.0005   // Al {111} would sit 850 px from the centre
        #expect(throws: MatchingError.self) { try TemplateLibraryBuilder(phases: [BuiltInPhase.aluminium.structure], parameters: lp).build() }
        lp = Fixture.libraryParameters(step: 5)
        lp.stepDegrees = 0
        #expect(throws: MatchingError.self) { try TemplateLibraryBuilder(phases: [BuiltInPhase.aluminium.structure], parameters: lp) }
    }
}
