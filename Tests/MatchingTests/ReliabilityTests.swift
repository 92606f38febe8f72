import Crystallography
import Foundation
import Matching
import STEMCore
import Testing

@Suite struct ReliabilityTests {
    static func matcher() throws -> (TemplateLibrary, PatternMatcher) {
        let (_, library) = try Fixture.smallLibrary(step: 3)
        let mp = MatchingParameters(scaling: .linear, centre: .fixed(x: 63.5, y: 63.5), topN: 10)
        return (library, try PatternMatcher(library: library, detector: Fixture.detector, parameters: mp))
    }

    @Test func patternsWithoutSignalAreNotIndexed() throws {
        let (_, m) = try Self.matcher()
        let ws = PatternMatcher.Workspace(for: m)
        let n = Fixture.detector.pixelCount
        let inputs: [[Float]] = [
            [Float](repeating: 0, count: n),
            [Float](repeating: 7, count: n),          // flat: nothing left after the radial mean
            [Float](repeating: .nan, count: n),
            [Float](repeating: -3, count: n),
        ]
        for p in inputs {
            let r = p.withUnsafeBufferPointer { m.match($0, workspace: ws) }
            #expect(!r.isIndexed)
            #expect(r.phase == -1 && r.correlation == 0 && r.reliability == 0 && r.phaseReliability == 0)
            #expect(r.candidates.isEmpty)
        }
        // In a block, the other positions are still matched.
        var block = PatternBlock(firstIndex: 0, count: 2, detector: Fixture.detector)
        let (_, library) = try Fixture.smallLibrary(step: 3)
        var good = [Float](repeating: 0, count: n)
        Fixture.draw(library, template: 40, theta: 1, into: &good)
        block.pixels.replaceSubrange(n ..< 2 * n, with: good)
        let results = m.match(block: block)
        #expect(!results[0].isIndexed && results[1].isIndexed)
    }

    /// The same template drawn at two in-plane angles 26° apart with equal weight: two orientations explain the
    /// pattern equally well, so the reliability must be near 0, while either pure pattern is reliable.
    @Test func patternBetweenTwoOrientationsHasLowReliability() throws {
        let (library, m) = try Self.matcher()
        let ws = PatternMatcher.Workspace(for: m)
        let al = BuiltInPhase.aluminium.structure
        let t = try #require((0 ..< library.count).first { library.spots(of: $0).count >= 10 })
        let (thetaA, thetaB) = (0.3, 0.3 + 26 * Double.pi / 180)
        var pure = [Float](repeating: 0, count: Fixture.detector.pixelCount)
        Fixture.draw(library, template: t, theta: thetaA, into: &pure)
        var mixed = pure
        Fixture.draw(library, template: t, theta: thetaB, into: &mixed)
        let rPure = pure.withUnsafeBufferPointer { m.match($0, workspace: ws) }
        let rMixed = mixed.withUnsafeBufferPointer { m.match($0, workspace: ws) }
        #expect(rPure.reliability > 25, "pure pattern reliability \(rPure.reliability)")
        #expect(rMixed.reliability < 5, "mixed pattern reliability \(rMixed.reliability)")
        // The best orientation is one of the two.
        let o = library.orientation(t).quaternion
        let a = Orientation(quaternion: o * Quaternion(axis: Vector3(0, 0, 1), angle: -thetaA))
        let b = Orientation(quaternion: o * Quaternion(axis: Vector3(0, 0, 1), angle: -thetaB))
        #expect(min(Fixture.degrees(rMixed.orientation, a, al.pointGroup), Fixture.degrees(rMixed.orientation, b, al.pointGroup)) < 1.5)
    }

    @Test func reliabilityIsHundredTimesOneMinusTheRatio() throws {
        let (library, m) = try Self.matcher()
        let ws = PatternMatcher.Workspace(for: m)
        var p = [Float](repeating: 0, count: Fixture.detector.pixelCount)
        Fixture.draw(library, template: 10, theta: 0.8, into: &p)
        let r = p.withUnsafeBufferPointer { m.match($0, workspace: ws) }
        #expect(r.reliability >= 0 && r.reliability <= 100)
        #expect(r.phaseReliability == 100)   // single phase
        // Q2 = Q1 (1 - R/100) is the Q of some candidate or rotation below Q1.
        let q2 = r.correlation * (1 - r.reliability / 100)
        #expect(q2 <= r.correlation)
    }
}
