import Foundation
import Testing
import Crystallography

private func randomOrientation(_ g: inout SystemRandomNumberGenerator) -> Orientation {
    // Shoemake's uniform rotation.
    let u1 = Double.random(in: 0 ..< 1, using: &g), u2 = Double.random(in: 0 ..< 1, using: &g), u3 = Double.random(in: 0 ..< 1, using: &g)
    let a = (1 - u1).squareRoot(), b = u1.squareRoot()
    return Orientation(quaternion: Quaternion(w: a * sin(2 * .pi * u2), x: a * cos(2 * .pi * u2), y: b * sin(2 * .pi * u3), z: b * cos(2 * .pi * u3)))
}

/// Largest |w| of s · q over the group: cos(θ/2) of the disorientation of q.
private func bestCos(_ q: Quaternion, _ group: [Quaternion]) -> Double {
    var best = 0.0
    for s in group { best = max(best, abs(s.w * q.w - s.x * q.x - s.y * q.y - s.z * q.z)) }
    return best
}

@Test(arguments: ProperPointGroup.allCases)
func properSamplingIsUniqueAndCoversSO3ModuloG(kind: ProperPointGroup) throws {
    let group = PointGroup(kind)
    let step = 12 * Double.pi / 180
    let sampling = try OrientationSampling(pointGroup: group, step: step, sector: .properSector)
    let samples = sampling.orientations().map(\.quaternion)
    // Unique up to symmetry: every pair is at least step/2 apart (disorientation).
    var closest = Double.pi
    let minCos = cos(0.3 * step / 2)
    var tooClose = 0
    for i in 0 ..< samples.count {
        for j in (i + 1) ..< samples.count {
            let c = bestCos(samples[j] * samples[i].conjugate, group.rotations)
            if c > minCos { tooClose += 1; closest = min(closest, 2 * acos(min(1, c))) }
        }
    }
    #expect(tooClose == 0, "\(kind.rawValue): \(tooClose) pairs closer than 0.45 step (closest \(closest * 180 / .pi)°)")
    // Coverage: random orientations are within one step of a sample.
    var rng = SystemRandomNumberGenerator()
    var worst = 0.0
    for _ in 0 ..< 300 {
        let o = randomOrientation(&rng).quaternion
        var best = 0.0
        for s in samples { best = max(best, bestCos(o * s.conjugate, group.rotations)) }
        worst = max(worst, 2 * acos(min(1, best)))
    }
    print("\(kind.rawValue): \(samples.count) samples, worst coverage \(worst * 180 / .pi)°")
    #expect(worst < step, "\(kind.rawValue): a random orientation is \(worst * 180 / .pi)° from every sample (step 12°)")
    // Size: the sampled volume scales as 1/|G| (SO(3) at 12° has about 8π²/δ³ · (something) samples).
    let triclinic = try OrientationSampling(pointGroup: PointGroup(.c1), step: step, sector: .properSector).orientationCount
    let ratio = Double(triclinic) / Double(samples.count * group.order)
    #expect(ratio > 0.8 && ratio < 1.25, "\(kind.rawValue): \(samples.count) samples × |G| = \(group.order) vs \(triclinic) for 1")
}

@Test func laueTrianglesAreTheStandardOnes() throws {
    let degree = Double.pi / 180
    let cubic = try OrientationSampling(pointGroup: PointGroup(.o), step: 1 * degree)
    // [001]–[101]–[111]: z ≥ x ≥ y ≥ 0; the area is 4π/48, so about 4π/48/δ² directions.
    #expect(cubic.directions.allSatisfy { let d = $0.direction; return d.z >= d.x - 1e-9 && d.x >= d.y - 1e-9 && d.y >= -1e-9 })
    let expected = 4 * Double.pi / 48 / (degree * degree)
    #expect(abs(Double(cubic.directions.count) / expected - 1) < 0.15, "\(cubic.directions.count) vs \(expected)")
    #expect(cubic.directions.contains { $0.direction == Vector3(0, 0, 1) && $0.axisOrder == 4 })
    // 6/mmm: z ≥ 0 and 0 ≤ φ ≤ 30°.
    let hex = try OrientationSampling(pointGroup: PointGroup(.d6), step: 2 * degree)
    #expect(hex.directions.allSatisfy {
        let d = $0.direction, phi = atan2(d.y, d.x)
        return d.z >= -1e-9 && phi >= -1e-9 && phi <= 30 * degree + 1e-9
    })
    #expect(hex.directions.first { $0.direction.z == 1 }?.axisOrder == 6)
    // In-plane angles of the [001] sample cover one period of the 4-fold axis.
    let pole = try #require(cubic.directions.first { $0.axisOrder == 4 })
    let psi = cubic.inPlaneAngles(for: pole)
    #expect(psi.count == 90 && abs(psi[1] - degree) < 1e-12)
    #expect(throws: CrystallographyError.self) { try OrientationSampling(pointGroup: PointGroup(.o), step: 0) }
}

