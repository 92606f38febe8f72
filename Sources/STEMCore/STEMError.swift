/// Errors a user can act on. Every case names the file (or option) at fault, where in it, and what was
/// expected, so that the message alone tells the user what to fix.
public enum STEMError: Error, CustomStringConvertible, Sendable {
    /// The file or folder does not exist or cannot be opened.
    case fileNotFound(path: String)
    /// The file exists but its content is not what the format requires.
    case badFormat(path: String, location: String, expected: String, found: String)
    /// A dataset, group or field named by the user is absent.
    case missingField(path: String, field: String, hint: String)
    /// The file is shorter than its declared shape implies.
    case truncated(path: String, offset: Int, needed: Int, available: Int)
    /// The data type is not one stemrun reads.
    case unsupportedType(path: String, field: String, type: String)
    /// The shapes do not agree (scan shape vs frame count, rank of a dataset, ...).
    case shapeMismatch(path: String, field: String, expected: String, found: String)
    /// Values that cannot be processed (NaN, Inf, negative where forbidden).
    case invalidValues(path: String, location: String, detail: String)
    /// A parameter given on the command line or in a configuration is out of range.
    case invalidParameter(name: String, value: String, expected: String)
    /// Writing an output failed.
    case outputFailed(path: String, detail: String)
    /// An HDF5 or MPI call failed.
    case library(call: String, detail: String)

    public var description: String {
        switch self {
        case let .fileNotFound(path):
            return "\(path): no such file or folder (check the path)"
        case let .badFormat(path, location, expected, found):
            return "\(path): at \(location): expected \(expected), found \(found)"
        case let .missingField(path, field, hint):
            return "\(path): '\(field)' not found\(hint.isEmpty ? "" : " (\(hint))")"
        case let .truncated(path, offset, needed, available):
            return "\(path): file too short: reading \(needed) bytes at offset \(offset) needs \(offset + needed) bytes, the file has \(available)"
        case let .unsupportedType(path, field, type):
            return "\(path): '\(field)' has unsupported data type \(type); stemrun reads uint8, uint16, uint32, int16, int32, float32, float64"
        case let .shapeMismatch(path, field, expected, found):
            return "\(path): '\(field)': expected \(expected), found \(found)"
        case let .invalidValues(path, location, detail):
            return "\(path): \(location): \(detail)"
        case let .invalidParameter(name, value, expected):
            return "invalid \(name) '\(value)': expected \(expected)"
        case let .outputFailed(path, detail):
            return "\(path): cannot write output: \(detail)"
        case let .library(call, detail):
            return "\(call) failed: \(detail)"
        }
    }
}
