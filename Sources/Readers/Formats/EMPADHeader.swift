import STEMCore

/// The XML file of an EMPAD acquisition, reduced to what locates the data: the `.raw` file name
/// (`<raw_file filename="..."/>`) and the scan (`<pix_x>`/`<pix_y>`, a `<series_count>` stack, or the
/// `scan_x<NX>_y<NY>.raw` file name), read the way rosettasciio's `empad` plugin does.
/// Frames are 128 x 128 float32 (little-endian) pixels followed by 2 metadata rows (128 x 130 on disk).
public struct EMPADHeader: Sendable, Equatable {
    public static let detector = DetectorShape(rows: 128, columns: 128)
    public static let storedRows = 130

    public var rawFileName: String
    public var scan: ScanGrid
    public var isStack: Bool

    public static func parse(_ text: String, path: String) throws -> EMPADHeader {
        guard text.contains("<root") else {
            throw STEMError.badFormat(path: path, location: "XML root", expected: "an EMPAD <root> element", found: "none")
        }
        guard let raw = attribute("filename", ofFirst: "raw_file", in: text), !raw.isEmpty else {
            throw STEMError.missingField(path: path, field: "raw_file/@filename", hint: "the EMPAD XML names its .raw data file there")
        }
        guard !raw.contains("/"), raw != "..", raw != "." else {
            throw STEMError.badFormat(path: path, location: "raw_file/@filename", expected: "a file name beside the XML", found: raw)
        }
        func positive(_ s: String?, _ field: String) throws -> Int? {
            guard let s else { return nil }
            guard let v = Int(s.trimmingSpaces()), v > 0, v <= 1 << 24 else {
                throw STEMError.badFormat(path: path, location: field, expected: "a positive integer", found: s)
            }
            return v
        }
        if let count = try positive(element("series_count", in: text), "scan_parameters/series_count") {
            return EMPADHeader(rawFileName: raw, scan: ScanGrid(rows: 1, columns: count), isStack: true)
        }
        if let x = try positive(element("pix_x", in: text), "pix_x"), let y = try positive(element("pix_y", in: text), "pix_y") {
            return EMPADHeader(rawFileName: raw, scan: ScanGrid(rows: y, columns: x), isStack: false)
        }
        // scan_x<NX>_y<NY>.raw
        let stem = raw.split(separator: ".").first.map(String.init) ?? raw
        let parts = stem.split(separator: "_")
        if raw.hasPrefix("scan_"), parts.count >= 3,
           let x = Int(parts[parts.count - 2].dropFirst()), let y = Int(parts[parts.count - 1].dropFirst()), x > 0, y > 0 {
            return EMPADHeader(rawFileName: raw, scan: ScanGrid(rows: y, columns: x), isStack: false)
        }
        throw STEMError.missingField(path: path, field: "pix_x/pix_y", hint: "no scan size in the XML or the raw file name; give the scan shape")
    }

    /// Text content of the first `<name>...</name>` element.
    static func element(_ name: String, in text: String) -> String? {
        guard let open = text.firstRange(of: "<\(name)>") else { return nil }
        guard let close = text[open.upperBound...].firstRange(of: "</\(name)>") else { return nil }
        return String(text[open.upperBound ..< close.lowerBound])
    }

    /// Value of attribute `attr` of the first `<element ...>` tag.
    static func attribute(_ attr: String, ofFirst name: String, in text: String) -> String? {
        guard let open = text.firstRange(of: "<\(name) ") ?? text.firstRange(of: "<\(name)\t") else { return nil }
        guard let end = text[open.upperBound...].firstRange(of: ">") else { return nil }
        let tag = text[open.upperBound ..< end.lowerBound]
        for quote in ["\"", "'"] {
            if let a = tag.firstRange(of: "\(attr)=\(quote)"),
               let b = tag[a.upperBound...].firstRange(of: quote) {
                return String(tag[a.upperBound ..< b.lowerBound])
            }
        }
        return nil
    }
}

