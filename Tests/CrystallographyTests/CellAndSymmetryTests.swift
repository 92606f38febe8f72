import Foundation
import Testing
import Crystallography

@Test func cubicAndHexagonalSpacings() throws {
    let cubic = try UnitCell.cubic(4.0)
    #expect(abs(cubic.dSpacing(1, 1, 1) - 4 / 3.0.squareRoot()) < 1e-12)
    #expect(abs(cubic.dSpacing(2, 0, 0) - 2) < 1e-12)
    #expect(abs(cubic.volume - 64) < 1e-9)
    let hex = try UnitCell.hexagonal(a: 2.464, c: 6.711)
    // d(100) = a √3 / 2, d(002) = c / 2; V = √3/2 a² c.
    #expect(abs(hex.dSpacing(1, 0, 0) - 2.464 * 3.0.squareRoot() / 2) < 1e-10)
    #expect(abs(hex.dSpacing(0, 0, 2) - 6.711 / 2) < 1e-10)
    #expect(abs(hex.volume - 3.0.squareRoot() / 2 * 2.464 * 2.464 * 6.711) < 1e-9)
    // The reciprocal basis is dual to the direct one, and G* = G⁻¹.
    let tri = try UnitCell(a: 5.1, b: 6.3, c: 7.2, alpha: 81, beta: 97, gamma: 104)
    let product = tri.directBasis.transposed * tri.reciprocalBasis
    let metric = tri.directMetric * tri.reciprocalMetric
    for i in 0 ..< 3 {
        for j in 0 ..< 3 {
            #expect(abs(product[i, j] - (i == j ? 1 : 0)) < 1e-12)
            #expect(abs(metric[i, j] - (i == j ? 1 : 0)) < 1e-12)
        }
    }
    // Triclinic d-spacing against the textbook formula 1/d² = h G* h.
    let g = tri.reciprocalMetric
    let h = Vector3(1, -2, 3)
    #expect(abs(tri.inverseDSquared(1, -2, 3) - dot(h, g * h)) < 1e-12)
    #expect(throws: CrystallographyError.self) { try UnitCell(a: 1, b: 1, c: 1, alpha: 120, beta: 120, gamma: 120) }
    #expect(throws: CrystallographyError.self) { try UnitCell(a: -1, b: 1, c: 1) }
}

@Test func symmetryOperationsParseAndPrint() throws {
    let op = try SymmetryOperation(parsing: " -y+1/2, X-Y , z+0.25 ")
    #expect(op.rotation == [0, -1, 0, 1, -1, 0, 0, 0, 1])
    #expect(op.translation == Vector3(0.5, 0, 0.25))
    #expect(op.description == "-y+1/2,x-y,z+1/4")
    #expect(try SymmetryOperation(parsing: "1/2+x,1/2-y,-z").translation == Vector3(0.5, 0.5, 0))
    #expect(try SymmetryOperation(parsing: "x,y,z+0.3333").translation24 == SIMD3(0, 0, 8))
    let p = op.apply(Vector3(0.1, 0.2, 0.3))
    #expect(abs(p.x - 0.3) < 1e-12 && abs(p.y - (-0.1)) < 1e-12 && abs(p.z - 0.55) < 1e-12)
    for bad in ["x,y", "x,y,q", "x,y,z+0.3", "2x,y,z", "x,x,z", "x,y,-"] {
        #expect(throws: CrystallographyError.self, "\(bad)") { try SymmetryOperation(parsing: bad) }
    }
}

@Test func builtInSpaceGroupsHaveTheirOrders() throws {
    let orders = [1: 1, 2: 2, 14: 4, 15: 8, 62: 8, 63: 16, 123: 16, 136: 16, 139: 32, 141: 32, 164: 12, 166: 36, 167: 36,
                  186: 12, 191: 24, 194: 24, 216: 96, 221: 48, 225: 192, 227: 192, 229: 96, 230: 96]
    #expect(Set(SpaceGroup.builtInNumbers) == Set(orders.keys))
    for (n, order) in orders {
        let g = try SpaceGroup(number: n)
        #expect(g.operations.count == order, "No. \(n) \(g.symbol): \(g.operations.count) operations")
    }
    #expect(try SpaceGroup(symbol: "P 63/m m c").number == 194)
    #expect(try SpaceGroup(symbol: "F d -3 m").number == 227)
    #expect(try SpaceGroup(symbol: "Pnma").operations.count == 8)
    #expect(throws: CrystallographyError.self) { try SpaceGroup(symbol: "P 42/n b c") }
    // Generators whose closure exceeds the 192 operations of the largest space group (here 24 x 24 pure
    // translations) are rejected.
    #expect(throws: CrystallographyError.self) {
        try SpaceGroup(operations: [try SymmetryOperation(parsing: "x+1/24,y,z"), try SymmetryOperation(parsing: "x,y+1/24,z")])
    }
}

