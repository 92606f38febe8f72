import Foundation
import Testing
import Operando
import STEMCore

@Suite struct IntegrationTests {
    static let shape = DetectorShape(rows: 96, columns: 112)
    static let geometry = DetectorGeometry(distance: 0.08, poni1: 0.0049, poni2: 0.0057, rot1: 0.02, rot2: -0.015,
                                           rot3: 0.3, pixel1: 1e-4, pixel2: 1e-4, wavelength: 0.5e-10,
                                           detector: shape)

    /// A ring at q0 (Å⁻¹) of Gaussian width σq on a flat background, evaluated at pixel centres.
    static func ringImage(q0: Double, sigma: Double) -> [Float] {
        let g = geometry
        return g.twoThetaArray().map { tth in
            let q = g.q(twoTheta: tth)
            return Float(10 + 1000 * exp(-0.5 * (q - q0) * (q - q0) / (sigma * sigma)))
        }
    }

    static func peakCentre(_ profile: [Float], _ axis: RadialAxis) -> Double {
        // Centroid of the background-subtracted peak.
        var s = 0.0, sx = 0.0
        for (b, x) in axis.centres.enumerated() where profile[b] > 100 {
            s += Double(profile[b] - 10); sx += Double(profile[b] - 10) * x
        }
        return sx / s
    }

    @Test(arguments: [AzimuthalIntegrator.PixelSplitting.none, .boundingBox])
    func ringLandsAtItsQ(splitting: AzimuthalIntegrator.PixelSplitting) throws {
        let image = Self.ringImage(q0: 1.3, sigma: 0.02)
        let options = AzimuthalIntegrator.Options(unit: .qInverseAngstrom, bins: 300, range: 0.2 ... 1.7,
                                                  splitting: splitting, solidAngle: false)
        let ai = try AzimuthalIntegrator(geometry: Self.geometry, options: options)
        let profile = ai.integrate(image)
        #expect(abs(Self.peakCentre(profile, ai.axis) - 1.3) < 0.002)
        // Flat background comes out flat, at its level, away from the ring.
        #expect(abs(profile[10] - 10) < 1e-3)
        // The same ring in d: peak at 2π / 1.3 Å.
        let inD = try AzimuthalIntegrator(geometry: Self.geometry, options: .init(
            unit: .dAngstrom, bins: 200, range: 3.5 ... 6.5, splitting: splitting, solidAngle: false))
        #expect(abs(Self.peakCentre(inD.integrate(image), inD.axis) - 2 * Double.pi / 1.3) < 0.01)
    }

    @Test func maskedHotPixelsAndGapsAreIgnored() throws {
        var image = Self.ringImage(q0: 1.0, sigma: 0.03)
        var mask = DetectorMask(detector: Self.shape)
        mask.maskRows(40 ..< 44)
        mask.maskColumns(70 ..< 72)
        let clean = image
        for r in 40 ..< 44 { for c in 0 ..< Self.shape.columns { image[r * Self.shape.columns + c] = -5 } }
        image[10 * Self.shape.columns + 10] = 1e9
        image[80 * Self.shape.columns + 100] = .infinity
        #expect(try mask.maskHotPixels(reference: image, absoluteThreshold: 1e5, relativeThreshold: nil) == 2)
        let options = AzimuthalIntegrator.Options(bins: 150, range: 0.2 ... 1.7)
        let masked = try AzimuthalIntegrator(geometry: Self.geometry, options: options, mask: mask)
        var reference = DetectorMask(detector: Self.shape)
        reference.maskRows(40 ..< 44)
        reference.maskColumns(70 ..< 72)
        reference.mask(row: 10, column: 10)
        reference.mask(row: 80, column: 100)
        let expected = try AzimuthalIntegrator(geometry: Self.geometry, options: options, mask: reference).integrate(clean)
        let got = masked.integrate(image)
        #expect(got == expected)
        #expect(got.allSatisfy { $0.isFinite })
        // Without the mask the hot pixel dominates its bin.
        let unmasked = try AzimuthalIntegrator(geometry: Self.geometry, options: options).integrate(image)
        #expect(unmasked.contains { $0 > 1e5 || !$0.isFinite })
    }

