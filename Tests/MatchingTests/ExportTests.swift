import Crystallography
import Foundation
import Matching
import STEMCore
import Testing

@Suite struct ExportTests {
    @Test func cubicIPFCornersAndSymmetry() {
        let red = InversePoleFigure.colour(crystalDirection: Vector3(0, 0, 1), system: .cubic)
        let green = InversePoleFigure.colour(crystalDirection: Vector3(1, 0, 1), system: .cubic)
        let blue = InversePoleFigure.colour(crystalDirection: Vector3(1, 1, 1), system: .cubic)
        #expect(red == (1, 0, 0))
        #expect(abs(green.0) < 1e-6 && abs(green.1 - 1) < 1e-6 && abs(green.2) < 1e-6)
        #expect(abs(blue.0) < 1e-6 && abs(blue.1) < 1e-6 && abs(blue.2 - 1) < 1e-6)
        // Symmetry-equivalent orientations get the same colour.
        let o = Orientation(euler: EulerAngles(degrees: 23, 41, 67))
        let c0 = InversePoleFigure.colour(o, system: .cubic)
        for e in o.equivalents(under: PointGroup(.o)) {
            let c = InversePoleFigure.colour(e, system: .cubic)
            #expect(abs(c.0 - c0.0) < 1e-5 && abs(c.1 - c0.1) < 1e-5 && abs(c.2 - c0.2) < 1e-5)
        }
        // Hexagonal corners.
        let h0 = InversePoleFigure.colour(crystalDirection: Vector3(0, 0, 1), system: .hexagonal)
        let h1 = InversePoleFigure.colour(crystalDirection: Vector3(1, 0, 0), system: .hexagonal)
        #expect(h0 == (1, 0, 0) && h1 == (0, 1, 0))
        for e in o.equivalents(under: PointGroup(.d6)) {
            let c = InversePoleFigure.colour(e, system: .hexagonal), c1 = InversePoleFigure.colour(o, system: .hexagonal)
            #expect(abs(c.0 - c1.0) < 1e-5 && abs(c.1 - c1.1) < 1e-5 && abs(c.2 - c1.2) < 1e-5)
        }
    }

    @Test func ipfKeyHasTheTriangleAndWhiteOutside() {
        let key = InversePoleFigure.key(system: .cubic, width: 200)
        #expect(key.colours.count == key.width * key.height)
        // Bottom-left corner is [001] (red), top-left is outside the triangle (white).
        let bottomLeft = key.colours[(key.height - 1) * key.width]
        #expect(bottomLeft.0 > 0.95 && bottomLeft.1 < 0.1 && bottomLeft.2 < 0.1)
        let topLeft = key.colours[0]
        #expect(topLeft == (1, 1, 1))
        let coloured = key.colours.filter { !($0 == (1, 1, 1)) }.count
        #expect(coloured > key.colours.count / 4)
    }

    @Test func angFileHasTheTSLLayout() throws {
        let phases = [BuiltInPhase.aluminium.structure, BuiltInPhase.copper.structure].map(TemplatePhase.init)
        let scan = ScanGrid(rows: 2, columns: 3)
        var results: [MatchResult] = []
        for i in 0 ..< 6 {
            let o = Orientation(euler: EulerAngles(degrees: Double(10 * i), 30, 50))
            results.append(MatchResult(phase: i % 2, orientation: o, correlation: 0.5, reliability: 40, phaseReliability: 20,
                                       candidates: [], centreX: 0, centreY: 0))
        }
        results[4] = .notIndexed(centreX: 0, centreY: 0)
        let text = try AngWriter.text(results: results, scan: scan, stepX: 0.5, stepY: 0.25, phases: phases)
        let lines = text.split(separator: "\n")
        #expect(lines.contains("# Phase 1") && lines.contains("# Phase 2"))
        #expect(lines.filter { $0.hasPrefix("# Symmetry") }.allSatisfy { $0.hasSuffix(" 43") })
        #expect(lines.contains("# GRID: SqrGrid") && lines.contains("# NROWS: 2") && lines.contains("# NCOLS_ODD: 3"))
        let body = lines.filter { !$0.hasPrefix("#") }
        #expect(body.count == 6)
        let cols = body.map { $0.split(separator: " ").compactMap { Double($0) } }
        #expect(cols.allSatisfy { $0.count == 10 })
        #expect(abs(cols[1][0] - 10 * .pi / 180) < 1e-5 && abs(cols[1][1] - 30 * .pi / 180) < 1e-5)
        #expect(cols[1][3] == 0.5 && cols[3][4] == 0.25)         // x = column × XSTEP, y = row × YSTEP
        #expect(cols[1][7] == 2 && cols[0][7] == 1)              // 1-based phase ids
        #expect(cols[4][6] == -1 && cols[4][7] == 0 && abs(cols[4][0] - 4 * .pi) < 1e-4)   // not indexed
        #expect(throws: STEMError.self) { try AngWriter.text(results: results, scan: ScanGrid(rows: 1, columns: 2), phases: phases) }
    }
}

