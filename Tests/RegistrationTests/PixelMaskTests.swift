import Foundation
import Testing
import STEMCore
import Registration

@Suite struct PixelMaskTests {
    /// A dead pixel (always zero) and a hot pixel (always high) are found from the data; the direct beam,
    /// spots and noise are not flagged; masking replaces them by the neighbours' median.
    @Test func hotAndDeadPixelsFound() throws {
        let w = 64
        var stats = PixelStatistics(shape: .init(rows: w, columns: w))
        var rng = SplitMix64(seed: 6)
        let dead = 10 * w + 12, hot = 30 * w + 40
        var last = [Float]()
        for k in 0 ..< 40 {
            let beam = (32 + rng.uniform() * 2 - 1, 32 + rng.uniform() * 2 - 1)
            let synth = SyntheticPattern.lattice(width: w, beam: beam, a: (9, 1), b: (-1, 9.5), maxOrder: 3, maxRadius: 25,
                                                 rng: &rng, sigma: 1)
            var img = synth.render(poisson: &rng)
            img[dead] = 0
            img[hot] = Float(4000 + rng.poisson(100))
            if k == 39 { last = img }
            img.withUnsafeBufferPointer { stats.add($0) }
        }
        let mask = stats.detectBadPixels()
        #expect(mask.badIndices == [dead, hot])
        last.withUnsafeMutableBufferPointer { mask.apply(to: $0) }
        #expect(last[hot] < 200 && last[dead] > 0)
        // Partial statistics of two "ranks" merge to the same mask.
        var a = PixelStatistics(shape: stats.shape), b = a
        a.sums = stats.sums.map { $0 * 0.25 }; a.nonZeroCounts = stats.nonZeroCounts.map { $0 * 0.25 }; a.patternCount = 10
        b.sums = stats.sums.map { $0 * 0.75 }; b.nonZeroCounts = stats.nonZeroCounts.map { $0 * 0.75 }; b.patternCount = 30
        a.merge(b)
        #expect(a.detectBadPixels().badIndices == [dead, hot])
    }

    @Test func maskShapeChecked() {
        #expect(throws: STEMError.self) { _ = try PixelMask(shape: .init(rows: 2, columns: 2), isBad: [true]) }
    }
}
