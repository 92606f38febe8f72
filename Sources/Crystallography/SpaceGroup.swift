/// A space group as its full list of symmetry operations (modulo lattice translations), with its
/// Hermann–Mauguin symbol and International Tables number when known.
public struct SpaceGroup: Sendable, CustomStringConvertible {
    /// International Tables number (1...230), or nil for a group given only by operations.
    public let number: Int?
    /// Hermann–Mauguin symbol in the compact form used here, e.g. "Fm-3m", "P6_3/mmc".
    public let symbol: String
    /// All operations, identity first; includes centring translations.
    public let operations: [SymmetryOperation]

    /// A group from explicit operations (e.g. a CIF symop loop). The identity is added if absent and the set is
    /// closed under composition, so a list missing the centring or a generator-only list still works.
    public init(symbol: String = "", number: Int? = nil, operations: [SymmetryOperation]) throws {
        let closed = try closeGroup(generators: operations.isEmpty ? [.identity] : operations)
        self.symbol = symbol
        self.number = number
        self.operations = closed
    }

    /// The built-in group with this International Tables number (standard setting; origin choice 2 for Fd-3m and
    /// I4_1/amd, hexagonal axes for R-3m and R-3c, unique axis b for the monoclinic groups). Every table entry is
    /// checked against gemmi's operations by `scripts/oracles/crystal-gemmi.sh`.
    public init(number: Int) throws {
        guard let entry = SpaceGroup.table.first(where: { $0.number == number }) else {
            throw CrystallographyError.unknownSpaceGroup("No. \(number)")
        }
        try self.init(entry)
    }

    /// The built-in group with this Hermann–Mauguin symbol. Spaces and underscores are ignored and the case of
    /// the lattice letter kept, so "P 63/m m c", "P6_3/mmc" and "P63/mmc" all name No. 194; full symbols
    /// such as "F 4/m -3 2/m" are accepted for the cubic groups listed.
    public init(symbol: String) throws {
        let key = SpaceGroup.normalize(symbol)
        guard let entry = SpaceGroup.table.first(where: { $0.aliases.contains(key) }) else {
            throw CrystallographyError.unknownSpaceGroup(symbol)
        }
        try self.init(entry)
    }

    private init(_ entry: Entry) throws {
        let gens = try entry.generators.map { try SymmetryOperation(parsing: $0) }
        self.symbol = entry.symbol
        self.number = entry.number
        self.operations = try closeGroup(generators: gens)
        guard operations.count == entry.order else {   // a table error, caught by the tests
            throw CrystallographyError.groupDoesNotClose("\(entry.symbol): \(operations.count) operations, expected \(entry.order)")
        }
    }

    /// Crystal system from the number (nil when the number is unknown).
    public var crystalSystem: CrystalSystem? {
        guard let n = number else { return nil }
        switch n {
        case 1 ... 2: return .triclinic
        case 3 ... 15: return .monoclinic
        case 16 ... 74: return .orthorhombic
        case 75 ... 142: return .tetragonal
        case 143 ... 167: return .trigonal
        case 168 ... 194: return .hexagonal
        default: return .cubic
        }
    }

    /// Numbers of the groups whose operations stemrun can generate from the symbol or number alone.
    public static var builtInNumbers: [Int] { table.map(\.number) }

    public var description: String { "\(symbol)\(number.map { " (No. \($0))" } ?? "") with \(operations.count) operations" }

    static func normalize(_ s: String) -> String {
        String(s.filter { !$0.isWhitespace && $0 != "_" }).lowercased()
    }

    struct Entry {
        let number: Int
        let symbol: String
        let aliases: [String]
        let order: Int
        let generators: [String]
    }

    // Generators in the International Tables Vol. A standard settings (general-position numbering of ITA).
    private static let fCentring = ["x,y+1/2,z+1/2", "x+1/2,y,z+1/2", "x+1/2,y+1/2,z"]
    private static let iCentring = ["x+1/2,y+1/2,z+1/2"]
    private static let m3m = ["-x,-y,z", "-x,y,-z", "z,x,y", "y,x,-z", "-x,-y,-z"]

