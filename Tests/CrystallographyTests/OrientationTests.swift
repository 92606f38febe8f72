import Foundation
import Testing
import Crystallography

private func bunge(_ e: EulerAngles) -> Matrix3 {
    let c1 = cos(e.phi1), s1 = sin(e.phi1), c = cos(e.Phi), s = sin(e.Phi), c2 = cos(e.phi2), s2 = sin(e.phi2)
    return Matrix3(rows: Vector3(c1 * c2 - s1 * s2 * c, s1 * c2 + c1 * s2 * c, s2 * s),
                   Vector3(-c1 * s2 - s1 * c2 * c, -s1 * s2 + c1 * c2 * c, c2 * s),
                   Vector3(s1 * s, -c1 * s, c))
}

private func randomQuaternion(_ g: inout SystemRandomNumberGenerator) -> Quaternion {
    Quaternion(w: Double.random(in: -1 ... 1, using: &g), x: Double.random(in: -1 ... 1, using: &g),
               y: Double.random(in: -1 ... 1, using: &g), z: Double.random(in: -1 ... 1, using: &g)).normalized
}

@Test func eulerQuaternionMatrixRoundTrips() throws {
    var g = SystemRandomNumberGenerator()
    for _ in 0 ..< 200 {
        let e = EulerAngles(phi1: .random(in: 0 ..< 2 * .pi, using: &g), Phi: .random(in: 0.01 ... 3.13, using: &g),
                            phi2: .random(in: 0 ..< 2 * .pi, using: &g))
        let o = Orientation(euler: e)
        // The quaternion's matrix is the passive Bunge matrix.
        let m = o.matrix, b = bunge(e)
        for i in 0 ..< 3 { for j in 0 ..< 3 { #expect(abs(m[i, j] - b[i, j]) < 1e-12) } }
        let back = o.euler
        #expect(abs(back.phi1 - e.phi1) < 1e-9 && abs(back.Phi - e.Phi) < 1e-9 && abs(back.phi2 - e.phi2) < 1e-9)
        let fromMatrix = Orientation(matrix: m)
        #expect(fromMatrix.quaternion.absDot(o.quaternion) > 1 - 1e-13)
        // Composition and inverse.
        let p = Orientation(quaternion: randomQuaternion(&g))
        #expect((o * o.inverse).quaternion.angle < 1e-9)
        let composed = (p * o).matrix, product = p.matrix * o.matrix
        for i in 0 ..< 3 { for j in 0 ..< 3 { #expect(abs(composed[i, j] - product[i, j]) < 1e-12) } }
    }
    // orix's documented example: Euler (90°, 0, 0) ↔ q = (cos 45°, 0, 0, −sin 45°); sample x is crystal −y.
    let o = Orientation(euler: EulerAngles(degrees: 90, 0, 0))
    #expect(abs(o.quaternion.w - 0.5.squareRoot()) < 1e-12 && abs(o.quaternion.z + 0.5.squareRoot()) < 1e-12)
    let v = o.toCrystal(Vector3(1, 0, 0))
    #expect(abs(v.y + 1) < 1e-12)
    // Degenerate Φ = 0: φ1 + φ2 is kept.
    let d = Orientation(euler: EulerAngles(degrees: 30, 0, 20)).euler.degrees
    #expect(abs(d.0 - 50) < 1e-9 && abs(d.1) < 1e-9 && abs(d.2) < 1e-9)
}

@Test func properPointGroupsAreClosedWithTheirOrders() {
    for kind in ProperPointGroup.allCases {
        let g = PointGroup(kind)
        #expect(g.order == kind.order, "\(kind.rawValue): \(g.order)")
        for a in g.rotations { for b in g.rotations {
            let p = a * b
            #expect(g.rotations.contains { $0.absDot(p) > 1 - 1e-9 })
        } }
    }
}

@Test func equivalentOrientationsHaveZeroDisorientation() {
    var rng = SystemRandomNumberGenerator()
    for kind in ProperPointGroup.allCases {
        let group = PointGroup(kind)
        for _ in 0 ..< 10 {
            let o = Orientation(quaternion: randomQuaternion(&rng))
            for e in o.equivalents(under: group) {
                #expect(o.disorientationAngle(to: e, symmetry: group) < 1e-6)
                #expect(e.disorientationAngle(to: o, symmetry: group) < 1e-6)
            }
            // A non-symmetry rotation about z of 10° is a 10° disorientation in every group (no group has 10°).
            let turned = Orientation(quaternion: Quaternion(axis: Vector3(0, 0, 1), angle: 10 * .pi / 180) * o.quaternion)
            #expect(abs(o.disorientationAngle(to: turned, symmetry: group) - 10 * .pi / 180) < 1e-9)
        }
    }
    // Cubic: 90° about z is a symmetry; 45° about z is the largest about ⟨100⟩; no disorientation exceeds 62.8°.
    let cubic = PointGroup(.o)
    let o = Orientation.identity
    #expect(o.disorientationAngle(to: Orientation(quaternion: Quaternion(axis: Vector3(0, 0, 1), angle: .pi / 2)), symmetry: cubic) < 1e-9)
    #expect(abs(o.disorientationAngle(to: Orientation(quaternion: Quaternion(axis: Vector3(0, 0, 1), angle: .pi / 4)), symmetry: cubic) - .pi / 4) < 1e-9)
    var largest = 0.0
    for _ in 0 ..< 2000 { largest = max(largest, o.disorientationAngle(to: Orientation(quaternion: randomQuaternion(&rng)), symmetry: cubic)) }
    #expect(largest < 62.81 * .pi / 180 && largest > 55 * .pi / 180)
}

@Test func laueRotationsOfSpaceGroupsMatchTheStandardGroups() throws {
    // The rotations derived from the space-group operations equal the standard point-group sets.
    let pairs: [(BuiltInPhase, ProperPointGroup)] = [(.aluminium, .o), (.silicon, .o), (.ironAlpha, .o),
                                                     (.lithiumIronPhosphate, .d2), (.graphite, .d6)]
    for (phase, kind) in pairs {
        let derived = phase.structure.pointGroup, standard = PointGroup(kind)
        #expect(derived.order == standard.order)
        for q in standard.rotations { #expect(derived.rotations.contains { $0.absDot(q) > 1 - 1e-9 }, "\(phase.rawValue)") }
    }
}

@Test func zoneAxisOrientationPutsTheDirectionAlongTheBeam() throws {
    let cell = try UnitCell.hexagonal(a: 2.464, c: 6.711)
    for uvw in [(0.0, 0.0, 1.0), (1.0, 0.0, 0.0), (1.0, 1.0, 0.0), (2.0, -1.0, 3.0)] {
        let d = normalized(cell.direction(uvw.0, uvw.1, uvw.2))
        for inPlane in [0.0, 0.7, 2.0] {
            let o = Orientation.zoneAxis(d, inPlane: inPlane)
            let beam = o.beamDirectionInCrystal
            #expect(length(beam - d) < 1e-12)
            // In-plane rotation turns a perpendicular crystal direction by +inPlane about the beam in the sample frame.
            let ref = o.toSample(normalized(cross(d, Vector3(0.3, 0.1, 0.9))))
            let ref0 = Orientation.zoneAxis(d).toSample(normalized(cross(d, Vector3(0.3, 0.1, 0.9))))
            let turn = atan2(ref.y, ref.x) - atan2(ref0.y, ref0.x)
            #expect(abs(remainder(turn - inPlane, 2 * .pi)) < 1e-9)
        }
    }
}
