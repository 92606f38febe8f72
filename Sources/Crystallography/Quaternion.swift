import Foundation

/// A quaternion q = w + x i + y j + z k with the Hamilton product (i² = j² = k² = ijk = -1).
///
/// Unit quaternions represent rotations. `rotate(_:)` applies the *active* rotation v ↦ q v q*, whose matrix is
/// `matrix`; q and -q are the same rotation (`canonical` picks w ≥ 0).
public struct Quaternion: Hashable, Sendable, CustomStringConvertible {
    public var w: Double, x: Double, y: Double, z: Double

    @inlinable public init(w: Double, x: Double, y: Double, z: Double) {
        self.w = w; self.x = x; self.y = y; self.z = z
    }

    public static let identity = Quaternion(w: 1, x: 0, y: 0, z: 0)

    /// Rotation by `angle` radians (right-handed) about `axis` (normalised here).
    public init(axis: Vector3, angle: Double) {
        let n = Crystallography.normalized(axis)
        let s = sin(angle / 2)
        self.init(w: cos(angle / 2), x: n.x * s, y: n.y * s, z: n.z * s)
    }

    /// The unit quaternion of a proper rotation matrix (Shepperd's method, numerically stable for all angles).
    public init(rotationMatrix m: Matrix3) {
        let trace = m[0, 0] + m[1, 1] + m[2, 2]
        var q: Quaternion
        if trace > 0 {
            let s = (trace + 1).squareRoot() * 2
            q = Quaternion(w: 0.25 * s, x: (m[2, 1] - m[1, 2]) / s, y: (m[0, 2] - m[2, 0]) / s, z: (m[1, 0] - m[0, 1]) / s)
        } else if m[0, 0] > m[1, 1] && m[0, 0] > m[2, 2] {
            let s = (1 + m[0, 0] - m[1, 1] - m[2, 2]).squareRoot() * 2
            q = Quaternion(w: (m[2, 1] - m[1, 2]) / s, x: 0.25 * s, y: (m[0, 1] + m[1, 0]) / s, z: (m[0, 2] + m[2, 0]) / s)
        } else if m[1, 1] > m[2, 2] {
            let s = (1 + m[1, 1] - m[0, 0] - m[2, 2]).squareRoot() * 2
            q = Quaternion(w: (m[0, 2] - m[2, 0]) / s, x: (m[0, 1] + m[1, 0]) / s, y: 0.25 * s, z: (m[1, 2] + m[2, 1]) / s)
        } else {
            let s = (1 + m[2, 2] - m[0, 0] - m[1, 1]).squareRoot() * 2
            q = Quaternion(w: (m[1, 0] - m[0, 1]) / s, x: (m[0, 2] + m[2, 0]) / s, y: (m[1, 2] + m[2, 1]) / s, z: 0.25 * s)
        }
        self = q.normalized.canonical
    }

    public var vector: Vector3 { Vector3(x, y, z) }
    public var norm: Double { (w * w + x * x + y * y + z * z).squareRoot() }

    public var normalized: Quaternion {
        let n = norm
        guard n > 1e-300 else { return .identity }
        return Quaternion(w: w / n, x: x / n, y: y / n, z: z / n)
    }

    /// The conjugate w - xi - yj - zk (the inverse of a unit quaternion).
    public var conjugate: Quaternion { Quaternion(w: w, x: -x, y: -y, z: -z) }
    public var inverse: Quaternion { conjugate }

    /// The representative with w ≥ 0 (ties broken on the first non-zero vector component).
    public var canonical: Quaternion {
        if w > 1e-12 { return self }
        if w < -1e-12 { return Quaternion(w: -w, x: -x, y: -y, z: -z) }
        for c in [x, y, z] where abs(c) > 1e-12 {
            return c > 0 ? Quaternion(w: 0, x: x, y: y, z: z) : Quaternion(w: 0, x: -x, y: -y, z: -z)
        }
        return self
    }

    /// Hamilton product: (p q) v (p q)* = p (q v q*) p*, i.e. `q` is applied first.
    @inlinable public static func * (p: Quaternion, q: Quaternion) -> Quaternion {
        Quaternion(w: p.w * q.w - p.x * q.x - p.y * q.y - p.z * q.z,
                   x: p.w * q.x + p.x * q.w + p.y * q.z - p.z * q.y,
                   y: p.w * q.y - p.x * q.z + p.y * q.w + p.z * q.x,
                   z: p.w * q.z + p.x * q.y - p.y * q.x + p.z * q.w)
    }

    /// Active rotation of a vector: q v q*.
    @inlinable public func rotate(_ v: Vector3) -> Vector3 {
        let u = Vector3(x, y, z)
        let t = 2 * cross(u, v)
        return v + w * t + cross(u, t)
    }

    /// Rotation angle in radians, 0...π (for a unit quaternion).
    public var angle: Double { 2 * acos(min(1, abs(w))) }

    /// The rotation axis (unit vector; +z for the identity).
    public var axis: Vector3 { Crystallography.normalized(vector) }

    /// The active rotation matrix R with R v = q v q*.
    public var matrix: Matrix3 {
        let ww = w * w, xx = x * x, yy = y * y, zz = z * z
        return Matrix3(rows: Vector3(ww + xx - yy - zz, 2 * (x * y - w * z), 2 * (x * z + w * y)),
                       Vector3(2 * (x * y + w * z), ww - xx + yy - zz, 2 * (y * z - w * x)),
                       Vector3(2 * (x * z - w * y), 2 * (y * z + w * x), ww - xx - yy + zz))
    }

    /// |p · q| = |cos(θ/2)| of the rotation p⁻¹q: 1 for equal rotations.
    @inlinable public func absDot(_ q: Quaternion) -> Double { abs(w * q.w + x * q.x + y * q.y + z * q.z) }

    /// Angle (radians) of the rotation taking `self` to `q` (no symmetry).
    public func angle(to q: Quaternion) -> Double { 2 * acos(min(1, absDot(q))) }

    public var description: String { String(format: "(%.6f, %.6f, %.6f, %.6f)", w, x, y, z) }
}