    @Test func batchMatchesSingleAndPartitionsAgree() throws {
        let n = 7
        var block = PatternBlock(firstIndex: 0, count: n, detector: Self.shape)
        for p in 0 ..< n {
            let img = Self.ringImage(q0: 0.9 + 0.1 * Double(p), sigma: 0.02)
            for k in 0 ..< Self.shape.pixelCount { block.pixels[p * Self.shape.pixelCount + k] = img[k] }
        }
        for splitting in AzimuthalIntegrator.PixelSplitting.allCases {
            let ai = try AzimuthalIntegrator(geometry: Self.geometry, options: .init(bins: 120, splitting: splitting))
            let batch = try ai.integrate(block)
            for p in 0 ..< n {
                #expect(batch.profile(p) == ai.integrate(block.pattern(p)))
            }
            for parts in 1 ... 3 {
                let partition = ScanPartition(total: n, parts: parts)
                var joined: [Float] = []
                for k in 0 ..< parts {
                    let r = partition.range(of: k)
                    let sub = PatternBlock(firstIndex: r.lowerBound, count: r.count, detector: Self.shape,
                                           pixels: Array(block.pixels[r.lowerBound * Self.shape.pixelCount ..< r.upperBound * Self.shape.pixelCount]))
                    joined += try ai.integrate(sub).values
                }
                #expect(joined == batch.values)
            }
        }
    }

    @Test func solidAngleCorrectionDividesByCosCubed() throws {
        // A pattern equal to the solid-angle factor integrates to 1 everywhere with the correction on.
        let sa = Self.geometry.solidAngleArray().map(Float.init)
        let ai = try AzimuthalIntegrator(geometry: Self.geometry, options: .init(bins: 50, solidAngle: true))
        let profile = ai.integrate(sa)
        #expect(profile.allSatisfy { $0 == 0 || abs($0 - 1) < 1e-5 })
        #expect(profile.filter { $0 != 0 }.count >= 45)
    }

    @Test func automaticBinCountLeavesNoEmptyBinInTheWindow() throws {
        // 4000 bins over 0.2 ... 1.7 A^-1 are finer than a pixel: some receive no pixel.
        let fine = try AzimuthalIntegrator(geometry: Self.geometry, options: .init(bins: 4000, range: 0.2 ... 1.7))
        #expect(!fine.emptyBins.isEmpty)
        let n = try #require(try AzimuthalIntegrator.binCount(geometry: Self.geometry, options: .init(range: 0.2 ... 1.7),
                                                               window: 0.5 ... 1.2, maximum: 4000))
        #expect(n < 4000 && n >= 16)
        let ai = try AzimuthalIntegrator(geometry: Self.geometry, options: .init(bins: n, range: 0.2 ... 1.7))
        let centres = ai.axis.centres
        #expect(!ai.emptyBins.contains { (0.5 ... 1.2).contains(centres[$0]) })
    }

    @Test func hotPixelsRelativeToTheMedian() throws {
        var image = [Float](repeating: 10, count: Self.shape.pixelCount)
        image[5] = 150   // 15 x median: kept at 20 x, masked at 10 x
        image[7] = 1000
        var m20 = DetectorMask(detector: Self.shape)
        #expect(try m20.maskHotPixels(reference: image) == 1)
        var m10 = DetectorMask(detector: Self.shape)
        #expect(try m10.maskHotPixels(reference: image, relativeThreshold: 10) == 2)
        #expect(m10.isMasked[5] && m10.isMasked[7] && m10.maskedCount == 2)
    }

    @Test func badOptionsThrow() {
        #expect(throws: STEMError.self) {
            _ = try AzimuthalIntegrator(geometry: Self.geometry, options: .init(bins: 0))
        }
        #expect(throws: STEMError.self) {
            _ = try AzimuthalIntegrator(geometry: Self.geometry, options: .init(range: 2 ... 2))
        }
        #expect(throws: STEMError.self) {
            _ = try AzimuthalIntegrator(geometry: Self.geometry, mask: DetectorMask(detector: DetectorShape(rows: 2, columns: 2)))
        }
        #expect(throws: STEMError.self) {
            _ = try DetectorMask(detector: Self.shape, flags: [0, 1])
        }
    }
}
