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

    /// A cross of module gaps (rows and columns 63-64 of a 128-px detector zero in every pattern, as on a
    /// 2 x 2 module camera) through a direct beam (a disc of radius 6 px, blurred) that moves between
    /// patterns: the gap pixels are found (and no other), and filled across, the beam's centroid comes back
    /// within 0.05 px of the ungapped pattern's (it was up to 0.3 px off).
    @Test func moduleGapsFoundAndFilled() throws {
        let w = 128
        var stats = PixelStatistics(shape: .init(rows: w, columns: w))
        var rng = SplitMix64(seed: 8)
        func gapped(_ img: [Float]) -> [Float] {
            var g = img
            for i in 0 ..< w { for j in 63 ... 64 { g[i * w + j] = 0; g[j * w + i] = 0 } }
            return g
        }
        func pattern(_ cx: Float, _ cy: Float) -> [Float] {
            var sharp = [Float](repeating: 0, count: w * w)
            sharp.withUnsafeMutableBufferPointer { DiscRenderer.draw(into: $0, width: w, height: w, cx: cx, cy: cy, radius: 6, value: 200) }
            var out = [Float](repeating: 0, count: w * w)
            sharp.withUnsafeBufferPointer { s in out.withUnsafeMutableBufferPointer { GaussianBlur(sigma: 1.5).apply(s, width: w, height: w, into: $0) } }
            return out.map { $0 + 5 + Float(rng.poisson(5)) }
        }
        for _ in 0 ..< 30 {
            let img = gapped(pattern(Float(62 + 4 * rng.uniform()), Float(62 + 4 * rng.uniform())))
            img.withUnsafeBufferPointer { stats.add($0) }
        }
        let mask = stats.detectBadPixels()
        var gap = Set<Int>()
        for i in 0 ..< w { for j in 63 ... 64 { gap.insert(i * w + j); gap.insert(j * w + i) } }
        let found = Set(mask.badIndices)
        #expect(found == gap, "\(found.subtracting(gap).count) bad pixels outside the gaps, \(gap.subtracting(found).count) of the gaps not found")
        func centroid(_ img: [Float]) -> (Float, Float) {
            var s: Float = 0, sx: Float = 0, sy: Float = 0
            for i in 44 ..< 84 { for j in 44 ..< 84 { let v = max(0, img[i * w + j] - 10); s += v; sx += v * (Float(j) + 0.5); sy += v * (Float(i) + 0.5) } }
            return (sx / s, sy / s)
        }
        var worstGapped: Float = 0, worstFilled: Float = 0
        for (cx, cy) in [(Float(62.3), Float(64.8)), (64.0, 64.0), (65.6, 62.4), (61.2, 63.1)] {
            let clean = pattern(cx, cy)
            var filled = gapped(clean)
            let (gx, gy) = centroid(filled)
            filled.withUnsafeMutableBufferPointer { mask.apply(to: $0) }
            let (tx, ty) = centroid(clean), (fx, fy) = centroid(filled)
            worstGapped = max(worstGapped, hypot(gx - tx, gy - ty))
            worstFilled = max(worstFilled, hypot(fx - tx, fy - ty))
        }
        #expect(worstFilled < 0.05, "filled: the beam's centroid up to \(worstFilled) px off")
        #expect(worstGapped > 0.1, "gapped: \(worstGapped) px")
    }

    /// Zero lines between live ones are gaps (`DetectorLines`); a zero band at the detector's edge (dark high
    /// angles) and the zero lines of sparse counting data (0.02 counts per pixel) are not.
    @Test func zeroGapLinesCounted() {
        let w = 64, h = 48
        var rng = SplitMix64(seed: 9)
        var sparse = (0 ..< w * h).map { _ in Float(rng.poisson(0.02)) } // sparse counts: zero lines between
        #expect(sparse.withUnsafeBufferPointer { DetectorLines.zeroGaps($0, width: w, height: h) } == (0, 0))
        sparse = []
        var p = (0 ..< w * h).map { _ in Float(rng.poisson(3)) }
        for x in 0 ..< w { for y in 0 ..< 3 { p[y * w + x] = 0 } } // a dark band at the top edge
        #expect(p.withUnsafeBufferPointer { DetectorLines.zeroGaps($0, width: w, height: h) } == (0, 0))
        for y in 0 ..< h { for x in 31 ... 32 { p[y * w + x] = 0 } }
        for x in 0 ..< w { p[20 * w + x] = 0 }
        let g = p.withUnsafeBufferPointer { DetectorLines.zeroGaps($0, width: w, height: h) }
        #expect(g == (1, 2), "\(g)")
    }

    @Test func maskShapeChecked() {
        #expect(throws: STEMError.self) { _ = try PixelMask(shape: .init(rows: 2, columns: 2), isBad: [true]) }
    }
}
