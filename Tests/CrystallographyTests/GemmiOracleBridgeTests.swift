import Foundation
import Testing
import Crystallography

/// The stemrun side of `scripts/oracles/crystal-gemmi.sh`: reads every CIF listed in `input.json` from
/// `$STEMRUN_GEMMI_ORACLE_DIR` with `CIFReader`, and writes `stemrun.json` with the atoms per cell and the structure
/// factors of the listed reflections, and the operations of every built-in space group, which the script compares
/// with gemmi. Enabled only when the script sets the
/// variable.
@Test(.enabled(if: ProcessInfo.processInfo.environment["STEMRUN_GEMMI_ORACLE_DIR"] != nil,
               "runs only under scripts/oracles/crystal-gemmi.sh"))
func gemmiOracleBridge() throws {
    let dir = ProcessInfo.processInfo.environment["STEMRUN_GEMMI_ORACLE_DIR"]!
    let data = try Data(contentsOf: URL(fileURLWithPath: dir + "/input.json"))
    let jobs = try #require(try JSONSerialization.jsonObject(with: data) as? [[String: Any]])
    var results: [[String: Any]] = []
    for job in jobs {
        let name = try #require(job["cif"] as? String)
        let hkl = try #require(job["hkl"] as? [[Int]])
        let structure = try CIFReader.read(path: dir + "/" + name)
        let f = hkl.map { r -> [Double] in
            let v = structure.structureFactor(r[0], r[1], r[2])
            return [v.re, v.im]
        }
        results.append(["cif": name, "atoms": structure.atoms.count, "operations": structure.spaceGroup.operations.count, "F": f])
    }
    // The operations of every built-in space group, in x,y,z notation.
    var groups: [String: [String]] = [:]
    for n in SpaceGroup.builtInNumbers { groups[String(n)] = try SpaceGroup(number: n).operations.map(\.description) }
    let out: [String: Any] = ["structures": results, "groups": groups]
    try JSONSerialization.data(withJSONObject: out).write(to: URL(fileURLWithPath: dir + "/stemrun.json"))
}
