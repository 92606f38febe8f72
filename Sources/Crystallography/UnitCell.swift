import Foundation

/// The seven crystal systems (lattice-symmetry families).
public enum CrystalSystem: String, Sendable, CaseIterable, Codable {
    case triclinic, monoclinic, orthorhombic, tetragonal, trigonal, hexagonal, cubic
}

/// A unit cell: edges a, b, c in Å and inter-axial angles α, β, γ in degrees.
///
/// Cartesian frame (the "crystal frame" of every orientation in this module): **a** along x, **b** in the
/// x-y plane, **c** completing a right-handed set (the convention of International Tables Vol. B §1.1 and
/// of orix/MTEX for hexagonal cells, x ∥ a). Reciprocal vectors carry no 2π: |g_hkl| = 1/d_hkl.
public struct UnitCell: Hashable, Sendable, CustomStringConvertible {
    public let a: Double, b: Double, c: Double
    public let alpha: Double, beta: Double, gamma: Double

    /// Columns are the direct basis vectors **a**, **b**, **c** in Cartesian coordinates (Å):
    /// r_cart = directBasis * r_frac.
    public let directBasis: Matrix3
    /// Columns are **a***, **b***, **c*** in Cartesian coordinates (Å⁻¹): g_cart = reciprocalBasis * (h,k,l).
    public let reciprocalBasis: Matrix3

    public init(a: Double, b: Double, c: Double, alpha: Double = 90, beta: Double = 90, gamma: Double = 90) throws {
        for (name, v) in [("a", a), ("b", b), ("c", c)] where !(v.isFinite && v > 0) {
            throw CrystallographyError.invalidCell("\(name) = \(v) Å: expected a positive length")
        }
        for (name, v) in [("alpha", alpha), ("beta", beta), ("gamma", gamma)] where !(v.isFinite && v > 0 && v < 180) {
            throw CrystallographyError.invalidCell("\(name) = \(v)°: expected an angle strictly between 0 and 180")
        }
        let ca = cos(alpha * .pi / 180), cb = cos(beta * .pi / 180)
        let cg = cos(gamma * .pi / 180), sg = sin(gamma * .pi / 180)
        let vol2 = 1 - ca * ca - cb * cb - cg * cg + 2 * ca * cb * cg
        guard vol2 > 1e-12 else {
            throw CrystallographyError.invalidCell("angles α=\(alpha)°, β=\(beta)°, γ=\(gamma)° do not form a cell of positive volume")
        }
        self.a = a; self.b = b; self.c = c
        self.alpha = alpha; self.beta = beta; self.gamma = gamma
        let av = Vector3(a, 0, 0)
        let bv = Vector3(b * cg, b * sg, 0)
        let cx = c * cb
        let cy = c * (ca - cb * cg) / sg
        let cz = (max(0, c * c - cx * cx - cy * cy)).squareRoot()
        let cv = Vector3(cx, cy, cz)
        directBasis = Matrix3(columns: av, bv, cv)
        // a* = (b x c)/V etc.: the rows of the inverse of the direct basis.
        let inv = directBasis.inverse!
        reciprocalBasis = Matrix3(columns: inv.r0, inv.r1, inv.r2)
    }

    public static func cubic(_ a: Double) throws -> UnitCell { try UnitCell(a: a, b: a, c: a) }
    public static func hexagonal(a: Double, c: Double) throws -> UnitCell { try UnitCell(a: a, b: a, c: c, gamma: 120) }

    /// Cell volume in Å³.
    public var volume: Double { directBasis.determinant }

    /// Direct metric tensor G_ij = a_i · a_j (Å²).
    public var directMetric: Matrix3 { directBasis.transposed * directBasis }
    /// Reciprocal metric tensor G* = G⁻¹ (Å⁻²).
    public var reciprocalMetric: Matrix3 { reciprocalBasis.transposed * reciprocalBasis }

    /// Cartesian reciprocal vector of (h, k, l), Å⁻¹ (no 2π).
    @inlinable public func reciprocalVector(_ h: Double, _ k: Double, _ l: Double) -> Vector3 {
        reciprocalBasis * Vector3(h, k, l)
    }

    /// Cartesian position (Å) of fractional coordinates.
    @inlinable public func cartesian(fractional f: Vector3) -> Vector3 { directBasis * f }

    /// Cartesian direction (Å) of the lattice direction [u v w].
    @inlinable public func direction(_ u: Double, _ v: Double, _ w: Double) -> Vector3 { directBasis * Vector3(u, v, w) }

    /// 1/d² of (h,k,l) from the reciprocal metric (Å⁻²).
    public func inverseDSquared(_ h: Int, _ k: Int, _ l: Int) -> Double {
        let g = reciprocalVector(Double(h), Double(k), Double(l))
        return dot(g, g)
    }

    /// Interplanar spacing d_hkl in Å (infinite for 000).
    public func dSpacing(_ h: Int, _ k: Int, _ l: Int) -> Double {
        let q = inverseDSquared(h, k, l)
        return q > 0 ? 1 / q.squareRoot() : .infinity
    }

    /// The most symmetric crystal system the metric allows (tolerances 1e-4 Å and 1e-3°). The space group decides
    /// the true system; this is a fallback for cells given without symmetry.
    public var metricSystem: CrystalSystem {
        func eq(_ x: Double, _ y: Double) -> Bool { abs(x - y) < 1e-4 }
        func ang(_ x: Double, _ y: Double) -> Bool { abs(x - y) < 1e-3 }
        let right = ang(alpha, 90) && ang(beta, 90) && ang(gamma, 90)
        if right && eq(a, b) && eq(b, c) { return .cubic }
        if ang(alpha, 90) && ang(beta, 90) && ang(gamma, 120) && eq(a, b) { return .hexagonal }
        if right && eq(a, b) { return .tetragonal }
        if eq(a, b) && eq(b, c) && ang(alpha, beta) && ang(beta, gamma) { return .trigonal }
        if right { return .orthorhombic }
        if ang(alpha, 90) && ang(gamma, 90) { return .monoclinic }
        return .triclinic
    }

    public var description: String {
        String(format: "a=%.4f b=%.4f c=%.4f Å, α=%.3f β=%.3f γ=%.3f°", a, b, c, alpha, beta, gamma)
    }
}
