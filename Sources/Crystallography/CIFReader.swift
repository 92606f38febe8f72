import Foundation

/// A minimal CIF 1.1 reader for crystal structures: the first data block's cell, space group (symbol, number or
/// an explicit symmetry-operation loop), and the `_atom_site_` loop with occupancies and isotropic displacements.
///
/// Read items: `_cell_length_a/b/c`, `_cell_angle_alpha/beta/gamma`; `_space_group_symop_operation_xyz` or
/// `_symmetry_equiv_pos_as_xyz` (preferred when present); otherwise `_space_group_IT_number` /
/// `_symmetry_Int_Tables_number`, then `_space_group_name_H-M_alt` / `_symmetry_space_group_name_H-M`; P1 when
/// none is given. Atom sites: `_atom_site_fract_x/y/z` (required), `_atom_site_type_symbol` (else the element
/// is read from `_atom_site_label`), `_atom_site_occupancy` (default 1), `_atom_site_B_iso_or_equiv` or
/// `_atom_site_U_iso_or_equiv` (B = 8π²U; default B = `defaultB`). Standard uncertainties "1.234(5)" are dropped.
public enum CIFReader {
    /// Reads a CIF file.
    public static func read(path: String, defaultB: Double = 0.5) throws -> CrystalStructure {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CrystallographyError.missingField(source: path, field: "file (cannot be read)")
        }
        return try parse(String(decoding: data, as: UTF8.self), source: path, defaultB: defaultB)
    }

    /// Parses CIF text; `source` names the input in error messages.
    public static func parse(_ text: String, source: String = "CIF", defaultB: Double = 0.5) throws -> CrystalStructure {
        let block = try CIFBlock(text: text, source: source)
        func number(_ tag: String) throws -> Double? {
            guard let raw = block.items[tag] else { return nil }
            guard let v = CIFBlock.numeric(raw) else {
                throw CrystallographyError.invalidValue(source: source, field: tag, value: raw, expected: "a number")
            }
            return v
        }
        func required(_ tag: String) throws -> Double {
            guard let v = try number(tag) else { throw CrystallographyError.missingField(source: source, field: tag) }
            return v
        }
        let cell = try UnitCell(a: required("_cell_length_a"), b: required("_cell_length_b"), c: required("_cell_length_c"),
                                alpha: required("_cell_angle_alpha"), beta: required("_cell_angle_beta"),
                                gamma: required("_cell_angle_gamma"))

        let symbol = block.items["_space_group_name_h-m_alt"] ?? block.items["_symmetry_space_group_name_h-m"] ?? ""
        let itNumber = try (number("_space_group_it_number") ?? number("_symmetry_int_tables_number")).map { Int($0) }
        let group: SpaceGroup
        if let ops = block.loopColumn("_space_group_symop_operation_xyz") ?? block.loopColumn("_symmetry_equiv_pos_as_xyz") {
            let parsed = try ops.map { try SymmetryOperation(parsing: $0) }
            group = try SpaceGroup(symbol: symbol, number: itNumber, operations: parsed)
        } else if let n = itNumber, SpaceGroup.builtInNumbers.contains(n) {
            group = try SpaceGroup(number: n)
        } else if !symbol.isEmpty {
            group = try SpaceGroup(symbol: symbol)
        } else if let n = itNumber {
            throw CrystallographyError.unknownSpaceGroup("No. \(n)")
        } else {
            group = try SpaceGroup(number: 1)
        }

        guard let xs = block.loopColumn("_atom_site_fract_x") else {
            throw CrystallographyError.missingField(source: source, field: "_atom_site_fract_x")
        }
        guard let ys = block.loopColumn("_atom_site_fract_y") else {
            throw CrystallographyError.missingField(source: source, field: "_atom_site_fract_y")
        }
        guard let zs = block.loopColumn("_atom_site_fract_z") else {
            throw CrystallographyError.missingField(source: source, field: "_atom_site_fract_z")
        }
        let labels = block.loopColumn("_atom_site_label")
        let types = block.loopColumn("_atom_site_type_symbol")
        guard labels != nil || types != nil else {
            throw CrystallographyError.missingField(source: source, field: "_atom_site_type_symbol (or _atom_site_label)")
        }
        let occs = block.loopColumn("_atom_site_occupancy")
        let bs = block.loopColumn("_atom_site_b_iso_or_equiv")
        let us = block.loopColumn("_atom_site_u_iso_or_equiv")
        var sites: [AtomSite] = []
        for i in 0 ..< xs.count {
            func value(_ column: [String]?, _ tag: String, default d: Double?) throws -> Double? {
                guard let column, i < column.count, !CIFBlock.isUnknown(column[i]) else { return d }
                guard let v = CIFBlock.numeric(column[i]) else {
                    throw CrystallographyError.invalidValue(source: source, field: "\(tag) (row \(i + 1))", value: column[i], expected: "a number")
                }
                return v
            }
            let x = try value(xs, "_atom_site_fract_x", default: nil)
            let y = try value(ys, "_atom_site_fract_y", default: nil)
            let z = try value(zs, "_atom_site_fract_z", default: nil)
            guard let x, let y, let z else {
                throw CrystallographyError.invalidValue(source: source, field: "_atom_site_fract_x/y/z (row \(i + 1))",
                                                        value: "?", expected: "fractional coordinates")
            }
            let label = labels.map { $0[i] } ?? ""
            let typeSymbol = types.map { $0[i] } ?? label
            guard ElectronScatteringFactor.canonicalSymbol(typeSymbol) != nil else {
                throw CrystallographyError.unknownElement(source: "\(source): _atom_site_type_symbol (row \(i + 1))", symbol: typeSymbol)
            }
            let occ = try value(occs, "_atom_site_occupancy", default: 1)!
            var b = defaultB
            if let bv = try value(bs, "_atom_site_B_iso_or_equiv", default: nil) { b = bv } else if let u = try value(us, "_atom_site_U_iso_or_equiv", default: nil) {
                b = 8 * Double.pi * Double.pi * u
            }
            guard occ >= 0, occ <= 1.0001, b >= 0 else {
                throw CrystallographyError.invalidValue(source: source, field: "_atom_site_occupancy / B_iso (row \(i + 1))",
                                                        value: "occupancy \(occ), B \(b)", expected: "occupancy in 0...1 and B ≥ 0")
            }
            sites.append(try AtomSite(label: label, element: typeSymbol, position: Vector3(x, y, z), occupancy: occ, debyeWallerB: b))
        }
        guard !sites.isEmpty else { throw CrystallographyError.missingField(source: source, field: "_atom_site_ loop rows") }
        let name = block.items["_chemical_name_mineral"] ?? block.items["_chemical_name_common"]
            ?? block.items["_chemical_formula_sum"] ?? block.name
        return CrystalStructure(name: name, cell: cell, spaceGroup: group, sites: sites)
    }
}

