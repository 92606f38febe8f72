import Distributed
import Foundation
import TOMLKit

/// Reads a TOML file into the pipeline's neutral `ConfigTable` (TOMLKit stays in the command-line target).
enum TOMLConfigLoader {
    static func load(_ path: String) throws -> ConfigTable {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError.syntax(file: path, detail: "cannot read the file (missing or unreadable)")
        }
        let text = String(decoding: data, as: UTF8.self)
        let toml: TOMLTable
        do { toml = try TOMLTable(string: text) } catch let e as TOMLParseError {
            throw ConfigError.syntax(file: path, detail: "\(e.description) at line \(e.source.begin.line), column \(e.source.begin.column)")
        }
        return try convert(toml, file: path, section: "")
    }

    static func convert(_ t: TOMLTable, file: String, section: String) throws -> ConfigTable {
        var out = ConfigTable(file: file, section: section)
        for key in t.keys {
            guard let v = t[key] else { continue }
            let q = section.isEmpty ? key : section + "." + key
            out.values[key] = try value(v, file: file, key: q)
        }
        return out
    }

    static func value(_ v: TOMLValueConvertible, file: String, key: String) throws -> ConfigValue {
        switch v.type {
        case .string: return .string(v.string ?? "")
        case .int: return .integer(v.int ?? 0)
        case .double: return .float(v.double ?? 0)
        case .bool: return .boolean(v.bool ?? false)
        case .table: return .table(try convert(v.table!, file: file, section: key))
        case .array:
            return .array(try v.array!.enumerated().map { try value($0.element, file: file, key: "\(key)[\($0.offset)]") })
        case .date, .time, .dateTime:
            throw ConfigError.wrongType(file: file, key: key, expected: "a string, number, boolean, array or table", found: v.type.description)
        }
    }
}
