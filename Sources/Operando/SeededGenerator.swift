import Foundation

/// A seedable random number generator (SplitMix64, Steele et al., OOPSLA 2014): the simulator's results
/// depend only on its seed, on every platform.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    /// A generator for one item of a seeded family (e.g. seed, series, step, scan position), so that every
    /// item's random numbers are independent of the order and partition in which items are produced.
    public init(seed: UInt64, stream: UInt64...) {
        var s = seed
        for v in stream {
            var g = SeededGenerator(seed: s ^ (v &* 0xD1B5_4A32_D192_ED03))
            s = g.next()
        }
        state = s
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    public mutating func uniform() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// Standard normal (Box–Muller).
    public mutating func normal() -> Double {
        let u = max(uniform(), 1e-300), v = uniform()
        return (-2 * log(u)).squareRoot() * cos(2 * Double.pi * v)
    }
}