@Test func directionsAndOrientationsReduceIntoTheFundamentalRegions() throws {
    var rng = SystemRandomNumberGenerator()
    let cubic = PointGroup(.o), hexagonal = PointGroup(.d6)
    for _ in 0 ..< 500 {
        let v = normalized(Vector3(Double.random(in: -1 ... 1, using: &rng), Double.random(in: -1 ... 1, using: &rng),
                                   Double.random(in: -1 ... 1, using: &rng)))
        let t = cubic.standardTriangleDirection(v)
        #expect(t.z >= t.x - 1e-12 && t.x >= t.y - 1e-12 && t.y >= -1e-12)
        // Same direction up to a rotation of the group and the inversion: |components| sorted agree.
        let a = [abs(v.x), abs(v.y), abs(v.z)].sorted(), b = [abs(t.x), abs(t.y), abs(t.z)].sorted()
        #expect(zip(a, b).allSatisfy { abs($0 - $1) < 1e-12 })
        let h = hexagonal.standardTriangleDirection(v)
        let phi = atan2(h.y, h.x)
        #expect(h.z >= -1e-12 && phi >= -1e-12 && phi <= .pi / 6 + 1e-12 && abs(abs(h.z) - abs(v.z)) < 1e-12)

        let o = randomOrientation(&rng)
        for group in [cubic, hexagonal, PointGroup(.d2)] {
            let r = o.reduced(to: group)
            #expect(r.disorientationAngle(to: o, symmetry: group) < 1e-7)
            #expect(o.equivalents(under: group).allSatisfy { $0.quaternion.angle >= r.quaternion.angle - 1e-12 })
        }
    }
}

@Test func standardTriangleCornersAndIPFColours() throws {
    let s3 = 3.0.squareRoot(), s2 = 2.0.squareRoot()
    func close(_ a: Vector3, _ b: Vector3) -> Bool { length(a - b) < 1e-9 }
    let cubic = try #require(PointGroup(.o).standardTriangleCorners)
    #expect(close(cubic.0, Vector3(0, 0, 1)) && close(cubic.1, Vector3(1 / s2, 0, 1 / s2)) && close(cubic.2, Vector3(1 / s3, 1 / s3, 1 / s3)))
    let hex = try #require(PointGroup(.d6).standardTriangleCorners)
    #expect(close(hex.0, Vector3(0, 0, 1)) && close(hex.1, Vector3(1, 0, 0)) && close(hex.2, Vector3(s3 / 2, 0.5, 0)))
    let tet = try #require(PointGroup(.d4).standardTriangleCorners)
    #expect(close(tet.0, Vector3(0, 0, 1)) && close(tet.1, Vector3(1, 0, 0)) && close(tet.2, Vector3(1 / s2, 1 / s2, 0)))
    #expect(PointGroup(.d2).standardTriangleCorners != nil && PointGroup(.d3).standardTriangleCorners != nil)
    for kind in [ProperPointGroup.c1, .c2, .c4, .c3, .c6, .t] { #expect(PointGroup(kind).standardTriangleCorners == nil) }
    // Corners get pure colours, equivalent directions the same colour, and [112] (between [001] and [111]) no green.
    let o = PointGroup(.o)
    let red = try #require(o.inversePoleFigureColor(Vector3(0, 0, -3)))
    let green = try #require(o.inversePoleFigureColor(Vector3(0, 1, 1)))
    let blue = try #require(o.inversePoleFigureColor(Vector3(-1, 1, -1)))
    #expect(red == (1, 0, 0) || (abs(red.red - 1) < 1e-9 && red.green < 1e-9 && red.blue < 1e-9))
    #expect(abs(green.green - 1) < 1e-9 && green.red < 1e-9 && green.blue < 1e-9)
    #expect(abs(blue.blue - 1) < 1e-9 && blue.red < 1e-9 && blue.green < 1e-9)
    let c112 = try #require(o.inversePoleFigureColor(Vector3(1, 1, 2)))
    #expect(c112.green < 1e-9 && c112.red > 0.3 && c112.blue > 0.3)
    var rng = SystemRandomNumberGenerator()
    for _ in 0 ..< 100 {
        let v = Vector3(Double.random(in: -1 ... 1, using: &rng), Double.random(in: -1 ... 1, using: &rng), Double.random(in: -1 ... 1, using: &rng))
        let a = try #require(o.inversePoleFigureColor(v))
        for s in o.rotations {
            let b = try #require(o.inversePoleFigureColor(-s.rotate(v)))
            #expect(abs(a.red - b.red) < 1e-9 && abs(a.green - b.green) < 1e-9 && abs(a.blue - b.blue) < 1e-9)
        }
        #expect(max(a.red, a.green, a.blue) == 1 && min(a.red, a.green, a.blue) >= 0)
    }
}
