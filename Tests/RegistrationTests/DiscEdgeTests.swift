import Foundation
import Registration
import Testing

/// Disc centres from the rim (`DiscEdge`, `RegistrationParameters.discCentres`).
@Suite struct DiscEdgeTests {
    /// A 256 px pattern of convergent-beam discs of radius 8 px (the probe aperture, the same for every disc):
    /// a uniform direct beam and eight reflections whose inside rises linearly across the disc along g from
    /// `dim` to 1 of their amplitude (dynamical contrast; `dim` = 1 is uniform), rims 0.3 px soft, on a
    /// background of 10 counts, Poisson noise.
    static func pattern(dim: Double, rng: inout SplitMix64) -> (pixels: [Float], discs: [(x: Double, y: Double)]) {
        let w = 256, radius = 8.0, beam = (128.3, 127.8)
        var discs = [(x: beam.0, y: beam.1)]
        for (gx, gy) in [(40.0, 3.0), (-2.0, 41.0), (38.0, 44.0), (42.0, -38.0)] {
            discs.append((beam.0 + gx, beam.1 + gy)); discs.append((beam.0 - gx, beam.1 - gy))
        }
        var pixels = [Float](repeating: 0, count: w * w)
        for i in 0 ..< w {
            for j in 0 ..< w {
                let x = Double(j) + 0.5, y = Double(i) + 0.5
                var v = 10.0
                for (k, d) in discs.enumerated() {
                    let dx = x - d.x, dy = y - d.y, r = (dx * dx + dy * dy).squareRoot()
                    if r > radius + 3 { continue }
                    let edge = 1 / (1 + exp((r - radius) / 0.3))
                    if k == 0 { v += 400 * edge; continue }
                    let g = ((d.x - beam.0) * (d.x - beam.0) + (d.y - beam.1) * (d.y - beam.1)).squareRoot()
                    let t = (dx * (d.x - beam.0) + dy * (d.y - beam.1)) / (g * radius) // -1 inner side, +1 outer
                    v += 60 * (dim + (1 - dim) * (min(1, max(-1, t)) + 1) / 2) * edge
                }
                pixels[i * w + j] = Float(rng.poisson(v))
            }
        }
        return (pixels, discs)
    }

    /// RMS distance from each disc to the nearest spot, and the number of discs without a spot within 5 px.
    static func errors(_ spots: [Spot], _ discs: [(x: Double, y: Double)]) -> (rms: Double, missed: Int) {
        var sq = 0.0, n = 0, missed = 0
        for d in discs {
            var e = Double.infinity
            for s in spots {
                let dx = Double(s.x) - d.x, dy = Double(s.y) - d.y
                e = min(e, (dx * dx + dy * dy).squareRoot())
            }
            if e < 5 { sq += e * e; n += 1 } else { missed += 1 }
        }
        return ((sq / Double(max(1, n))).squareRoot(), missed)
    }

    /// The spots of one pattern with the paper's centroid and with `discCentres`.
    static func spots(_ pixels: [Float], width w: Int) throws -> (centroid: [Spot], rim: [Spot]) {
        var p = singlePatternParameters(width: w)
        let centroid = try PatternRegistrar(parameters: p, shape: .init(rows: w, columns: w)).register(pattern: pixels).spots
        p.discCentres = true
        let rim = try PatternRegistrar(parameters: p, shape: .init(rows: w, columns: w)).register(pattern: pixels).spots
        return (centroid, rim)
    }

    @Test func rimCentresDiscsWithDynamicalContrast() throws {
        var rng = SplitMix64(seed: 12)
        let (pixels, discs) = Self.pattern(dim: 0.05, rng: &rng)
        let (centroid, rim) = try Self.spots(pixels, width: 256)
        let e0 = Self.errors(centroid, discs), e1 = Self.errors(rim, discs)
        #expect(e0.missed == 0 && e1.missed == 0, "missed: centroid \(e0.missed), rim \(e1.missed)")
        #expect(e0.rms > 1, "centroid RMS \(e0.rms) px") // the centroid lies towards the bright side
        #expect(e1.rms < 0.2, "rim RMS \(e1.rms) px, centroid \(e0.rms) px")
        // The beam's half-maximum radius on the blurred image, a few tenths inside its rim (map beam_radius).
        let r = try PatternRegistrar(parameters: singlePatternParameters(width: 256), shape: .init(rows: 256, columns: 256))
            .register(pattern: pixels).registration.maps.beamRadius
        #expect(r > 7 && r < 8.2, "beam radius \(r) px, disc of 8 px")
    }

    /// Uniform discs: the rim agrees with the centroid (both unbiased), so the option costs no accuracy.
    @Test func uniformDiscsStayWhereTheCentroidPutsThem() throws {
        var rng = SplitMix64(seed: 13)
        let (pixels, discs) = Self.pattern(dim: 1, rng: &rng)
        let (centroid, rim) = try Self.spots(pixels, width: 256)
        let e0 = Self.errors(centroid, discs), e1 = Self.errors(rim, discs)
        #expect(e0.rms < 0.2 && e1.rms < 0.2, "RMS: centroid \(e0.rms), rim \(e1.rms) px")
    }

    /// Spots of a few pixels (the paper's regime) have no rim: a direct beam under the minimum radius leaves
    /// the centroids as they are.
    @Test func smallSpotsAreLeftToTheCentroid() throws {
        var rng = SplitMix64(seed: 14)
        let synth = SyntheticPattern.lattice(width: 128, beam: (64.2, 63.7), a: (17, 2), b: (-3, 18), maxOrder: 2,
                                             maxRadius: 50, rng: &rng)
        let pixels = synth.render(poisson: &rng)
        let (a, b) = try Self.spots(pixels, width: 128)
        #expect(a.map(\.x) == b.map(\.x) && a.map(\.y) == b.map(\.y))
    }
}
