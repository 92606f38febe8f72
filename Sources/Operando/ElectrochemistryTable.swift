import Foundation
import STEMCore

/// The electrochemistry recorded with an operando series, one row per diffraction time step: time, cell
/// voltage, current and/or state of charge. Read from CSV with a header row; column names are matched
/// case-insensitively by prefix — `time`/`t`, `voltage`/`volt`/`ewe`/`ecell`/`v`, `current`/`i`,
/// `soc`/`state` (units in the name such as `time_s` or `voltage/V` are ignored).
public struct ElectrochemistryTable: Hashable, Sendable {
    public var time: [Double]
    public var voltage: [Double]?
    public var current: [Double]?
    public var stateOfCharge: [Double]?

    public init(time: [Double], voltage: [Double]? = nil, current: [Double]? = nil,
                stateOfCharge: [Double]? = nil) throws {
        for (name, column) in [("voltage", voltage), ("current", current), ("soc", stateOfCharge)] {
            if let c = column, c.count != time.count {
                throw STEMError.shapeMismatch(path: "electrochemistry", field: name, expected: "\(time.count) rows",
                                              found: "\(c.count)")
            }
        }
        guard voltage != nil || current != nil || stateOfCharge != nil else {
            throw STEMError.missingField(path: "electrochemistry", field: "voltage, current or soc",
                                         hint: "the table needs time and at least one of them")
        }
        self.time = time
        self.voltage = voltage
        self.current = current
        self.stateOfCharge = stateOfCharge
    }

    public var count: Int { time.count }

    /// Reads a CSV file (comma, semicolon or tab separated; `#` lines are comments).
    public static func read(path: String) throws -> ElectrochemistryTable {
        guard let data = FileManager.default.contents(atPath: path) else { throw STEMError.fileNotFound(path: path) }
        guard let text = String(data: data, encoding: .utf8) else {
            throw STEMError.badFormat(path: path, location: "file", expected: "UTF-8 text", found: "binary data")
        }
        return try parse(csv: text, path: path)
    }

    /// Parses CSV text; `path` names the source in error messages.
    public static func parse(csv text: String, path: String = "electrochemistry CSV") throws -> ElectrochemistryTable {
        let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") }
        guard let header = lines.first else {
            throw STEMError.badFormat(path: path, location: "line 1", expected: "a header row", found: "no data")
        }
        let separator: Character = header.contains(",") ? "," : header.contains(";") ? ";" : "\t"
        let names = header.split(separator: separator, omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        func column(_ prefixes: [String], exact: [String]) -> Int? {
            names.firstIndex { n in
                exact.contains(n) || prefixes.contains { n.hasPrefix($0) }
                    || exact.contains { n.hasPrefix($0 + "_") || n.hasPrefix($0 + "/") || n.hasPrefix($0 + " ") || n.hasPrefix($0 + "(") }
            }
        }
        guard let tCol = column(["time"], exact: ["t"]) else {
            throw STEMError.missingField(path: path, field: "time", hint: "header has \(names.joined(separator: ", "))")
        }
        let vCol = column(["volt", "ewe", "ecell"], exact: ["v", "e"])
        let iCol = column(["curr"], exact: ["i"])
        let sCol = column(["soc", "state"], exact: [])
        var cols = [[Double]](repeating: [], count: names.count)
        for (k, line) in lines.dropFirst().enumerated() {
            let fields = line.split(separator: separator, omittingEmptySubsequences: false)
            guard fields.count >= names.count else {
                throw STEMError.badFormat(path: path, location: "data row \(k + 1)", expected: "\(names.count) fields",
                                          found: "\(fields.count)")
            }
            for c in [tCol, vCol, iCol, sCol].compactMap({ $0 }) {
                let f = fields[c].trimmingCharacters(in: .whitespaces)
                guard let v = Double(f), v.isFinite else {
                    throw STEMError.badFormat(path: path, location: "data row \(k + 1), column '\(names[c])'",
                                              expected: "a finite number", found: "'\(f)'")
                }
                cols[c].append(v)
            }
        }
        guard !cols[tCol].isEmpty else {
            throw STEMError.badFormat(path: path, location: "after the header", expected: "data rows", found: "none")
        }
        return try ElectrochemistryTable(time: cols[tCol], voltage: vCol.map { cols[$0] }, current: iCol.map { cols[$0] },
                                         stateOfCharge: sCol.map { cols[$0] })
    }

    /// CSV text with the columns present (time, voltage, current, soc).
    public func csv() -> String {
        var header = ["time"], rows = time.map { ["\($0)"] }
        for (name, c) in [("voltage", voltage), ("current", current), ("soc", stateOfCharge)] {
            guard let c else { continue }
            header.append(name)
            for r in 0 ..< count { rows[r].append("\(c[r])") }
        }
        return ([header.joined(separator: ",")] + rows.map { $0.joined(separator: ",") }).joined(separator: "\n") + "\n"
    }

    /// Direction of a step.
    public enum Direction: String, Sendable, Codable { case charge, discharge, rest }

    /// A contiguous run of rows (time steps) in one direction.
    public struct Segment: Hashable, Sendable {
        public var direction: Direction
        /// Rows spanned, both ends included (for directions read from differences, the row that ends the
        /// last increment is included).
        public var steps: ClosedRange<Int>
    }

    /// Direction of every row: from the sign of the current when present (positive = charge; rows with
    /// |I| ≤ 1 % of max |I| rest), else from the change of the state of charge, else of the voltage
    /// (rising = charge) to the next row.
    public func directions() -> [Direction] {
        let n = count
        if let i = current {
            let limit = 0.01 * (i.map(abs).max() ?? 0)
            return i.map { $0 > limit ? .charge : $0 < -limit ? .discharge : .rest }
        }
        let v = stateOfCharge ?? voltage ?? []
        guard n >= 2 else { return [Direction](repeating: .rest, count: n) }
        let range = (v.max() ?? 0) - (v.min() ?? 0)
        let limit = 1e-6 * max(range, 1e-300)
        var out = (0 ..< n - 1).map { k -> Direction in
            let d = v[k + 1] - v[k]
            return d > limit ? .charge : d < -limit ? .discharge : .rest
        }
        out.append(out[n - 2])
        return out
    }

    /// The charge and discharge runs in time order (rests are not returned).
    public func segments() -> [Segment] {
        let dir = directions()
        let fromDifferences = current == nil
        var out: [Segment] = []
        var start = 0
        for k in 1 ... dir.count where k == dir.count || dir[k] != dir[start] {
            if dir[start] != .rest {
                let end = fromDifferences ? min(k, dir.count - 1) : k - 1
                out.append(Segment(direction: dir[start], steps: start ... end))
            }
            start = k
        }
        return out
    }

    /// The `n`-th (0-based) segment of a direction.
    public func segment(_ direction: Direction, index n: Int = 0) throws -> Segment {
        let s = segments().filter { $0.direction == direction }
        guard n >= 0, n < s.count else {
            throw STEMError.invalidParameter(name: "\(direction) segment", value: "\(n)",
                                             expected: "0 ..< \(s.count) (the table has \(s.count) \(direction) segments)")
        }
        return s[n]
    }
}
