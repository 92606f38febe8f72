import Foundation
import Testing
import Crystallography

@Test func relativisticWavelengths() {
    #expect(abs(electronWavelength(voltage: 200_000) - 0.02508) < 0.000005)
    #expect(abs(electronWavelength(voltage: 300_000) - 0.01969) < 0.000005)
    #expect(abs(electronWavelength(voltage: 100_000) - 0.03701) < 0.000005)
}

@Test func fccZoneAxis001ShowsFourFoldZeroLayer() throws {
    let al = BuiltInPhase.aluminium.structure
    let list = ReflectionList(structure: al, gMax: 1.5)
    // Only allowed reflections are stored.
    #expect(list.hkl.allSatisfy { ($0.x & 1) == ($0.y & 1) && ($0.y & 1) == ($0.z & 1) })
    let o = Orientation.zoneAxis(al.cell.direction(0, 0, 1))
    let spots = list.spots(orientation: o, conditions: DiffractionConditions(voltage: 200_000, excitationErrorTolerance: 0.03))
    #expect(spots.allSatisfy { $0.hkl.z == 0 })   // zero-order Laue zone only
    let hk = Set(spots.map { SIMD2($0.hkl.x, $0.hkl.y) })
    for expected in [SIMD2<Int32>(2, 0), SIMD2(0, 2), SIMD2(-2, 0), SIMD2(0, -2), SIMD2(2, 2), SIMD2(-2, 2), SIMD2(4, 0)] {
        #expect(hk.contains(expected))
    }
    for s in spots {
        // Radius = 1/d and the pattern is invariant under 90° rotation.
        let r = (s.gx * s.gx + s.gy * s.gy).squareRoot()
        #expect(abs(r - 1 / al.cell.dSpacing(Int(s.hkl.x), Int(s.hkl.y), 0)) < 1e-9)
        #expect(spots.contains { abs($0.gx + s.gy) < 1e-9 && abs($0.gy - s.gx) < 1e-9 && abs($0.intensity - s.intensity) < 1e-9 * s.intensity })
        // Exact zone axis: s_g = −g²/2k, intensity = |F|² × Lorentzian.
        let k = 1 / electronWavelength(voltage: 200_000)
        #expect(abs(s.excitationError + r * r / (2 * k)) < 1e-12)
    }
    // Precession brings in more reflections (higher-order zones), never fewer.
    let precessed = list.spots(orientation: o, conditions: DiffractionConditions(excitationErrorTolerance: 0.03,
                                                                                   precessionAngle: 1 * .pi / 180))
    #expect(precessed.count >= spots.count)
}

@Test func calibrationMapsAndInvertsWithEllipticity() {
    let cal = DetectorCalibration(reciprocalPixelSize: 0.02, centreX: 63.5, centreY: 60, ellipticity: 0.05, ellipseAngle: 0.3)
    let p = cal.pixel(gx: 0.5, gy: -0.2)
    let g = cal.reciprocal(x: p.x, y: p.y)
    #expect(abs(g.gx - 0.5) < 1e-12 && abs(g.gy + 0.2) < 1e-12)
    // Along the ellipse axis the scale is (1 + ε)/Δ, across it 1/Δ.
    let along = cal.pixelOffset(gx: 0.2 * cos(0.3), gy: 0.2 * sin(0.3))
    #expect(abs((along.dx * along.dx + along.dy * along.dy).squareRoot() - 10 * 1.05) < 1e-9)
    let across = cal.pixelOffset(gx: -0.2 * sin(0.3), gy: 0.2 * cos(0.3))
    #expect(abs((across.dx * across.dx + across.dy * across.dy).squareRoot() - 10) < 1e-9)
}
