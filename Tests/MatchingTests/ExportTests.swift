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
