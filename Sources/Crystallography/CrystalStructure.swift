import Foundation

/// One crystallographic site: element, fractional position, occupancy and isotropic displacement.
public struct AtomSite: Hashable, Sendable {
    /// Site label (e.g. "Fe1"); informational.
    public var label: String
    /// Canonical element symbol ("Fe").
    public var element: String
    /// Fractional coordinates.
    public var position: Vector3
    /// Site occupancy, 0...1.
    public var occupancy: Double
    /// Isotropic Debye–Waller factor B = 8π² U_iso in Å².
    public var debyeWallerB: Double

    /// Throws `unknownElement` when `element` is not a chemical symbol with a scattering factor.
    public init(label: String = "", element: String, position: Vector3, occupancy: Double = 1, debyeWallerB: Double = 0.5) throws {
        guard let canonical = ElectronScatteringFactor.canonicalSymbol(element) else {
            throw CrystallographyError.unknownElement(source: label.isEmpty ? "atom site" : "atom site \(label)", symbol: element)
        }
        self.label = label.isEmpty ? canonical : label
        self.element = canonical
        self.position = position
        self.occupancy = occupancy
        self.debyeWallerB = debyeWallerB
    }

    /// Builds a site from U_iso (Å²): B = 8π² U.
    public init(label: String = "", element: String, position: Vector3, occupancy: Double = 1, uIso: Double) throws {
        try self.init(label: label, element: element, position: position, occupancy: occupancy,
                      debyeWallerB: 8 * Double.pi * Double.pi * uIso)
    }
}

/// A crystalline phase: cell, space group, the asymmetric-unit sites, and the full cell contents obtained by
/// applying every symmetry operation and removing duplicates (positions equal modulo lattice translations
/// within `duplicateTolerance` Å).
public struct CrystalStructure: Sendable, CustomStringConvertible {
    public let name: String
    public let cell: UnitCell
    public let spaceGroup: SpaceGroup
    /// The sites as given (asymmetric unit).
    public let asymmetricUnit: [AtomSite]
    /// Every atom of the unit cell, fractional coordinates wrapped into [0, 1).
    public let atoms: [AtomSite]
    /// The proper rotations of the Laue class in the Cartesian crystal frame (the symmetry that makes
    /// orientations equivalent in diffraction).
    public let pointGroup: PointGroup
    /// Electron scattering factor of each entry of `atoms`.
    public let atomFactors: [ElectronScatteringFactor]

    public init(name: String, cell: UnitCell, spaceGroup: SpaceGroup, sites: [AtomSite], duplicateTolerance: Double = 0.01) {
        self.name = name
        self.cell = cell
        self.spaceGroup = spaceGroup
        self.asymmetricUnit = sites
        var all: [AtomSite] = []
        for site in sites {
            var images: [Vector3] = []
            for op in spaceGroup.operations {
                var p = op.apply(site.position)
                p = p - p.rounded(.down)
                let isDuplicate = images.contains { q in
                    var d = p - q
                    d = d - d.rounded(.toNearestOrAwayFromZero)
                    return length(cell.cartesian(fractional: d)) < duplicateTolerance
                }
                if !isDuplicate {
                    images.append(p)
                    var s = site
                    s.position = p
                    all.append(s)
                }
            }
        }
        self.atoms = all
        // Sites are validated on construction, so every element has a factor.
        self.atomFactors = all.map { (try? ElectronScatteringFactor.forElement($0.element)) ?? ElectronScatteringFactor.table[0] }
        self.pointGroup = PointGroup.laueRotations(of: spaceGroup, cell: cell, system: spaceGroup.crystalSystem ?? cell.metricSystem)
    }

    public var crystalSystem: CrystalSystem { pointGroup.system }

    public var description: String {
        "\(name): \(spaceGroup.symbol) \(cell), \(asymmetricUnit.count) sites, \(atoms.count) atoms per cell, point group \(pointGroup.name)"
    }
}
