import Foundation
import Testing
import Simulation

@Test func poissonSamplerHasTheRightMeanAndVariance() {
    var rng = Xoshiro256(seed: 42)
    for mean in [0.05, 0.7, 3.0, 9.9, 10.0, 45.0, 800.0] {
        let n = 200_000
        var sum = 0.0, sum2 = 0.0, zeros = 0
        for _ in 0 ..< n {
            let k = rng.poisson(mean)
            #expect(k >= 0 && k == k.rounded())
            sum += k; sum2 += k * k
            if k == 0 { zeros += 1 }
        }
        let m = sum / Double(n), v = sum2 / Double(n) - m * m
        // Standard error of the mean is √(mean/n); of the variance about mean·√(2/n).
        #expect(abs(m - mean) < 5 * (mean / Double(n)).squareRoot() + 1e-3, "mean \(mean): sample mean \(m)")
        #expect(abs(v - mean) < 6 * mean * (2 / Double(n)).squareRoot() + 0.01 * mean + 1e-3, "mean \(mean): sample variance \(v)")
        if mean < 5 {
            let p0 = Double(zeros) / Double(n)
            #expect(abs(p0 - exp(-mean)) < 0.005, "P(0) for mean \(mean): \(p0)")
        }
    }
    #expect(rng.poisson(0) == 0 && rng.poisson(-1) == 0 && rng.poisson(.nan) == 0)
}

@Test func generatorsAreReproducible() {
    var a = Xoshiro256(seed: 7), b = Xoshiro256(seed: 7), c = Xoshiro256(seed: 8)
    var differ = false
    for _ in 0 ..< 100 {
        let x = a.next()
        #expect(x == b.next())
        if x != c.next() { differ = true }
    }
    #expect(differ)
    #expect(SplitMix64.mix(1, 2) != SplitMix64.mix(1, 3) && SplitMix64.mix(1, 2) == SplitMix64.mix(1, 2))
}

@Test func inPlacePoissonSamplingHasTheRightMoments() {
    var rng = Xoshiro256(seed: 9)
    // Constant means (SIMD path below 10, scalar above), and a buffer whose length is no multiple of 8.
    for mean: Float in [0.02, 0.4, 2.5, 9.9, 30] {
        var buffer = [Float](repeating: mean, count: 200_003)
        buffer.withUnsafeMutableBufferPointer { rng.samplePoisson(inPlace: $0) }
        let n = Double(buffer.count)
        let m = buffer.reduce(0.0) { $0 + Double($1) } / n
        let v = buffer.reduce(0.0) { $0 + (Double($1) - m) * (Double($1) - m) } / n
        #expect(buffer.allSatisfy { $0 >= 0 && $0 == $0.rounded() })
        #expect(abs(m - Double(mean)) < 5 * (Double(mean) / n).squareRoot() + 1e-3, "mean \(mean): \(m)")
        #expect(abs(v - Double(mean)) < 6 * Double(mean) * (2 / n).squareRoot() + 0.01 * Double(mean) + 1e-3, "mean \(mean): variance \(v)")
    }
    // Mixed means in one group of eight keep their own expectations (lanes do not leak into each other).
    let pattern: [Float] = [0.1, 8, 0.5, 3, 12, 0, -1, 6]
    var sums = [Double](repeating: 0, count: 8)
    let reps = 40_000
    var buffer = [Float](repeating: 0, count: 8 * reps)
    for r in 0 ..< reps { for l in 0 ..< 8 { buffer[8 * r + l] = pattern[l] } }
    buffer.withUnsafeMutableBufferPointer { rng.samplePoisson(inPlace: $0) }
    for r in 0 ..< reps { for l in 0 ..< 8 { sums[l] += Double(buffer[8 * r + l]) } }
    for l in 0 ..< 8 {
        let expected = Double(max(pattern[l], 0))
        #expect(abs(sums[l] / Double(reps) - expected) < 5 * (expected / Double(reps)).squareRoot() + 1e-3, "lane \(l)")
    }
}
