import Foundation
import Testing
import Registration

/// The direct beam's flank under the spots next to it (`BeamFlank`, `RegistrationParameters.correctBeamFlank`).
@Suite struct BeamFlankTests {
    /// A 256-px pattern like pyxem's tilt-boundary discs: a direct-beam disc of radius 7 px, 5x brighter than
    /// a square lattice of discs of the same radius 20 px apart (a gap of 6 px to the beam), all blurred by
    /// sigma 2 px, on a diffuse halo about the beam steeper than the background subtraction follows, Gaussian
    /// noise. The four discs next to the beam come out within 0.15 px RMS of the truth with the correction (0.097
    /// px), and more than 0.2 px (and twice that) towards the beam without it (0.265 px); the other discs move
    /// by less than 0.02 px RMS.
    @Test func discsNextToABrightBeam() throws {
        let w = 256
        var rng = SplitMix64(seed: 47)
        let beam = (128.3, 127.8)
        var sharp = [Float](repeating: 0, count: w * w)
        var truth = [TrueSpot(x: beam.0, y: beam.1, amplitude: 0, sigma: 0)]
        sharp.withUnsafeMutableBufferPointer { s in
            DiscRenderer.draw(into: s, width: w, height: w, cx: Float(beam.0), cy: Float(beam.1), radius: 7, value: 10)
            for i in -3 ... 3 {
                for j in -3 ... 3 where i != 0 || j != 0 {
                    let x = beam.0 + 20 * Double(i), y = beam.1 + 20 * Double(j)
                    DiscRenderer.draw(into: s, width: w, height: w, cx: Float(x), cy: Float(y), radius: 7, value: 2)
                    truth.append(TrueSpot(x: x, y: y, amplitude: 2, sigma: 0))
                }
            }
        }
        var blurred = [Float](repeating: 0, count: w * w)
        sharp.withUnsafeBufferPointer { s in blurred.withUnsafeMutableBufferPointer { GaussianBlur(sigma: 2).apply(s, width: w, height: w, into: $0) } }
        // A diffuse halo about the beam (Lorentzian, 1.6 at its centre, half width 12.8 px), as pyxem adds.
        var pattern = blurred
        for i in 0 ..< w {
            for j in 0 ..< w {
                let r = hypot(Double(j) + 0.5 - beam.0, Double(i) + 0.5 - beam.1) / 12.8
                pattern[i * w + j] += Float(1.6 / (1 + r * r) + 0.05 * rng.gaussian())
            }
        }
        func errors(_ correct: Bool) throws -> (first: Double, others: Double) {
            var p = singlePatternParameters(width: w)
            p.correctBeamFlank = correct
            let (_, spots, _) = try PatternRegistrar(parameters: p, shape: .init(rows: w, columns: w)).register(pattern: pattern)
            let first = matchSpots(truth: truth.filter { abs(hypot($0.x - beam.0, $0.y - beam.1) - 20) < 0.1 }, found: spots)
            let others = matchSpots(truth: truth.filter { hypot($0.x - beam.0, $0.y - beam.1) > 25 }, found: spots)
            #expect(first.missed == 0 && others.missed == 0)
            return (first.rms, others.rms)
        }
        let with = try errors(true), without = try errors(false)
        #expect(with.first < 0.15, "next to the beam \(with.first) px RMS with the correction")
        #expect(without.first > 0.2 && without.first > 2 * with.first, "next to the beam \(without.first) px RMS without it")
        #expect(with.others < 0.1 && abs(with.others - without.others) < 0.02, "others \(with.others) / \(without.others)")
    }

    /// The profile's quantile (`BeamFlank.select`) is the value of rank k of the sorted samples, for every k of
    /// every count up to a circle's 128 samples, on values with and without ties (one repeated value, a few
    /// distinct levels, all equal).
    @Test func selectionIsTheSortedValueOfEachRank() {
        var rng = SplitMix64(seed: 11)
        var values = [Float](repeating: 0, count: 128), spare = [Float](repeating: 0, count: 128)
        for n in 1 ... 128 {
            for kind in 0 ..< 3 {
                let sample: [Float] = (0 ..< n).map { _ in
                    switch kind {
                    case 0: return Float(rng.gaussian())
                    case 1: return Float(Int(rng.uniform() * 4)) // four levels: many ties
                    default: return 2.5
                    }
                }
                let sorted = sample.sorted()
                for k in 0 ..< n {
                    values.replaceSubrange(0 ..< n, with: sample)
                    let v = values.withUnsafeMutableBufferPointer { b in
                        spare.withUnsafeMutableBufferPointer { s in
                            BeamFlank.select(UnsafeMutableBufferPointer(rebasing: b[0 ..< n]), rank: k, spare: s.baseAddress!)
                        }
                    }
                    #expect(v == sorted[k], "n \(n), kind \(kind), rank \(k): \(v), sorted \(sorted[k])")
                }
            }
        }
    }
}
