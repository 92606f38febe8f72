import Foundation
import Testing
import Operando
import STEMCore

@Suite struct GeometryTests {
    let shape = DetectorShape(rows: 100, columns: 120)

    @Test func untiltedDetectorGivesTextbookAngles() throws {
        // Beam at the corner of pixel (50, 60); a pixel centre 30.5 px away along columns.
        let g = DetectorGeometry(beamCentreRow: 50, beamCentreColumn: 60, distance: 0.2, pixelSize: 1e-4,
                                 wavelength: 1e-10, detector: shape)
        let r = 30.5e-4
        let expected = atan(r / 0.2)
        #expect(abs(g.twoTheta(row: 50.5, column: 90.5) - atan2((r * r + 0.5e-4 * 0.5e-4).squareRoot(), 0.2)) < 1e-14)
        #expect(abs(g.twoTheta(row: 50, column: 90.5) - expected) < 1e-14)
        let tth = g.twoThetaArray()
        #expect(abs(tth[50 * 120 + 90] - atan2((r * r + 0.25e-8).squareRoot(), 0.2)) < 1e-14)
        // q = 4π sin θ / λ (Å⁻¹) and d = λ / (2 sin θ) (Å) agree with Bragg: q d = 2π.
        let q = g.q(twoTheta: expected), d = g.dSpacing(twoTheta: expected)
        #expect(abs(q - 4 * Double.pi * sin(expected / 2)) < 1e-12)
        #expect(abs(q * d - 2 * Double.pi) < 1e-12)
        // Solid angle: cos³ of the incidence angle, 1 at the PONI.
        let sa = g.solidAngleArray()
        let p1 = 0.5e-4, p2 = 30.5e-4
        #expect(abs(sa[50 * 120 + 90] - pow(0.2 / (0.04 + p1 * p1 + p2 * p2).squareRoot(), 3)) < 1e-14)
    }

    @Test func tiltRotatesTheDetectorAsPyFAIDoes() throws {
        // rot2 tilts the detector about dimension 2: the PONI itself then sits at 2θ = rot2... checked
        // against pyFAI's closed form t3 = p1 sin r2 − p2 cos r2 sin r1 + L cos r1 cos r2.
        let g = DetectorGeometry(distance: 0.1, poni1: 0.005, poni2: 0.006, rot1: 0.05, rot2: -0.03, rot3: 0.1,
                                 pixel1: 1e-4, pixel2: 1e-4, wavelength: 1e-10, detector: shape)
        let (r1, r2, r3) = (0.05, -0.03, 0.1)
        let p1 = 10.5e-4 - 0.005, p2 = 70.5e-4 - 0.006, l = 0.1
        let t1 = p1 * cos(r2) * cos(r3) + p2 * (cos(r3) * sin(r1) * sin(r2) - cos(r1) * sin(r3))
            - l * (cos(r1) * cos(r3) * sin(r2) + sin(r1) * sin(r3))
        let t2 = p1 * cos(r2) * sin(r3) + p2 * (cos(r1) * cos(r3) + sin(r1) * sin(r2) * sin(r3))
            - l * (-cos(r3) * sin(r1) + cos(r1) * sin(r2) * sin(r3))
        let t3 = p1 * sin(r2) - p2 * cos(r2) * sin(r1) + l * cos(r1) * cos(r2)
        #expect(abs(g.twoTheta(row: 10.5, column: 70.5) - atan2((t1 * t1 + t2 * t2).squareRoot(), t3)) < 1e-14)
        #expect(abs(g.chiArray()[10 * 120 + 70] - atan2(t1, t2)) < 1e-14)
        // Without rot3 the PONI is at 2θ = acos(cos r1 cos r2).
        let h = DetectorGeometry(distance: 0.1, poni1: 0.005, poni2: 0.006, rot1: 0.05, rot2: -0.03,
                                 pixel1: 1e-4, pixel2: 1e-4, wavelength: 1e-10, detector: shape)
        #expect(abs(h.twoTheta(row: 50, column: 60) - acos(cos(0.05) * cos(-0.03))) < 1e-12)
    }

    @Test func radialUnitsConvert() throws {
        let lambda = 0.7e-10
        for unit in RadialUnit.allCases {
            let x = try #require(unit.coordinate(ofD: 3.5, wavelength: lambda))
            #expect(abs(unit.dSpacing(of: x, wavelength: lambda) - 3.5) < 1e-12)
        }
        #expect(abs(RadialUnit.qInverseAngstrom.coordinate(ofD: 3.35, wavelength: lambda)! - 2 * Double.pi / 3.35) < 1e-12)
        #expect(abs(RadialUnit.qInverseNanometre.coordinate(ofD: 3.35, wavelength: lambda)! - 20 * Double.pi / 3.35) < 1e-12)
        // 2θ for d = 3.5 Å at 0.7 Å: sin θ = 0.1.
        #expect(abs(RadialUnit.twoThetaDegree.coordinate(ofD: 3.5, wavelength: lambda)! - 2 * asin(0.1) * 180 / Double.pi) < 1e-12)
        #expect(RadialUnit.twoThetaDegree.coordinate(ofD: 0.3, wavelength: lambda) == nil)
        #expect(RadialUnit.dAngstrom.value(twoTheta: 0, wavelength: lambda) == nil)
    }

    @Test func invalidGeometryIsRejected() {
        let g = DetectorGeometry(beamCentreRow: 0, beamCentreColumn: 0, distance: -1, pixelSize: 1e-4,
                                 wavelength: 1e-10, detector: shape)
        #expect(throws: STEMError.self) { try g.validate() }
        #expect(throws: STEMError.self) { _ = try AzimuthalIntegrator(geometry: g) }
    }
}

@Suite struct PONIFileTests {
    @Test func readsVersion1And2AndRoundTrips() throws {
        let v2 = """
        # Nota: C-Order, 1 refers to the Y axis, 2 to the X axis
        poni_version: 2
        Detector: Pilatus1M
        Detector_config: {"pixel1": 0.000172, "pixel2": 0.000172, "max_shape": [1043, 981]}
        Distance: 0.3
        Poni1: 0.09
        Poni2: 0.08
        Rot1: 0.01
        Rot2: -0.02
        Rot3: 0.0
        Wavelength: 2e-11
        """
        let g = try DetectorGeometry.parsePONI(v2)
        #expect(g.detector == DetectorShape(rows: 1043, columns: 981))
        #expect(g.pixel1 == 0.000172 && g.distance == 0.3 && g.rot2 == -0.02 && g.wavelength == 2e-11)
        #expect(try DetectorGeometry.parsePONI(g.poniText) == g)
        let v1 = "PixelSize1: 1e-4\nPixelSize2: 2e-4\nDistance: 0.1\nPoni1: 0.01\nPoni2: 0.02\nRot1: 0\nRot2: 0\nRot3: 0\nWavelength: 1e-10\n"
        let h = try DetectorGeometry.parsePONI(v1, detector: DetectorShape(rows: 10, columns: 20))
        #expect(h.pixel2 == 2e-4 && h.poni2 == 0.02)
        #expect(throws: STEMError.self) { _ = try DetectorGeometry.parsePONI(v1) }  // no detector shape
        #expect(throws: STEMError.self) { _ = try DetectorGeometry.parsePONI("Distance: x\n", detector: h.detector) }
        #expect(throws: STEMError.self) { _ = try DetectorGeometry.readPONI(path: "/nonexistent.poni") }
    }
}
