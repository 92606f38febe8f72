import Foundation

/// Bunge Euler angles (φ1, Φ, φ2) in radians, ZXZ convention.
public struct EulerAngles: Hashable, Sendable, CustomStringConvertible {
    public var phi1: Double, Phi: Double, phi2: Double

    public init(phi1: Double, Phi: Double, phi2: Double) {
        self.phi1 = phi1; self.Phi = Phi; self.phi2 = phi2
    }

    /// From degrees.
    public init(degrees phi1: Double, _ Phi: Double, _ phi2: Double) {
        self.init(phi1: phi1 * .pi / 180, Phi: Phi * .pi / 180, phi2: phi2 * .pi / 180)
    }

    /// (φ1, Φ, φ2) in degrees.
    public var degrees: (Double, Double, Double) { (phi1 * 180 / .pi, Phi * 180 / .pi, phi2 * 180 / .pi) }

    public var description: String {
        let d = degrees
        return String(format: "(%.4f°, %.4f°, %.4f°)", d.0, d.1, d.2)
    }
}

/// A crystal orientation, in the convention of orix and MTEX (Rowenhorst et al., Modelling Simul. Mater. Sci.
/// Eng. 23 (2015) 083501, with the passive Bunge matrix):
///
/// - the orientation *g* maps **sample** coordinates to **crystal** coordinates: v_crystal = G v_sample, where
///   G = Z(φ2) X(Φ) Z(φ1) is the Bunge matrix with rows
///   ( c1c2−s1s2c, s1c2+c1s2c, s2s ), ( −c1s2−s1c2c, −s1s2+c1c2c, c2s ), ( s1s, −c1s, c );
/// - the quaternion q of g is the unit quaternion whose active matrix equals G, i.e. v_crystal = q v_sample q*;
///   from the Euler angles, q = (cos(Φ/2)cos σ, −sin(Φ/2)cos δ, −sin(Φ/2)sin δ, −cos(Φ/2)sin σ) with
///   σ = (φ1+φ2)/2, δ = (φ1−φ2)/2 (orix `Orientation.from_euler` gives the same numbers);
/// - the crystal frame is the Cartesian frame of `UnitCell` (x ∥ a, z ∥ c*), the sample frame has z along the
///   beam and x, y along the detector columns and rows;
/// - a crystal symmetry s (active rotation in the crystal frame) gives the equivalent orientation s·g.
public struct Orientation: Hashable, Sendable, CustomStringConvertible {
    /// Unit quaternion, w ≥ 0.
    public let quaternion: Quaternion

    public init(quaternion: Quaternion) { self.quaternion = quaternion.normalized.canonical }

    public static let identity = Orientation(quaternion: .identity)

    /// From Bunge Euler angles (radians).
    public init(euler e: EulerAngles) {
        let sigma = (e.phi1 + e.phi2) / 2, delta = (e.phi1 - e.phi2) / 2
        let c = cos(e.Phi / 2), s = sin(e.Phi / 2)
        self.init(quaternion: Quaternion(w: c * cos(sigma), x: -s * cos(delta), y: -s * sin(delta), z: -c * sin(sigma)))
    }

    /// From the sample-to-crystal matrix G (proper orthogonal).
    public init(matrix: Matrix3) { self.init(quaternion: Quaternion(rotationMatrix: matrix)) }

    /// The sample-to-crystal matrix G.
    public var matrix: Matrix3 { quaternion.matrix }

    /// Bunge Euler angles with φ1, φ2 in [0, 2π) and Φ in [0, π].
    public var euler: EulerAngles {
        let g = matrix
        let c = max(-1, min(1, g[2, 2]))
        let Phi = acos(c)
        var phi1: Double, phi2: Double
        if sin(Phi) > 1e-9 {
            phi1 = atan2(g[2, 0], -g[2, 1])
            phi2 = atan2(g[0, 2], g[1, 2])
        } else {
            // Φ = 0 or π: only φ1 ± φ2 is defined; put it all in φ1.
            phi1 = atan2(g[0, 1], g[0, 0])
            phi2 = 0
        }
        func wrap(_ a: Double) -> Double { let t = a.truncatingRemainder(dividingBy: 2 * .pi); return t < 0 ? t + 2 * .pi : t }
        return EulerAngles(phi1: wrap(phi1), Phi: Phi, phi2: wrap(phi2))
    }

