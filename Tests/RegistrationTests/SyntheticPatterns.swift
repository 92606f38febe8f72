import Foundation
import Registration

/// Deterministic random numbers (SplitMix64) for reproducible test patterns.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func uniform() -> Double { Double(next() >> 11) / Double(1 << 53) }
    mutating func gaussian() -> Double {
        let u = max(uniform(), 1e-300), v = uniform()
        return (-2 * log(u)).squareRoot() * cos(2 * Double.pi * v)
    }
    /// Poisson variate (Knuth for small means, normal approximation above 50).
    mutating func poisson(_ mean: Double) -> Double {
        if mean <= 0 { return 0 }
        if mean > 50 { return max(0, (mean + mean.squareRoot() * gaussian()).rounded()) }
        let l = exp(-mean)
        var k = 0.0, p = 1.0
        repeat { k += 1; p *= uniform() } while p > l
        return k - 1
    }
}

/// A Gaussian spot of the synthetic patterns, in the pixel-edge convention of `Spot`.
struct TrueSpot { var x: Double; var y: Double; var amplitude: Double; var sigma: Double }

/// A diffraction pattern made of Gaussian spots on a smooth diffuse background, with noise.
struct SyntheticPattern {
    var width: Int
    var height: Int
    var spots: [TrueSpot]
    var backgroundLevel: Double = 10
    var diffuseAmplitude: Double = 30
    var diffuseLength: Double = 60

    /// A centrosymmetric (Friedel) pattern: the direct beam at `beam`, reflections at beam ± (i a + j b).
    static func lattice(width: Int, beam: (Double, Double), a: (Double, Double), b: (Double, Double),
                        maxOrder: Int, maxRadius: Double, rng: inout SplitMix64,
                        beamAmplitude: Double = 400, spotAmplitude: ClosedRange<Double> = 60 ... 150,
                        sigma: Double = 1.5) -> SyntheticPattern {
        var spots = [TrueSpot(x: beam.0, y: beam.1, amplitude: beamAmplitude, sigma: 2)]
        for i in -maxOrder ... maxOrder {
            for j in -maxOrder ... maxOrder where (i, j) > (0, 0) || (i == 0 && j > 0) {
                let gx = Double(i) * a.0 + Double(j) * b.0, gy = Double(i) * a.1 + Double(j) * b.1
                if (gx * gx + gy * gy).squareRoot() > maxRadius { continue }
                let amp = spotAmplitude.lowerBound + (spotAmplitude.upperBound - spotAmplitude.lowerBound) * rng.uniform()
                spots.append(TrueSpot(x: beam.0 + gx, y: beam.1 + gy, amplitude: amp, sigma: sigma))
                spots.append(TrueSpot(x: beam.0 - gx, y: beam.1 - gy, amplitude: amp, sigma: sigma))
            }
        }
        return SyntheticPattern(width: width, height: width, spots: spots)
    }

    /// Noise-free pixel values (pixel centres at j + 0.5, i + 0.5).
    func render() -> [Float] {
        var out = [Float](repeating: 0, count: width * height)
        let beam = spots.first.map { ($0.x, $0.y) } ?? (Double(width) / 2, Double(height) / 2)
        for i in 0 ..< height {
            for j in 0 ..< width {
                let x = Double(j) + 0.5, y = Double(i) + 0.5
                let r = ((x - beam.0) * (x - beam.0) + (y - beam.1) * (y - beam.1)).squareRoot()
                out[i * width + j] = Float(backgroundLevel + diffuseAmplitude * exp(-r / diffuseLength))
            }
        }
        for s in spots {
            let reach = Int((5 * s.sigma).rounded(.up))
            let cx = Int(s.x), cy = Int(s.y)
            let i0 = max(0, cy - reach), i1 = min(height - 1, cy + reach)
            let j0 = max(0, cx - reach), j1 = min(width - 1, cx + reach)
            if i0 > i1 || j0 > j1 { continue } // off the detector
            for i in i0 ... i1 {
                for j in j0 ... j1 {
                    let dx = Double(j) + 0.5 - s.x, dy = Double(i) + 0.5 - s.y
                    out[i * width + j] += Float(s.amplitude * exp(-(dx * dx + dy * dy) / (2 * s.sigma * s.sigma)))
                }
            }
        }
        return out
    }

    /// Rendered with additive Gaussian noise of standard deviation `sigma`.
    func render(gaussianNoise sigma: Double, rng: inout SplitMix64) -> [Float] {
        render().map { $0 + Float(sigma * rng.gaussian()) }
    }

    /// Rendered with Poisson (shot) noise, `dose` counts per unit of the noise-free pattern.
    func render(poisson rng: inout SplitMix64, dose: Double = 1) -> [Float] {
        render().map { Float(rng.poisson(dose * Double($0))) }
    }
}

/// Parameters for single-pattern tests: centring and the 3 x 3 mean off (they need a batch / a scan).
func singlePatternParameters(width: Int) -> RegistrationParameters {
    var p = RegistrationParameters(workingWidth: width)
    p.centring = false
    p.scanMean = false
    return p
}

/// Root-mean-square distance between true spots and their nearest detected spot (within `tolerance` px),
/// and the number of true spots that have no detection within the tolerance.
func matchSpots(truth: [TrueSpot], found: [Spot], tolerance: Double = 2) -> (rms: Double, missed: Int, errors: [Double]) {
    var sq = 0.0, matched = 0, missed = 0
    var errors = [Double]()
    for t in truth {
        var best = Double.infinity
        for s in found {
            let d = ((Double(s.x) - t.x) * (Double(s.x) - t.x) + (Double(s.y) - t.y) * (Double(s.y) - t.y)).squareRoot()
            best = min(best, d)
        }
        if best <= tolerance { sq += best * best; matched += 1; errors.append(best) } else { missed += 1 }
    }
    return (matched > 0 ? (sq / Double(matched)).squareRoot() : .infinity, missed, errors)
}