/// Writes a two-phase `.ang` map with known random orientations and phases, plus the expected values as CSV
/// (scan index, phase id, quaternion w x y z). The orix oracle (`scripts/oracles/matching-orix.sh`) sets
/// STEMRUN_ANG_ORACLE_DIR and reads both; without it the files go to a temporary folder and are checked here.
@Suite struct AngOracleExport {
    @Test func writeKnownOrientationMap() throws {
        let dir = ProcessInfo.processInfo.environment["STEMRUN_ANG_ORACLE_DIR"]
            ?? NSTemporaryDirectory() + "stemrun-ang-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let phases = [BuiltInPhase.aluminium.structure, BuiltInPhase.copper.structure].map(TemplatePhase.init)
        let scan = ScanGrid(rows: 7, columns: 9)
        var generator = SplitMix(seed: 2024)
        var results: [MatchResult] = []
        var csv = "index,phase_id,w,x,y,z\n"
        for i in 0 ..< scan.count {
            // Uniform random rotation (Shoemake).
            let u1 = generator.next(), u2 = generator.next(), u3 = generator.next()
            let a = (1 - u1).squareRoot(), b = u1.squareRoot()
            let q = Quaternion(w: a * sin(2 * .pi * u2), x: a * cos(2 * .pi * u2), y: b * sin(2 * .pi * u3), z: b * cos(2 * .pi * u3))
            let o = Orientation(quaternion: q)
            let phase = i % 11 == 5 ? -1 : (i % 3 == 0 ? 1 : 0)
            results.append(phase < 0 ? .notIndexed(centreX: 0, centreY: 0)
                : MatchResult(phase: phase, orientation: o, correlation: 0.4, reliability: 30, phaseReliability: 50,
                              candidates: [], centreX: 0, centreY: 0))
            let p = o.quaternion
            csv += "\(i),\(phase < 0 ? -1 : phase + 1),\(p.w),\(p.x),\(p.y),\(p.z)\n"
        }
        let angPath = dir + "/known.ang"
        try AngWriter.write(results: results, scan: scan, stepX: 0.5, stepY: 0.5, phases: phases, to: angPath)
        try csv.write(toFile: dir + "/known.csv", atomically: true, encoding: .utf8)
        // Read back the Euler angles written and compare with the orientations (5 decimals ⇒ < 0.002°).
        let body = try String(contentsOfFile: angPath, encoding: .utf8).split(separator: "\n").filter { !$0.hasPrefix("#") }
        #expect(body.count == scan.count)
        for (i, line) in body.enumerated() where results[i].isIndexed {
            let v = line.split(separator: " ").compactMap { Double($0) }
            let back = Orientation(euler: EulerAngles(phi1: v[0], Phi: v[1], phi2: v[2]))
            #expect(back.quaternion.angle(to: results[i].orientation.quaternion) * 180 / .pi < 0.002)
        }
    }
}

/// SplitMix64 as uniform doubles in [0, 1), for reproducible test data.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> Double {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return Double(z >> 11) / Double(1 << 53)
    }
}

@Suite struct IPFAgreementTests {
    /// The crystal-system scheme and the Crystallography target's holohedral key give the same colours.
    @Test func systemSchemeAgreesWithCrystallographyKey() {
        var g = SplitMix(seed: 5)
        for (system, group) in [(CrystalSystem.cubic, PointGroup(.o)), (.hexagonal, PointGroup(.d6)), (.tetragonal, PointGroup(.d4)),
                                (.orthorhombic, PointGroup(.d2))] {
            for _ in 0 ..< 50 {
                let o = Orientation(euler: EulerAngles(phi1: 6.28 * g.next(), Phi: 3.14 * g.next(), phi2: 6.28 * g.next()))
                let a = InversePoleFigure.colour(o, system: system)
                let d = o.toCrystal(Vector3(0, 0, 1))
                let c = group.inversePoleFigureColor(d)!
                let b = (Float(c.red), Float(c.green), Float(c.blue))
                #expect(abs(a.0 - b.0) < 0.02 && abs(a.1 - b.1) < 0.02 && abs(a.2 - b.2) < 0.02, "\(system): \(a) vs \(b)")
            }
        }
    }
}
