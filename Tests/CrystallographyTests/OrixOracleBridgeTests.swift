import Foundation
import Testing
import Crystallography

/// The stemrun side of `scripts/oracles/crystal-orix.sh`: reads `input.json` from `$STEMRUN_ORIX_ORACLE_DIR` and writes
/// `stemrun.json` with quaternions from Euler angles, Euler angles from quaternions and symmetry-reduced
/// misorientation angles, which the script compares with orix. Enabled only when the script sets the variable.
@Test(.enabled(if: ProcessInfo.processInfo.environment["STEMRUN_ORIX_ORACLE_DIR"] != nil,
               "runs only under scripts/oracles/crystal-orix.sh"))
func orixOracleBridge() throws {
    let dir = ProcessInfo.processInfo.environment["STEMRUN_ORIX_ORACLE_DIR"]!
    let data = try Data(contentsOf: URL(fileURLWithPath: dir + "/input.json"))
    let input = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    let eulers = try #require(input["euler"] as? [[Double]])
    let quaternions = try #require(input["quaternions"] as? [[Double]])
    let pairs = try #require(input["pairs"] as? [[String: Any]])
    let fromEuler = eulers.map { e -> [Double] in
        let q = Orientation(euler: EulerAngles(phi1: e[0], Phi: e[1], phi2: e[2])).quaternion
        return [q.w, q.x, q.y, q.z]
    }
    let toEuler = quaternions.map { q -> [Double] in
        let e = Orientation(quaternion: Quaternion(w: q[0], x: q[1], y: q[2], z: q[3])).euler
        return [e.phi1, e.Phi, e.phi2]
    }
    var angles: [Double] = []
    for p in pairs {
        let name = try #require(p["group"] as? String)
        let group = try #require(ProperPointGroup(rawValue: name))
        let a = try #require(p["a"] as? [Double]), b = try #require(p["b"] as? [Double])
        let oa = Orientation(quaternion: Quaternion(w: a[0], x: a[1], y: a[2], z: a[3]))
        let ob = Orientation(quaternion: Quaternion(w: b[0], x: b[1], y: b[2], z: b[3]))
        angles.append(oa.disorientationAngle(to: ob, symmetry: PointGroup(group)))
    }
    let out: [String: Any] = ["quaternion_from_euler": fromEuler, "euler_from_quaternion": toEuler, "disorientation": angles]
    try JSONSerialization.data(withJSONObject: out).write(to: URL(fileURLWithPath: dir + "/stemrun.json"))
}
