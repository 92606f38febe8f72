import Foundation
import Testing
import STEMCore
import Registration

@Suite struct FilterTests {
    @Test func binningAveragesBlocks() {
        let src: [Float] = [1, 2, 3, 4, 5,
                            5, 6, 7, 8, 9,
                            1, 1, 1, 1, 1,
                            3, 3, 3, 3, 3,
                            9, 9, 9, 9, 9]
        let shape = DetectorShape(rows: 5, columns: 5)
        #expect(Binning.binnedShape(shape, factor: 2) == DetectorShape(rows: 2, columns: 2))
        #expect(Binning.factor(width: 1024, target: 512) == 2 && Binning.factor(width: 256, target: 512) == 1)
        var out = [Float](repeating: 0, count: 4)
        src.withUnsafeBufferPointer { s in out.withUnsafeMutableBufferPointer { Binning.bin(s, shape: shape, factor: 2, into: $0) } }
        #expect(out == [3.5, 5.5, 2, 2])
    }

    /// Binning by 2 (eight output pixels at a time) and by 3 against the block mean written out here, in the
    /// same order of additions, bit for bit; odd shapes exercise the scalar tail and the dropped last rows
    /// and columns.
    @Test(arguments: [(2, 37, 41), (2, 32, 64), (3, 29, 50), (4, 17, 70)])
    func binningEqualsBlockMeans(factor f: Int, rows: Int, columns: Int) {
        let shape = DetectorShape(rows: rows, columns: columns)
        var state: UInt32 = 99
        let image: [Float] = (0 ..< shape.pixelCount).map { _ in
            state = state &* 1_664_525 &+ 1_013_904_223
            return Float(state >> 9) / Float(1 << 23) * 1000
        }
        let out = Binning.binnedShape(shape, factor: f)
        #expect(out == DetectorShape(rows: rows / f, columns: columns / f))
        var expected = [Float](repeating: 0, count: out.pixelCount)
        let norm = 1 / Float(f * f)
        for oy in 0 ..< out.rows {
            for ox in 0 ..< out.columns {
                var d: Float = 0
                for dy in 0 ..< f {
                    var acc: Float = 0
                    for dx in 0 ..< f { acc += image[(oy * f + dy) * columns + ox * f + dx] }
                    d += acc
                }
                expected[oy * out.columns + ox] = d * norm
            }
        }
        var binned = [Float](repeating: -1, count: out.pixelCount)
        image.withUnsafeBufferPointer { s in binned.withUnsafeMutableBufferPointer { Binning.bin(s, shape: shape, factor: f, into: $0) } }
        #expect(binned == expected)
    }

    @Test func bilinearShift() {
        let w = 6, h = 5
        let ramp: [Float] = (0 ..< w * h).map { Float(($0 % w) * 10 + ($0 / w)) }
        var out = [Float](repeating: 0, count: w * h)
        ramp.withUnsafeBufferPointer { s in out.withUnsafeMutableBufferPointer {
            BilinearShift.shift(s, width: w, height: h, dx: 0.25, dy: -1, into: $0)
        } }
        // out(x, y) = in(x - 0.25, y + 1) = 10 (x - 0.25) + (y + 1), away from the clamped borders.
        for y in 0 ..< h - 1 { for x in 1 ..< w {
            #expect(abs(out[y * w + x] - (10 * (Float(x) - 0.25) + Float(y + 1))) < 1e-4)
        } }
        // Integer shifts move pixels exactly.
        ramp.withUnsafeBufferPointer { s in out.withUnsafeMutableBufferPointer {
            BilinearShift.shift(s, width: w, height: h, dx: 2, dy: 1, into: $0)
        } }
        #expect(out[3 * w + 4] == ramp[2 * w + 2])
    }

