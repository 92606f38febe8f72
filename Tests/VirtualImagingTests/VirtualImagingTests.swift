import STEMCore
import Testing
import VirtualImaging

@Suite struct VirtualImagingTests {
    @Test func directBeamEstimateFindsDiscCentreAndRadius() {
        let det = DetectorShape(rows: 64, columns: 64)
        var p = [Float](repeating: 1, count: det.pixelCount)
        let (cx, cy, r): (Float, Float, Float) = (30.3, 35.6, 6)
        for y in 0 ..< 64 { for x in 0 ..< 64 {
            let d = ((Float(x) - cx) * (Float(x) - cx) + (Float(y) - cy) * (Float(y) - cy)).squareRoot()
            if d <= r { p[y * 64 + x] = 100 }
        } }
        let e = DirectBeamEstimate.estimate(p, detector: det)
        #expect(abs(e.centerX - cx) < 0.3 && abs(e.centerY - cy) < 0.3)
        #expect(abs(e.radius - r) < 0.7)
    }

    @Test func accumulatorMatchesDirectSums() {
        let det = DetectorShape(rows: 8, columns: 8)
        let vd = VirtualDetector(centerX: 3.5, centerY: 3.5, brightFieldRadius: 1.6, annularInner: 2, annularOuter: 4)
        var acc = VirtualImageAccumulator(detector: det, virtualDetector: vd)
        let patterns = (0 ..< 2 * 64).map { Float($0 % 13) }
        var bf = [Float](repeating: 0, count: 2), adf = bf, tot = bf
        let bad = patterns.withUnsafeBufferPointer { acc.accumulate($0, count: 2, brightField: &bf, annular: &adf, total: &tot) }
        #expect(bad == nil)
        let (m1, m2) = vd.masks(for: det)
        #expect(m1.reduce(0, +) == 12) // radius 1.6 around a pixel corner: the 4 + 8 nearest pixel centres
        for k in 0 ..< 2 {
            let pat = Array(patterns[k * 64 ..< (k + 1) * 64])
            #expect(bf[k] == zip(pat, m1).map(*).reduce(0, +))
            #expect(adf[k] == zip(pat, m2).map(*).reduce(0, +))
            #expect(tot[k] == pat.reduce(0, +))
        }
        #expect(acc.maxPattern[0] == max(patterns[0], patterns[64]))
    }

    @Test func accumulatorReportsNonFinitePattern() {
        let det = DetectorShape(rows: 4, columns: 4)
        var acc = VirtualImageAccumulator(detector: det, virtualDetector: VirtualDetector(centerX: 2, centerY: 2, brightFieldRadius: 1, annularInner: 1, annularOuter: 2))
        var patterns = [Float](repeating: 1, count: 48)
        patterns[20] = .infinity
        var a = [Float](repeating: 0, count: 3), b = a, c = a
        let bad = patterns.withUnsafeBufferPointer { acc.accumulate($0, count: 3, brightField: &a, annular: &b, total: &c) }
        #expect(bad == 1)
    }
}