@Test func builtInPhasesExpandToTheFullCell() throws {
    let counts: [BuiltInPhase: Int] = [.aluminium: 4, .copper: 4, .gold: 4, .silicon: 8, .ironAlpha: 2,
                                       .lithiumIronPhosphate: 28, .graphite: 4]
    for (phase, n) in counts {
        #expect(phase.structure.atoms.count == n, "\(phase.rawValue): \(phase.structure.atoms.count) atoms")
    }
    // Diamond: nearest neighbours at a√3/4, four of them.
    let si = BuiltInPhase.silicon.structure
    let bonds = neighbourDistances(si, of: 0).filter { $0 < 2.5 }
    #expect(bonds.count == 4 && bonds.allSatisfy { abs($0 - 5.4309 * 3.0.squareRoot() / 4) < 1e-6 })
    // Graphite: three in-plane C–C bonds of a/√3 = 1.4226 Å.
    let c = BuiltInPhase.graphite.structure
    let cc = neighbourDistances(c, of: 0).filter { $0 < 1.6 }
    #expect(cc.count == 3 && cc.allSatisfy { abs($0 - 2.464 / 3.0.squareRoot()) < 1e-6 })
    // LiFePO4: PO4 tetrahedra with P–O ≈ 1.52–1.56 Å, FeO6 octahedra with Fe–O 2.0–2.3 Å.
    let lfp = BuiltInPhase.lithiumIronPhosphate.structure
    for (i, atom) in lfp.atoms.enumerated() where atom.element == "P" {
        let po = neighbourDistances(lfp, of: i, element: "O").filter { $0 < 2.0 }
        #expect(po.count == 4 && po.allSatisfy { $0 > 1.50 && $0 < 1.58 }, "P–O \(po)")
    }
    for (i, atom) in lfp.atoms.enumerated() where atom.element == "Fe" {
        let feo = neighbourDistances(lfp, of: i, element: "O").filter { $0 < 2.4 }
        #expect(feo.count == 6 && feo.allSatisfy { $0 > 2.0 && $0 < 2.3 }, "Fe–O \(feo)")
    }
    #expect(lfp.pointGroup.name == "222" && si.pointGroup.name == "432" && c.pointGroup.name == "622")
}

/// Distances (Å) from atom `i` to every other atom (optionally of one element) over the 27 neighbouring cells.
func neighbourDistances(_ s: CrystalStructure, of i: Int, element: String? = nil) -> [Double] {
    var out: [Double] = []
    let p = s.atoms[i].position
    for (j, a) in s.atoms.enumerated() where element == nil || a.element == element {
        for dx in -1 ... 1 { for dy in -1 ... 1 { for dz in -1 ... 1 {
            if j == i && dx == 0 && dy == 0 && dz == 0 { continue }
            let d = a.position + Vector3(Double(dx), Double(dy), Double(dz)) - p
            out.append(length(s.cell.cartesian(fractional: d)))
        } } }
    }
    return out.sorted()
}

@Test func laueClassOfEveryBuiltInGroup() throws {
    // The proper rotations of the Laue class (improper operations contribute −W): Friedel-equivalent point group.
    let expected: [Int: String] = [1: "1", 2: "1", 14: "2", 15: "2", 62: "222", 63: "222", 123: "422", 136: "422",
                                   139: "422", 141: "422", 164: "32", 166: "32", 167: "32", 186: "622", 191: "622",
                                   194: "622", 216: "432", 221: "432", 225: "432", 227: "432", 229: "432", 230: "432"]
    for n in SpaceGroup.builtInNumbers {
        let group = try SpaceGroup(number: n)
        let cell: UnitCell
        switch group.crystalSystem! {
        case .cubic: cell = try .cubic(5)
        case .hexagonal, .trigonal: cell = try .hexagonal(a: 4, c: 7)
        case .tetragonal: cell = try UnitCell(a: 4, b: 4, c: 6)
        case .orthorhombic: cell = try UnitCell(a: 4, b: 5, c: 6)
        case .monoclinic: cell = try UnitCell(a: 4, b: 5, c: 6, beta: 100)
        case .triclinic: cell = try UnitCell(a: 4, b: 5, c: 6, alpha: 80, beta: 95, gamma: 105)
        }
        let s = CrystalStructure(name: "test", cell: cell, spaceGroup: group,
                                 sites: [try AtomSite(element: "O", position: Vector3(0.123, 0.234, 0.345))])
        #expect(s.pointGroup.name == expected[n], "No. \(n) \(group.symbol): \(s.pointGroup.name)")
        // A general position has as many images as operations.
        #expect(s.atoms.count == group.operations.count)
    }
}
