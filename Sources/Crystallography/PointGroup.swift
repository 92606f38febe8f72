import Foundation

/// The eleven proper point groups (rotation groups) of the crystal systems, in Hermann–Mauguin notation.
public enum ProperPointGroup: String, Sendable, CaseIterable, Codable {
    case c1 = "1", c2 = "2", d2 = "222", c4 = "4", d4 = "422", c3 = "3", d3 = "32", c6 = "6", d6 = "622", t = "23", o = "432"

    /// The crystal system the group belongs to.
    public var system: CrystalSystem {
        switch self {
        case .c1: return .triclinic
        case .c2: return .monoclinic
        case .d2: return .orthorhombic
        case .c4, .d4: return .tetragonal
        case .c3, .d3: return .trigonal
        case .c6, .d6: return .hexagonal
        case .t, .o: return .cubic
        }
    }

    /// Group order (number of rotations).
    public var order: Int {
        switch self {
        case .c1: return 1
        case .c2: return 2
        case .d2, .c4: return 4
        case .c3: return 3
        case .d4: return 8
        case .d3, .c6: return 6
        case .d6, .t: return 12
        case .o: return 24
        }
    }

    /// The proper point group of the Laue class of a crystal system (the highest-symmetry one).
    public static func laue(_ system: CrystalSystem) -> ProperPointGroup {
        switch system {
        case .triclinic: return .c1
        case .monoclinic: return .c2
        case .orthorhombic: return .d2
        case .tetragonal: return .d4
        case .trigonal: return .d3
        case .hexagonal: return .d6
        case .cubic: return .o
        }
    }
}

/// A proper point group as its set of unit quaternions (active rotations in the crystal Cartesian frame,
/// w ≥ 0, identity first).
///
/// Axis settings (crystal frame of `UnitCell`, x ∥ a, z ∥ c*): n-fold main axes along z; the 2-fold of the
/// monoclinic group along y (unique axis b); in 222, 422 and 622 / 32 a 2-fold along x (∥ a); cubic 3-folds
/// along ⟨111⟩.
public struct PointGroup: Sendable, CustomStringConvertible {
    public let name: String
    public let system: CrystalSystem
    public let rotations: [Quaternion]

    public var order: Int { rotations.count }

    public init(name: String, system: CrystalSystem, rotations: [Quaternion]) {
        self.name = name
        self.system = system
        self.rotations = rotations
    }

    /// The standard group of `kind` in the axis settings above.
    public init(_ kind: ProperPointGroup) {
        let z = Vector3(0, 0, 1), x = Vector3(1, 0, 0), y = Vector3(0, 1, 0)
        let gens: [Quaternion]
        switch kind {
        case .c1: gens = []
        case .c2: gens = [Quaternion(axis: y, angle: .pi)]
        case .d2: gens = [Quaternion(axis: z, angle: .pi), Quaternion(axis: x, angle: .pi)]
        case .c4: gens = [Quaternion(axis: z, angle: .pi / 2)]
        case .d4: gens = [Quaternion(axis: z, angle: .pi / 2), Quaternion(axis: x, angle: .pi)]
        case .c3: gens = [Quaternion(axis: z, angle: 2 * .pi / 3)]
        case .d3: gens = [Quaternion(axis: z, angle: 2 * .pi / 3), Quaternion(axis: x, angle: .pi)]
        case .c6: gens = [Quaternion(axis: z, angle: .pi / 3)]
        case .d6: gens = [Quaternion(axis: z, angle: .pi / 3), Quaternion(axis: x, angle: .pi)]
        case .t: gens = [Quaternion(axis: z, angle: .pi), Quaternion(axis: Vector3(1, 1, 1), angle: 2 * .pi / 3)]
        case .o: gens = [Quaternion(axis: z, angle: .pi / 2), Quaternion(axis: Vector3(1, 1, 1), angle: 2 * .pi / 3)]
        }
        self.init(name: kind.rawValue, system: kind.system, rotations: PointGroup.close(gens))
        assert(rotations.count == kind.order)
    }

    /// Closes generators into a finite rotation group (q and -q identified).
    static func close(_ generators: [Quaternion]) -> [Quaternion] {
        var group: [Quaternion] = [.identity]
        var frontier: [Quaternion] = [.identity]
        func contains(_ q: Quaternion) -> Bool { group.contains { $0.absDot(q) > 1 - 1e-9 } }
        while !frontier.isEmpty {
            var next: [Quaternion] = []
            for a in frontier {
                for g in generators {
                    let p = (g * a).normalized.canonical
                    if !contains(p) { group.append(p); next.append(p) }
                }
            }
            frontier = next
            if group.count > 120 { break }   // cannot happen for crystallographic generators
        }
        return group
    }

    /// The proper rotations of a space group's Laue class, in the Cartesian frame of `cell`: every linear part W
    /// (times det W, so improper operations contribute their rotation part) as R = A W A⁻¹ with A the direct basis.
    public static func laueRotations(of group: SpaceGroup, cell: UnitCell, system: CrystalSystem) -> PointGroup {
        let a = cell.directBasis
        let aInv = a.inverse ?? .identity
        var qs: [Quaternion] = []
        for op in group.operations {
            var w = op.rotationMatrix
            if op.determinant < 0 {
                w = Matrix3(rows: -w.r0, -w.r1, -w.r2)
            }
            let r = a * w * aInv
            let q = Quaternion(rotationMatrix: r)
            if !qs.contains(where: { $0.absDot(q) > 1 - 1e-9 }) { qs.append(q) }
        }
        if let i = qs.firstIndex(where: { $0.absDot(.identity) > 1 - 1e-9 }), i != 0 { qs.swapAt(0, i) }
        let name = identify(qs, system: system)
        return PointGroup(name: name, system: system, rotations: qs)
    }

    /// Names a rotation group from its order and the largest rotation order about one axis.
    static func identify(_ qs: [Quaternion], system: CrystalSystem) -> String {
        let smallest = qs.filter { $0.angle > 1e-6 }.map(\.angle).min() ?? 0
        let maxFold = smallest > 0 ? Int((2 * .pi / smallest).rounded()) : 1
        switch qs.count {
        case 1: return "1"
        case 2: return "2"
        case 3: return "3"
        case 4: return maxFold == 4 ? "4" : "222"
        case 6: return maxFold == 6 ? "6" : "32"
        case 8: return "422"
        case 12: return maxFold == 6 ? "622" : "23"
        case 24: return "432"
        default: return "order \(qs.count)"
        }
    }

    public var description: String { "point group \(name) (\(system.rawValue), \(order) rotations)" }
}
