import Foundation

/// A configuration value as read from a TOML file (the stemrun command parses TOML with TOMLKit and hands
/// the Distributed target this neutral form, so the pipeline does not depend on a TOML library).
public indirect enum ConfigValue: Sendable, Equatable, CustomStringConvertible {
    case string(String)
    case integer(Int)
    case float(Double)
    case boolean(Bool)
    case array([ConfigValue])
    case table(ConfigTable)

    public var typeName: String {
        switch self {
        case .string: return "string"
        case .integer: return "integer"
        case .float: return "float"
        case .boolean: return "boolean"
        case .array: return "array"
        case .table: return "table"
        }
    }

    /// Canonical text: the same value always prints the same way (used for parameter hashes).
    public var description: String {
        switch self {
        case let .string(s): return "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        case let .integer(i): return String(i)
        case let .float(d): return d == d.rounded() && abs(d) < 1e15 ? String(format: "%.1f", d) : "\(d)"
        case let .boolean(b): return b ? "true" : "false"
        case let .array(a): return "[" + a.map(\.description).joined(separator: ", ") + "]"
        case let .table(t): return "{" + t.keys.map { "\($0) = \(t.values[$0]!)" }.joined(separator: ", ") + "}"
        }
    }
}

/// A table of configuration values that knows which file and section it came from, so every error names
/// both, and which keys were read, so keys nobody reads are reported as unknown.
public struct ConfigTable: Sendable, Equatable {
    public var values: [String: ConfigValue]
    /// The file the table was read from (for messages).
    public var file: String
    /// Dotted section path ("" for the top level, "virtual", "input", ...).
    public var section: String

    public init(values: [String: ConfigValue] = [:], file: String, section: String = "") {
        self.values = values
        self.file = file
        self.section = section
    }

    public var keys: [String] { values.keys.sorted() }

    func qualified(_ key: String) -> String { section.isEmpty ? key : section + "." + key }

    /// The sub-table `name` (an empty table when absent).
    public func table(_ name: String) throws -> ConfigTable {
        switch values[name] {
        case nil: return ConfigTable(file: file, section: qualified(name))
        case let .table(t)?: return t
        case let v?: throw ConfigError.wrongType(file: file, key: qualified(name), expected: "a table [\(qualified(name))]", found: v.typeName)
        }
    }

    public func has(_ key: String) -> Bool { values[key] != nil }

    public func string(_ key: String) throws -> String? {
        switch values[key] {
        case nil: return nil
        case let .string(s)?: return s
        case let v?: throw ConfigError.wrongType(file: file, key: qualified(key), expected: "a string", found: v.typeName)
        }
    }

    public func integer(_ key: String) throws -> Int? {
        switch values[key] {
        case nil: return nil
        case let .integer(i)?: return i
        case let v?: throw ConfigError.wrongType(file: file, key: qualified(key), expected: "an integer", found: v.typeName)
        }
    }

    /// A number: TOML integers are accepted where a float is expected.
    public func number(_ key: String) throws -> Double? {
        switch values[key] {
        case nil: return nil
        case let .float(d)?: return d
        case let .integer(i)?: return Double(i)
        case let v?: throw ConfigError.wrongType(file: file, key: qualified(key), expected: "a number", found: v.typeName)
        }
    }

    public func boolean(_ key: String) throws -> Bool? {
        switch values[key] {
        case nil: return nil
        case let .boolean(b)?: return b
        case let v?: throw ConfigError.wrongType(file: file, key: qualified(key), expected: "true or false", found: v.typeName)
        }
    }

    /// An array of numbers (e.g. a centre `[x, y]`).
    public func numbers(_ key: String) throws -> [Double]? {
        switch values[key] {
        case nil: return nil
        case let .array(a)?:
            return try a.map {
                switch $0 {
                case let .float(d): return d
                case let .integer(i): return Double(i)
                default: throw ConfigError.wrongType(file: file, key: qualified(key), expected: "an array of numbers", found: "an array holding a \($0.typeName)")
                }
            }
        case let v?: throw ConfigError.wrongType(file: file, key: qualified(key), expected: "an array of numbers", found: v.typeName)
        }
    }

    /// Throws for the first key not in `known` (sorted, so the message is deterministic).
    public func rejectUnknownKeys(_ known: [String]) throws {
        if let bad = keys.first(where: { !known.contains($0) }) {
            throw ConfigError.unknownKey(file: file, key: qualified(bad), known: known.map(qualified))
        }
    }

    /// Canonical text of the whole table (sorted keys), for hashing.
    public var canonicalText: String { ConfigValue.table(self).description }
}

/// Mistakes in a configuration or manifest file: each names the file and the key.
public enum ConfigError: Error, CustomStringConvertible, Sendable, Equatable {
    case unknownKey(file: String, key: String, known: [String])
    case wrongType(file: String, key: String, expected: String, found: String)
    case missingKey(file: String, key: String, hint: String)
    case invalidValue(file: String, key: String, value: String, expected: String)
    case unsupportedSchema(file: String, found: Int, supported: Int)
    case syntax(file: String, detail: String)

    public var description: String {
        switch self {
        case let .unknownKey(file, key, known):
            return "\(file): unknown key '\(key)'" + (known.isEmpty ? "" : " (known here: \(known.joined(separator: ", ")))")
        case let .wrongType(file, key, expected, found):
            return "\(file): '\(key)' must be \(expected), found a \(found)"
        case let .missingKey(file, key, hint):
            return "\(file): missing '\(key)'" + (hint.isEmpty ? "" : " (\(hint))")
        case let .invalidValue(file, key, value, expected):
            return "\(file): '\(key)' = \(value): expected \(expected)"
        case let .unsupportedSchema(file, found, supported):
            return "\(file): schema_version = \(found) is not supported; this stemrun reads schema_version = \(supported)"
        case let .syntax(file, detail):
            return "\(file): not valid TOML: \(detail)"
        }
    }
}
