import Crystallography
import Foundation
import Matching
import STEMCore
import Testing

/// The polar correlation kernel against a brute-force evaluation of the correlation index.
@Suite struct CorrelationTests {
    /// Brute force: polar image by direct bilinear sampling, then Q for every template and every rotation.
    static func bruteForce(pattern: [Float], library: TemplateLibrary, normalisation: CorrelationNormalisation,
                           rMin: Int, rMax: Int, n: Int) -> (q: Float, template: Int, k: Int) {
        let cols = Fixture.detector.columns
        func sample(_ r: Int, _ a: Int) -> Float {
            let phi = 2 * Double.pi * Double(a) / Double(n)
            let x = 63.5 + Double(r) * cos(phi), y = 63.5 + Double(r) * sin(phi)
            let x0 = Int(floor(x)), y0 = Int(floor(y))
            let tx = x - Double(x0), ty = y - Double(y0)
            func p(_ yy: Int, _ xx: Int) -> Double { Double(pattern[yy * cols + xx]) }
            return Float((p(y0, x0) * (1 - tx) + p(y0, x0 + 1) * tx) * (1 - ty) + (p(y0 + 1, x0) * (1 - tx) + p(y0 + 1, x0 + 1) * tx) * ty)
        }
        var polar = [[Float]](repeating: [Float](repeating: 0, count: n), count: rMax + 1)
        var norm2: Double = 0
        for r in rMin ... rMax { for a in 0 ..< n { polar[r][a] = sample(r, a); norm2 += Double(polar[r][a] * polar[r][a]) } }
        var best: (Float, Int, Int) = (-1, -1, -1)
        for t in 0 ..< library.count {
            let spots = library.spots(of: t)
            if spots.isEmpty { continue }
            for k in 0 ..< n {
                var num = 0.0, pp = 0.0, tt = 0.0
                for j in spots {
                    let r = Int(Double(library.spotRadius[j]).rounded())
                    var a = Int((Double(library.spotAngle[j]) / (2 * .pi) * Double(n)).rounded()) % n
                    if a < 0 { a += n }
                    let p = Double(polar[r][(a + k) % n]), w = Double(library.spotIntensity[j])
                    num += p * w; pp += p * p; tt += w * w
                }
                let q = normalisation == .spots ? (pp > 0 ? num / (pp.squareRoot() * tt.squareRoot()) : 0)
                    : num / (norm2.squareRoot() * tt.squareRoot())
                if Float(q) > best.0 { best = (Float(q), t, k) }
            }
        }
        return best
    }

    @Test(arguments: [CorrelationNormalisation.pattern, .spots])
    func kernelEqualsBruteForce(_ normalisation: CorrelationNormalisation) throws {
        let (_, library) = try Fixture.smallLibrary(step: 8)
        // A pattern with two templates' spots and a smooth background, so no template matches exactly.
        var pattern = [Float](repeating: 0, count: Fixture.detector.pixelCount)
        Fixture.draw(library, template: 3, theta: 0.7, into: &pattern)
        Fixture.draw(library, template: library.count / 2, theta: 2.1, amplitude: 40, into: &pattern)
        for i in pattern.indices { pattern[i] += Float(i % 7) * 0.3 }
        var mp = MatchingParameters(angularBins: 120, scaling: .linear, subtractRadialMean: false, smoothPolar: false, normalisation: normalisation,
                                    centre: .fixed(x: 63.5, y: 63.5), topN: 3)
        mp.reliabilityMinimumAngle = 5
        let matcher = try PatternMatcher(library: library, detector: Fixture.detector, parameters: mp)
        let result = pattern.withUnsafeBufferPointer { matcher.match($0, workspace: PatternMatcher.Workspace(for: matcher)) }
        let reference = Self.bruteForce(pattern: pattern, library: library, normalisation: normalisation, rMin: 7, rMax: 60, n: 120)
        let best = try #require(result.candidates.first)
        #expect(abs(best.correlation - reference.q) < 1e-4 * max(1, reference.q))
        #expect(best.template == reference.template)
        // The reported angle is refined within ±half a bin around the best bin.
        #expect(abs(best.inPlaneAngle - 2 * .pi * Double(reference.k) / 120) <= 0.5 * 2 * .pi / 120 + 1e-9)
        #expect(result.correlation == best.correlation)
        // Candidates are sorted and the top one is the result.
        for (a, b) in zip(result.candidates, result.candidates.dropFirst()) { #expect(a.correlation >= b.correlation) }
    }

    @Test func renderedTemplateIsMatchedBackWithItsRotation() throws {
        let (_, library) = try Fixture.smallLibrary(step: 3)
        let mp = MatchingParameters(scaling: .linear, centre: .fixed(x: 63.5, y: 63.5))
        let matcher = try PatternMatcher(library: library, detector: Fixture.detector, parameters: mp)
        let ws = PatternMatcher.Workspace(for: matcher)
        let al = BuiltInPhase.aluminium.structure
        var tested = 0
        let rich = (0 ..< library.count).filter { library.spots(of: $0).count >= 6 }
        for t in stride(from: 0, to: rich.count, by: max(1, rich.count / 12)).map({ rich[$0] }) {
            let theta = 0.37 + Double(t % 11) * 0.5
            var pattern = [Float](repeating: 1, count: Fixture.detector.pixelCount)
            Fixture.draw(library, template: t, theta: theta, into: &pattern)
            let r = pattern.withUnsafeBufferPointer { matcher.match($0, workspace: ws) }
            let expected = Orientation(quaternion: library.orientation(t).quaternion * Quaternion(axis: Vector3(0, 0, 1), angle: -theta))
            let error = FriedelPseudoSymmetry.disorientationAngle(r.orientation, expected, symmetry: al.pointGroup) * 180 / .pi
            #expect(r.phase == 0)
            #expect(error < 1.0, "template \(t): error \(error)°, matched template \(r.candidates.first?.template ?? -1)")
            #expect(r.correlation > 0.15)
            tested += 1
        }
        #expect(tested >= 6)
    }
}