    /// The in-place shift gives the values of the out-of-place one, bit for bit, for shifts up, down, left,
    /// right, integer, sub-pixel and beyond the image (every row clamped), on images narrower and wider than
    /// the eight-pixel blocks.
    @Test(arguments: [(13, 9), (45, 7), (5, 6), (64, 6)])
    func bilinearShiftInPlaceEqualsShift(width w: Int, height h: Int) {
        var state: UInt32 = 12345
        let image: [Float] = (0 ..< w * h).map { _ in
            state = state &* 1_664_525 &+ 1_013_904_223
            return Float(state >> 8) / Float(1 << 24) * 100
        }
        let shifts: [(Float, Float)] = [(0, 0), (0.3, 0), (0, 0.7), (-0.4, -1.6), (2.25, 3.5), (-3, 2), (1, -1),
                                        (0.5, -0.5), (-7.2, 4.1), (20, -15), (-0.01, 0.01), (5, 0), (0, -8.9), (-17.5, 0.2),
                                        (9.6, -0.3), (-1, 0), (0.99, 0.99)]
        for (dx, dy) in shifts {
            var expected = [Float](repeating: 0, count: w * h)
            image.withUnsafeBufferPointer { s in expected.withUnsafeMutableBufferPointer {
                BilinearShift.shift(s, width: w, height: h, dx: dx, dy: dy, into: $0)
            } }
            var inPlace = image
            inPlace.withUnsafeMutableBufferPointer {
                BilinearShift.shiftInPlace($0, width: w, height: h, dx: dx, dy: dy)
            }
            #expect(inPlace == expected, "shift (\(dx), \(dy))")
        }
    }

    @Test func gaussianBlurPreservesConstantsAndMass() {
        let g = GaussianBlur(sigma: 2)
        #expect(abs(g.weights[0] + 2 * g.weights.dropFirst().reduce(0, +) - 1) < 1e-6)
        let w = 40
        var img = [Float](repeating: 7, count: w * w)
        var out = img
        img.withUnsafeBufferPointer { s in out.withUnsafeMutableBufferPointer { g.apply(s, width: w, height: w, into: $0) } }
        #expect(out.allSatisfy { abs($0 - 7) < 1e-4 })
        img = [Float](repeating: 0, count: w * w); img[20 * w + 20] = 1
        img.withUnsafeBufferPointer { s in out.withUnsafeMutableBufferPointer { g.apply(s, width: w, height: w, into: $0) } }
        #expect(abs(out.reduce(0, +) - 1) < 1e-5)
        // Second moment along x equals sigma² (to the truncation at 3.5 sigma).
        var m2: Float = 0
        for i in 0 ..< w { for j in 0 ..< w { m2 += out[i * w + j] * Float((j - 20) * (j - 20)) } }
        #expect(abs(m2 - 4) < 0.05)
    }

    /// The streaming blur (four output rows at a time from a ring of input rows, the last ones two at a time)
    /// equals the direct separable convolution with edge pixels extended, for every height modulo 4, images
    /// shorter than the kernel, and written in place.
    @Test(arguments: [(13, 11, Float(2)), (7, 5, 2), (33, 64, 2), (16, 9, 0.8), (9, 40, 3.1), (40, 18, 2), (24, 3, 2)])
    func streamingBlurEqualsDirectConvolution(width w: Int, height h: Int, sigma: Float) {
        let g = GaussianBlur(sigma: sigma)
        var rng = SplitMix64(seed: 11)
        let img: [Float] = (0 ..< w * h).map { _ in Float(rng.uniform() * 100) }
        var out = [Float](repeating: 0, count: w * h)
        img.withUnsafeBufferPointer { s in out.withUnsafeMutableBufferPointer { g.apply(s, width: w, height: h, into: $0) } }
        var inPlace = img
        inPlace.withUnsafeMutableBufferPointer { b in g.apply(UnsafeBufferPointer(b), width: w, height: h, into: b) }
        let r = g.radius
        func at(_ i: Int, _ j: Int) -> Double { Double(img[min(max(i, 0), h - 1) * w + min(max(j, 0), w - 1)]) }
        var worst = 0.0
        for i in 0 ..< h { for j in 0 ..< w {
            var v = 0.0
            for a in -r ... r { for b in -r ... r {
                v += Double(g.weights[abs(a)]) * Double(g.weights[abs(b)]) * at(i + a, j + b)
            } }
            worst = max(worst, abs(Double(out[i * w + j]) - v))
        } }
        #expect(worst < 1e-3, "largest difference \(worst)")
        #expect(inPlace == out)
    }