    static let table: [Entry] = {
        func e(_ n: Int, _ sym: String, _ extra: [String], _ order: Int, _ gens: [String]) -> Entry {
            Entry(number: n, symbol: sym, aliases: ([sym] + extra).map(normalize), order: order, generators: gens)
        }
        return [
            e(1, "P1", [], 1, ["x,y,z"]),
            e(2, "P-1", [], 2, ["-x,-y,-z"]),
            e(14, "P2_1/c", ["P121/c1", "P21/c"], 4, ["-x,y+1/2,-z+1/2", "-x,-y,-z"]),
            e(15, "C2/c", ["C12/c1", "C 1 2/c 1"], 8, ["-x,y,-z+1/2", "-x,-y,-z", "x+1/2,y+1/2,z"]),
            e(62, "Pnma", ["P 21/n 21/m 21/a"], 8, ["-x+1/2,-y,z+1/2", "-x,y+1/2,-z", "-x,-y,-z"]),
            e(63, "Cmcm", ["C 2/m 2/c 21/m"], 16, ["-x,-y,z+1/2", "-x,y,-z+1/2", "-x,-y,-z", "x+1/2,y+1/2,z"]),
            e(123, "P4/mmm", ["P 4/m 2/m 2/m"], 16, ["-y,x,z", "-x,y,-z", "-x,-y,-z"]),
            e(136, "P4_2/mnm", ["P42/mnm", "P 42/m 21/n 2/m"], 16, ["-y+1/2,x+1/2,z+1/2", "-x+1/2,y+1/2,-z+1/2", "-x,-y,-z"]),
            e(139, "I4/mmm", ["I 4/m 2/m 2/m"], 32, ["-y,x,z", "-x,y,-z", "-x,-y,-z"] + iCentring),
            e(141, "I4_1/amd", ["I41/amd", "I41/amd:2", "I 41/a 2/m 2/d"], 32,
              ["-y+1/4,x+3/4,z+1/4", "-x+1/2,y,-z+1/2", "-x,-y,-z"] + iCentring),
            e(164, "P-3m1", ["P -3 2/m 1"], 12, ["-y,x-y,z", "y,x,-z", "-x,-y,-z"]),
            e(166, "R-3m", ["R -3 2/m", "R-3m:H"], 36,
              ["-y,x-y,z", "y,x,-z", "-x,-y,-z", "x+2/3,y+1/3,z+1/3"]),
            e(167, "R-3c", ["R -3 2/c", "R-3c:H"], 36,
              ["-y,x-y,z", "y,x,-z+1/2", "-x,-y,-z", "x+2/3,y+1/3,z+1/3"]),
            e(186, "P6_3mc", ["P63mc", "P 63 m c"], 12, ["-y,x-y,z", "-x,-y,z+1/2", "-y,-x,z"]),
            e(191, "P6/mmm", ["P 6/m 2/m 2/m"], 24, ["-y,x-y,z", "-x,-y,z", "y,x,-z", "-x,-y,-z"]),
            e(194, "P6_3/mmc", ["P63/mmc", "P 63/m 2/m 2/c"], 24, ["-y,x-y,z", "-x,-y,z+1/2", "y,x,-z", "-x,-y,-z"]),
            e(216, "F-43m", ["F -4 3 m"], 96, ["-x,-y,z", "-x,y,-z", "z,x,y", "y,x,z"] + fCentring),
            e(221, "Pm-3m", ["P 4/m -3 2/m"], 48, m3m),
            e(225, "Fm-3m", ["F 4/m -3 2/m"], 192, m3m + fCentring),
            e(227, "Fd-3m", ["F 41/d -3 2/m", "Fd-3m:2", "Fd-3mS"], 192,
              ["-x+3/4,-y+1/4,z+1/2", "-x+1/4,y+1/2,-z+3/4", "z,x,y", "y+3/4,x+1/4,-z+1/2", "-x,-y,-z"] + fCentring),
            e(229, "Im-3m", ["I 4/m -3 2/m"], 96, m3m + iCentring),
            e(230, "Ia-3d", ["I 41/a -3 2/d"], 96,
              ["-x+1/2,-y,z+1/2", "-x,y+1/2,-z+1/2", "z,x,y", "y+3/4,x+1/4,-z+1/4", "-x,-y,-z"] + iCentring),
        ]
    }()
}
