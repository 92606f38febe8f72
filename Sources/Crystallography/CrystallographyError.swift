/// Errors of structure input and crystallographic set-up. Each case names the field or value at fault and
/// what was expected, so the message alone says what to fix.
public enum CrystallographyError: Error, CustomStringConvertible, Sendable, Equatable {
    /// A required CIF item is absent.
    case missingField(source: String, field: String)
    /// A field is present but its value cannot be used.
    case invalidValue(source: String, field: String, value: String, expected: String)
    /// An element symbol with no scattering factor in the table.
    case unknownElement(source: String, symbol: String)
    /// A symmetry operation string that does not parse.
    case invalidSymmetryOperation(String, reason: String)
    /// A space group that stemrun cannot generate from its symbol or number.
    case unknownSpaceGroup(String)
    /// Cell parameters that do not describe a real lattice.
    case invalidCell(String)
    /// Symmetry operations that do not close into a finite group (wrong translations or inconsistent generators).
    case groupDoesNotClose(String)

    public var description: String {
        switch self {
        case let .missingField(source, field):
            return "\(source): required field '\(field)' not found"
        case let .invalidValue(source, field, value, expected):
            return "\(source): '\(field)' = '\(value)': expected \(expected)"
        case let .unknownElement(source, symbol):
            return "\(source): unknown element symbol '\(symbol)': expected a chemical symbol H..Cf (optionally followed by digits or a charge, e.g. 'Fe1', 'O2-')"
        case let .invalidSymmetryOperation(op, reason):
            return "symmetry operation '\(op)': \(reason); expected three comma-separated components such as 'x,y,z' or '-y+1/2,x,z+1/4'"
        case let .unknownSpaceGroup(name):
            return "space group '\(name)': no built-in generators; give the symmetry operations explicitly (CIF loop _space_group_symop_operation_xyz)"
        case let .invalidCell(detail):
            return "unit cell: \(detail)"
        case let .groupDoesNotClose(detail):
            return "symmetry operations do not form a finite space group: \(detail)"
        }
    }
}
