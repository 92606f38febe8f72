#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import STEMCore

/// File names of a folder in natural order ("p2" before "p10"), hidden files excluded, optionally only
/// those with one of `extensions` (lower-case, without the dot).
func listFolder(_ path: String, extensions: Set<String>? = nil) throws -> [String] {
    guard let dir = opendir(path) else { throw STEMError.fileNotFound(path: path) }
    defer { closedir(dir) }
    var names: [String] = []
    while let entry = readdir(dir) {
        let name = withUnsafePointer(to: entry.pointee.d_name) {
            $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
        }
        if name.hasPrefix(".") { continue }
        if let extensions {
            guard let dot = name.lastIndex(of: "."), extensions.contains(String(name[name.index(after: dot)...]).lowercased()) else { continue }
        }
        names.append(name)
    }
    return names.sorted(by: naturalOrder)
}

/// Natural ordering: runs of digits compare by value, everything else by character.
func naturalOrder(_ a: String, _ b: String) -> Bool {
    let x = Array(a.utf8), y = Array(b.utf8)
    var i = 0, j = 0
    func isDigit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }
    while i < x.count && j < y.count {
        if isDigit(x[i]) && isDigit(y[j]) {
            var i2 = i, j2 = j
            while i2 < x.count && isDigit(x[i2]) { i2 += 1 }
            while j2 < y.count && isDigit(y[j2]) { j2 += 1 }
            let s = Array(x[i ..< i2].drop { $0 == 48 }), t = Array(y[j ..< j2].drop { $0 == 48 })
            if s.count != t.count { return s.count < t.count }
            if s != t { return s.lexicographicallyPrecedes(t) }
            if i2 - i != j2 - j { return i2 - i < j2 - j }
            i = i2; j = j2
        } else {
            if x[i] != y[j] { return x[i] < y[j] }
            i += 1; j += 1
        }
    }
    return x.count - i < y.count - j
}
