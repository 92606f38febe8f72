import Foundation

/// SplitMix64 (Steele, Lea & Flood, OOPSLA 2014): a 64-bit mixing generator used to seed other generators and to
/// derive independent per-position streams from (seed, index).
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public var state: UInt64

    public init(seed: UInt64) { state = seed }

    @inlinable public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A well-mixed 64-bit value of (seed, stream): distinct streams give unrelated seeds.
    public static func mix(_ seed: UInt64, _ stream: UInt64) -> UInt64 {
        var g = SplitMix64(seed: seed ^ (stream &* 0xD1B5_4A32_D192_ED03))
        _ = g.next()
        return g.next()
    }
}

/// xoshiro256** (Blackman & Vigna, ACM TOMS 47 (2021) 36): fast, 256-bit state, seeded through SplitMix64.
public struct Xoshiro256: RandomNumberGenerator, Sendable {
    public var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

    public init(seed: UInt64) {
        var sm = SplitMix64(seed: seed)
        s0 = sm.next(); s1 = sm.next(); s2 = sm.next(); s3 = sm.next()
    }

    @usableFromInline @inline(__always) static func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    @inlinable public mutating func next() -> UInt64 {
        let result = Xoshiro256.rotl(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = Xoshiro256.rotl(s3, 45)
        return result
    }

    /// Uniform double in [0, 1) with 53 random bits.
    @inlinable public mutating func uniform() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// Standard normal deviate (Box–Muller).
    public mutating func normal() -> Double {
        let u1 = max(uniform(), 1e-300), u2 = uniform()
        return (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
    }

    /// Uniform float in [0, 1) with 24 random bits.
    @inlinable public mutating func uniformFloat() -> Float { Float(next() >> 40) * 0x1.0p-24 }

    /// A Poisson deviate of mean `mean` (≥ 0; NaN and negatives give 0), as a whole number in a Double.
    /// Means below 10: sequential inversion of the CDF (expected mean + 1 steps, one exp per call; the CDF is summed
    /// from P(0) = e^(−mean) with P(k) = P(k−1)·mean/k).
    /// Means from 10: the transformed-rejection method PTRS of W. Hörmann, "The transformed rejection method for
    /// generating Poisson random variables", Insurance: Mathematics and Economics 12 (1993) 39–45.
    @inlinable public mutating func poisson(_ mean: Double) -> Double {
        guard mean > 0 else { return 0 }
        if mean < 10 {
            var p = exp(-mean)
            var cdf = p
            let u = uniform()
            var k = 0.0
            while u > cdf {
                k += 1
                p *= mean / k
                cdf += p
                if p < 1e-17 && k > mean { break }   // the CDF has reached 1 to double precision
            }
            return k
        }
        return ptrs(mean)
    }

    /// Replaces every expected count in `buffer` by a Poisson deviate of that mean (negative or NaN means give 0).
    ///
    /// Eight pixels at a time: where all eight means are below 10, the CDF inversion of `poisson` runs in single
    /// precision as a fixed-length SIMD loop, k = Σ_j [u > F(j−1)] for j = 1 ... J, J = ⌊m + 5√m + 6⌋ with m the
    /// largest of the eight means, with no data-dependent branch. A lane that reaches J (the tail beyond J, below
    /// 1e-7, or a 24-bit u above the rounded single-precision CDF) is drawn again with the double-precision `poisson`,
    /// so no spurious large counts appear. Other groups and the tail of the buffer use `poisson` directly. Same
    /// distribution as `poisson`, a different (still deterministic) draw order.
    public mutating func samplePoisson(inPlace buffer: UnsafeMutableBufferPointer<Float>) {
        let n = buffer.count
        var i = 0
        while i + 8 <= n {
            var mean = SIMD8<Float>()
            for l in 0 ..< 8 { let v = buffer[i + l]; mean[l] = v > 0 ? v : 0 }
            let top = mean.max()
            if top < 10 {
                var p = SIMD8<Float>(), u = SIMD8<Float>()
                for l in 0 ..< 8 { p[l] = expf(-mean[l]); u[l] = uniformFloat() }
                var cdf = p
                var k = SIMD8<Float>(repeating: 0)
                let steps = Int(top + 5 * top.squareRoot() + 6)
                var j: Float = 1
                for _ in 0 ..< steps {
                    k.replace(with: k + 1, where: u .> cdf)
                    p *= mean / j
                    cdf += p
                    j += 1
                }
                let limit = Float(steps)
                for l in 0 ..< 8 { buffer[i + l] = k[l] < limit ? k[l] : Float(poisson(Double(mean[l]))) }
            } else {
                for l in 0 ..< 8 { buffer[i + l] = Float(poisson(Double(mean[l]))) }
            }
            i += 8
        }
        while i < n {
            buffer[i] = Float(poisson(Double(buffer[i])))
            i += 1
        }
    }

    @usableFromInline mutating func ptrs(_ lam: Double) -> Double {
        let slam = lam.squareRoot(), loglam = log(lam)
        let b = 0.931 + 2.53 * slam
        let a = -0.059 + 0.02483 * b
        let invalpha = 1.1239 + 1.1328 / (b - 3.4)
        let vr = 0.9277 - 3.6224 / (b - 2)
        while true {
            let u = uniform() - 0.5
            let v = uniform()
            let us = 0.5 - abs(u)
            let k = ((2 * a / us + b) * u + lam + 0.43).rounded(.down)
            if us >= 0.07 && v <= vr { return k }
            if k < 0 || (us < 0.013 && v > us) { continue }
            if log(v) + log(invalpha) - log(a / (us * us) + b) <= -lam + k * loglam - lgamma(k + 1) { return k }
        }
    }
}
