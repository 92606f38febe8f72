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
    // Nonsense voltages give no spots rather than NaN intensities.
    for v in [0.0, -200_000, .nan] {
        #expect(list.spots(orientation: o, conditions: DiffractionConditions(voltage: v)).isEmpty)
    }
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

@Test func inPlaneRotationRotatesTheSpots() throws {
    let si = BuiltInPhase.silicon.structure
    let list = ReflectionList(structure: si, gMax: 1.6)
    let conditions = DiffractionConditions(excitationErrorTolerance: 0.04, precessionAngle: 0.5 * .pi / 180, precessionSteps: 12)
    for uvw in [(1.0, 1.0, 0.0), (1.0, 1.0, 2.0), (0.0, 1.0, 3.0)] {
        let d = si.cell.direction(uvw.0, uvw.1, uvw.2)
        let base = list.spots(orientation: .zoneAxis(d), conditions: conditions)
        #expect(base.count >= 6)
        for psi in [0.4, 2.5, -1.0] {
            let turned = list.spots(orientation: .zoneAxis(d, inPlane: psi), conditions: conditions)
            #expect(turned.count == base.count)
            for s in base {
                let x = cos(psi) * s.gx - sin(psi) * s.gy, y = sin(psi) * s.gx + cos(psi) * s.gy
                let match = turned.first { $0.hkl == s.hkl }
                #expect(match != nil && abs(match!.gx - x) < 1e-9 && abs(match!.gy - y) < 1e-9)
                #expect(match.map { abs($0.intensity - s.intensity) <= 1e-9 * s.intensity } ?? false)
            }
        }
    }
}

@Test func precessionAveragesTheProfileOverTheCone() throws {
    // Reference: the profile averaged over 3600 azimuths of the tilted beam, computed here from the Ewald-sphere
    // geometry; the library uses 24 azimuths.
    let al = BuiltInPhase.aluminium.structure
    let list = ReflectionList(structure: al, gMax: 1.6)
    let phi = 1.0 * .pi / 180, w = 0.01
    let conditions = DiffractionConditions(excitationErrorTolerance: 0.05, profile: .lorentzian(halfWidth: w),
                                           precessionAngle: phi, precessionSteps: 24)
    let o = Orientation.zoneAxis(al.cell.direction(0, 1, 1), inPlane: 0.2)
    let spots = list.spots(orientation: o, conditions: conditions)
    let k = 1 / electronWavelength(voltage: 200_000)
    var checked = 0
    for spot in spots {
        let g = al.cell.reciprocalVector(Double(spot.hkl.x), Double(spot.hkl.y), Double(spot.hkl.z))
        let gs = o.toSample(g)
        var mean = 0.0
        for i in 0 ..< 3600 {
            let t = 2 * Double.pi * Double(i) / 3600
            let kh = Vector3(sin(phi) * cos(t), sin(phi) * sin(t), cos(phi))
            let s = -dot(kh, gs) - dot(gs, gs) / (2 * k)
            mean += 1 / (1 + (s / w) * (s / w))
        }
        mean /= 3600
        let expected = al.intensity(Int(spot.hkl.x), Int(spot.hkl.y), Int(spot.hkl.z)) * mean
        #expect(abs(spot.intensity / expected - 1) < 0.005, "\(spot.hkl): \(spot.intensity) vs \(expected)")
        checked += 1
    }
    #expect(checked >= 20)
    // With a tight tolerance, the outer zero-layer reflections (s = −g²/2k beyond it) appear only with precession,
    // which sweeps s over ±sin φ |g|.
    let tight = DiffractionConditions(excitationErrorTolerance: 0.008)
    var precessing = tight
    precessing.precessionAngle = phi
    let exact = Orientation.zoneAxis(al.cell.direction(0, 1, 1))
    let still = list.spots(orientation: exact, conditions: tight), swept = list.spots(orientation: exact, conditions: precessing)
    #expect(still.allSatisfy { abs($0.excitationError) <= 0.008 })
    #expect(swept.contains { abs($0.excitationError) > 0.008 } && swept.count > still.count)
}
