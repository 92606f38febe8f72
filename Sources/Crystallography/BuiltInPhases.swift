/// Built-in phases with literature cells and positions (room temperature). Debye–Waller factors are typical
/// room-temperature values; they change relative intensities only mildly.
public enum BuiltInPhase: String, CaseIterable, Sendable {
    case aluminium = "Al", copper = "Cu", gold = "Au", silicon = "Si", ironAlpha = "Fe-alpha"
    case lithiumIronPhosphate = "LiFePO4", graphite = "graphite"

    /// The structure. Sources: Al a = 4.0495 Å, Cu 3.6149 Å, Au 4.0782 Å, Si 5.4309 Å, α-Fe 2.8665 Å (standard
    /// reference values, e.g. Wyckoff, *Crystal Structures* vol. 1); LiFePO4 olivine, Pnma, a = 10.332,
    /// b = 6.010, c = 4.692 Å with the positions after Streltsov et al., Acta Cryst. B49 (1993) 147 (representative
    /// of the neutron refinements); graphite (hexagonal, Bernal), P6_3/mmc, a = 2.464, c = 6.711 Å, C on 2b and 2c.
    public var structure: CrystalStructure {
        // Built-in data are constants: construction cannot fail.
        try! make()
    }

    private func make() throws -> CrystalStructure {
        func site(_ label: String, _ el: String, _ x: Double, _ y: Double, _ z: Double, b: Double) throws -> AtomSite {
            try AtomSite(label: label, element: el, position: Vector3(x, y, z), debyeWallerB: b)
        }
        switch self {
        case .aluminium:
            return CrystalStructure(name: "Al", cell: try .cubic(4.0495), spaceGroup: try SpaceGroup(number: 225),
                                    sites: [try site("Al", "Al", 0, 0, 0, b: 0.80)])
        case .copper:
            return CrystalStructure(name: "Cu", cell: try .cubic(3.6149), spaceGroup: try SpaceGroup(number: 225),
                                    sites: [try site("Cu", "Cu", 0, 0, 0, b: 0.55)])
        case .gold:
            return CrystalStructure(name: "Au", cell: try .cubic(4.0782), spaceGroup: try SpaceGroup(number: 225),
                                    sites: [try site("Au", "Au", 0, 0, 0, b: 0.62)])
        case .silicon:
            return CrystalStructure(name: "Si", cell: try .cubic(5.4309), spaceGroup: try SpaceGroup(number: 227),
                                    sites: [try site("Si", "Si", 0.125, 0.125, 0.125, b: 0.46)])
        case .ironAlpha:
            return CrystalStructure(name: "Fe-alpha", cell: try .cubic(2.8665), spaceGroup: try SpaceGroup(number: 229),
                                    sites: [try site("Fe", "Fe", 0, 0, 0, b: 0.35)])
        case .lithiumIronPhosphate:
            return CrystalStructure(name: "LiFePO4", cell: try UnitCell(a: 10.332, b: 6.010, c: 4.692),
                                    spaceGroup: try SpaceGroup(number: 62),
                                    sites: [try site("Li", "Li", 0, 0, 0, b: 1.0),
                                            try site("Fe", "Fe", 0.28222, 0.25, 0.97472, b: 0.5),
                                            try site("P", "P", 0.09486, 0.25, 0.41820, b: 0.4),
                                            try site("O1", "O", 0.09678, 0.25, 0.74279, b: 0.6),
                                            try site("O2", "O", 0.45710, 0.25, 0.20602, b: 0.6),
                                            try site("O3", "O", 0.16558, 0.04660, 0.28485, b: 0.6)])
        case .graphite:
            return CrystalStructure(name: "graphite", cell: try .hexagonal(a: 2.464, c: 6.711),
                                    spaceGroup: try SpaceGroup(number: 194),
                                    sites: [try site("C1", "C", 0, 0, 0.25, b: 0.6),
                                            try site("C2", "C", 1.0 / 3, 2.0 / 3, 0.25, b: 0.6)])
        }
    }
}