/// The items and loops of the first data block of a CIF, tags lower-cased.
struct CIFBlock {
    var name = ""
    var items: [String: String] = [:]
    var loops: [[String: [String]]] = []

    func loopColumn(_ tag: String) -> [String]? {
        for loop in loops { if let c = loop[tag] { return c } }
        return nil
    }

    static func isUnknown(_ v: String) -> Bool { v == "?" || v == "." }

    /// A CIF number with its standard uncertainty removed: "4.0495(3)" → 4.0495.
    static func numeric(_ raw: String) -> Double? {
        var s = raw
        if let p = s.firstIndex(of: "(") { s = String(s[..<p]) }
        return Double(s)
    }

    init(text: String, source: String) throws {
        let tokens = CIFBlock.tokenize(text)
        var i = 0
        var seenData = false
        while i < tokens.count {
            let t = tokens[i]
            let lower = t.text.lowercased()
            if !t.quoted && lower.hasPrefix("data_") {
                if seenData { break }    // first block only
                seenData = true
                name = String(t.text.dropFirst(5))
                i += 1
            } else if !t.quoted && lower == "loop_" {
                i += 1
                var tags: [String] = []
                while i < tokens.count, !tokens[i].quoted, tokens[i].text.hasPrefix("_") {
                    tags.append(tokens[i].text.lowercased()); i += 1
                }
                var values: [String] = []
                while i < tokens.count {
                    let v = tokens[i]
                    if !v.quoted {
                        let l = v.text.lowercased()
                        if v.text.hasPrefix("_") || l == "loop_" || l.hasPrefix("data_") { break }
                    }
                    values.append(v.text); i += 1
                }
                guard !tags.isEmpty else { continue }
                guard values.count % tags.count == 0 else {
                    throw CrystallographyError.invalidValue(source: source, field: "loop of \(tags[0])", value: "\(values.count) values",
                                                            expected: "a multiple of its \(tags.count) columns")
                }
                var loop: [String: [String]] = [:]
                for (j, tag) in tags.enumerated() {
                    loop[tag] = stride(from: j, to: values.count, by: tags.count).map { values[$0] }
                }
                loops.append(loop)
            } else if !t.quoted && t.text.hasPrefix("_") {
                guard i + 1 < tokens.count else {
                    throw CrystallographyError.invalidValue(source: source, field: t.text, value: "", expected: "a value after the tag")
                }
                items[lower] = tokens[i + 1].text
                i += 2
            } else {
                i += 1
            }
        }
    }

    struct Token { let text: String; let quoted: Bool }

    /// Splits CIF text into whitespace-separated tokens, honouring '…' and "…" strings, ;-delimited text fields and
    /// # comments.
    static func tokenize(_ text: String) -> [Token] {
        var tokens: [Token] = []
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
        var li = 0
        while li < lines.count {
            let line = String(lines[li])
            if line.hasPrefix(";") {
                var field = String(line.dropFirst())
                li += 1
                while li < lines.count, !lines[li].hasPrefix(";") { field += "\n" + lines[li]; li += 1 }
                li += 1
                tokens.append(Token(text: field.trimmingCharacters(in: .whitespacesAndNewlines), quoted: true))
                continue
            }
            let chars = Array(line)
            var j = 0
            while j < chars.count {
                let c = chars[j]
                if c == " " || c == "\t" || c == "\r" { j += 1; continue }
                if c == "#" { break }
                if c == "'" || c == "\"" {
                    // A quote closes only when followed by whitespace or the line end.
                    var k = j + 1
                    while k < chars.count, !(chars[k] == c && (k + 1 == chars.count || chars[k + 1] == " " || chars[k + 1] == "\t")) { k += 1 }
                    tokens.append(Token(text: String(chars[(j + 1) ..< min(k, chars.count)]), quoted: true))
                    j = k + 1
                    continue
                }
                var k = j
                while k < chars.count, chars[k] != " ", chars[k] != "\t", chars[k] != "\r" { k += 1 }
                tokens.append(Token(text: String(chars[j ..< k]), quoted: false))
                j = k
            }
            li += 1
        }
        return tokens
    }
}