    /// Crystal-frame coordinates of a sample-frame vector: G v.
    @inlinable public func toCrystal(_ v: Vector3) -> Vector3 { quaternion.rotate(v) }
    /// Sample-frame coordinates of a crystal-frame vector: Gᵀ v.
    @inlinable public func toSample(_ v: Vector3) -> Vector3 { quaternion.conjugate.rotate(v) }

    /// The beam direction (sample +z) in the crystal Cartesian frame.
    public var beamDirectionInCrystal: Vector3 { toCrystal(Vector3(0, 0, 1)) }

    /// The orientation that puts the crystal direction `zoneAxis` (crystal Cartesian frame, e.g.
    /// `cell.direction(u, v, w)`) along the beam (sample +z), then turns the crystal by `inPlane` radians about the
    /// beam. `inPlane` = 0 puts the crystal's projection of a reference direction (a, or b when a ∥ beam) along
    /// sample +x. Turning the crystal by ψ turns its diffraction pattern by ψ: every spot (gx, gy) of
    /// `zoneAxis(d, inPlane: ψ)` is the spot of `zoneAxis(d)` rotated counter-clockwise by ψ (x towards y), with the
    /// same excitation error and intensity — so a template library needs one spot list per zone axis.
    public static func zoneAxis(_ zoneAxis: Vector3, inPlane: Double = 0) -> Orientation {
        let zc = normalized(zoneAxis)
        // Pick a crystal reference direction not parallel to the zone axis and orthogonalise it.
        var ref = Vector3(1, 0, 0)
        if abs(dot(ref, zc)) > 0.99 { ref = Vector3(0, 1, 0) }
        let xc = normalized(ref - dot(ref, zc) * zc)
        let yc = cross(zc, xc)
        // G has rows = sample axes expressed in the crystal frame: G maps sample x,y,z to crystal xc, yc, zc
        // as columns, so G = [xc yc zc] (columns).
        let g0 = Matrix3(columns: xc, yc, zc)
        let base = Orientation(matrix: g0)
        // A rotation about the beam in the sample frame: G' = G R_z(-inPlane) turns the crystal by +inPlane.
        let rz = Quaternion(axis: Vector3(0, 0, 1), angle: -inPlane)
        return Orientation(quaternion: base.quaternion * rz)
    }

    /// g1 · g2 composition on quaternions (apply `other` first).
    public static func * (a: Orientation, b: Orientation) -> Orientation { Orientation(quaternion: a.quaternion * b.quaternion) }

    public var inverse: Orientation { Orientation(quaternion: quaternion.conjugate) }

    /// The misorientation Δ = g_b g_a⁻¹ (crystal a frame to crystal b frame) without symmetry.
    public func misorientation(to b: Orientation) -> Quaternion { b.quaternion * quaternion.conjugate }

    /// The disorientation angle (radians) to `b` for two crystals of the same point group: the smallest angle of
    /// s Δ over every s in `symmetry` (conjugation leaves angles unchanged, so one sum over G covers s₂ Δ s₁⁻¹).
    public func disorientationAngle(to b: Orientation, symmetry: PointGroup) -> Double {
        let d = misorientation(to: b)
        var best = 0.0
        for s in symmetry.rotations {
            let w = abs(s.w * d.w - s.x * d.x - s.y * d.y - s.z * d.z)
            if w > best { best = w }
        }
        return 2 * acos(min(1, best))
    }

    /// The symmetrically equivalent orientations s·g.
    public func equivalents(under symmetry: PointGroup) -> [Orientation] {
        symmetry.rotations.map { Orientation(quaternion: $0 * quaternion) }
    }

    public var description: String { "Orientation q=\(quaternion) Euler=\(euler)" }
}