    /// The separable lower-envelope opening equals a brute-force opening with the same paraboloid.
    @Test func paraboloidOpeningMatchesBruteForce() {
        var rng = SplitMix64(seed: 4)
        let w = 13, h = 11, c: Float = 0.3
        let img: [Float] = (0 ..< w * h).map { _ in Float(rng.uniform() * 10) }
        var bg = [Float](repeating: 0, count: w * h), out = bg
        let pb = ParaboloidBackground(maxSide: 13)
        img.withUnsafeBufferPointer { s in bg.withUnsafeMutableBufferPointer { b in out.withUnsafeMutableBufferPointer {
            pb.subtract(s, width: w, height: h, curvature: c, background: b, into: $0)
        } } }
        func at(_ a: [Float], _ i: Int, _ j: Int) -> Float { a[i * w + j] }
        var eroded = [Float](repeating: 0, count: w * h)
        for i in 0 ..< h { for j in 0 ..< w {
            var m = Float.infinity
            for k in 0 ..< h { for l in 0 ..< w {
                m = min(m, at(img, k, l) + c * Float((i - k) * (i - k) + (j - l) * (j - l)))
            } }
            eroded[i * w + j] = m
        } }
        for i in 0 ..< h { for j in 0 ..< w {
            var m = -Float.infinity
            for k in 0 ..< h { for l in 0 ..< w {
                m = max(m, at(eroded, k, l) - c * Float((i - k) * (i - k) + (j - l) * (j - l)))
            } }
            #expect(abs(at(bg, i, j) - min(m, at(img, i, j))) < 1e-3)
            #expect(abs(at(out, i, j) - (at(img, i, j) - at(bg, i, j))) < 1e-5)
        } }
    }

    /// A smooth background (curvature below the paraboloid's) is removed; a narrow spot keeps its height.
    @Test func backgroundRemovedSpotsKept() {
        let w = 128
        var img = [Float](repeating: 0, count: w * w)
        for i in 0 ..< w { for j in 0 ..< w {
            let x = Float(j) - 64, y = Float(i) - 64
            img[i * w + j] = 50 + 0.2 * x - 0.1 * y + 0.002 * (x * x + y * y)
                + 100 * exp(-((x - 10) * (x - 10) + (y + 7) * (y + 7)) / (2 * 1.5 * 1.5))
        } }
        var bg = img, out = img
        let pb = ParaboloidBackground(maxSide: w, radius: 12.8)
        #expect(pb.shrinkFactor == 2)
        img.withUnsafeBufferPointer { s in bg.withUnsafeMutableBufferPointer { b in out.withUnsafeMutableBufferPointer {
            pb.subtract(s, width: w, height: w, curvature: 1.0 / (2 * 12.8), background: b, into: $0)
        } } }
        #expect(out[(64 - 7) * w + 74] > 98)
        // Far from the spot the residual is (nearly) zero.
        // (ImageJ-style shrinking by block minima leaves up to about one gradient step, 0.2 here.)
        #expect(out[20 * w + 20] < 0.5 && out[100 * w + 30] < 0.5)
    }

    @Test func compressionRateDefinition() {
        #expect(compressionRate(patternCount: 10, bytesPerPattern: 512 * 512 * 4, spotCount: 400) == 10.0 * 512 * 512 * 4 / (400.0 * 40))
        #expect(compressionRate(patternCount: 1, bytesPerPattern: 4, spotCount: 0) == .infinity)
        #expect(Spot.tableRowBytes == 40)
    }
}
