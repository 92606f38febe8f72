/// Cartesian or fractional 3-vectors in double precision.
public typealias Vector3 = SIMD3<Double>

@inlinable public func dot(_ a: Vector3, _ b: Vector3) -> Double { a.x * b.x + a.y * b.y + a.z * b.z }

@inlinable public func cross(_ a: Vector3, _ b: Vector3) -> Vector3 {
    Vector3(a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x)
}

@inlinable public func length(_ a: Vector3) -> Double { dot(a, a).squareRoot() }

/// `a / |a|`, or `fallback` when `a` is (numerically) zero.
@inlinable public func normalized(_ a: Vector3, fallback: Vector3 = Vector3(0, 0, 1)) -> Vector3 {
    let n = length(a)
    return n > 1e-300 ? a / n : fallback
}

/// A 3 x 3 real matrix stored by rows; `m * v` is the usual matrix-vector product.
public struct Matrix3: Hashable, Sendable, CustomStringConvertible {
    public var r0: Vector3, r1: Vector3, r2: Vector3

    public init(rows r0: Vector3, _ r1: Vector3, _ r2: Vector3) {
        self.r0 = r0; self.r1 = r1; self.r2 = r2
    }

    /// The matrix whose columns are `c0`, `c1`, `c2`.
    public init(columns c0: Vector3, _ c1: Vector3, _ c2: Vector3) {
        self.init(rows: Vector3(c0.x, c1.x, c2.x), Vector3(c0.y, c1.y, c2.y), Vector3(c0.z, c1.z, c2.z))
    }

    public static let identity = Matrix3(rows: Vector3(1, 0, 0), Vector3(0, 1, 0), Vector3(0, 0, 1))

    public subscript(row: Int, column: Int) -> Double {
        switch row {
        case 0: return r0[column]
        case 1: return r1[column]
        default: return r2[column]
        }
    }

    public var column0: Vector3 { Vector3(r0.x, r1.x, r2.x) }
    public var column1: Vector3 { Vector3(r0.y, r1.y, r2.y) }
    public var column2: Vector3 { Vector3(r0.z, r1.z, r2.z) }

    public var transposed: Matrix3 { Matrix3(rows: column0, column1, column2) }

    public var determinant: Double { dot(r0, cross(r1, r2)) }

    /// The inverse, or nil for a (numerically) singular matrix.
    public var inverse: Matrix3? {
        let det = determinant
        guard abs(det) > 1e-300 else { return nil }
        // Rows of the inverse are the cross products of the columns' complements (adjugate / det).
        let c0 = cross(r1, r2), c1 = cross(r2, r0), c2 = cross(r0, r1)
        return Matrix3(columns: c0 / det, c1 / det, c2 / det)
    }

    @inlinable public static func * (m: Matrix3, v: Vector3) -> Vector3 {
        Vector3(dot(m.r0, v), dot(m.r1, v), dot(m.r2, v))
    }

    public static func * (a: Matrix3, b: Matrix3) -> Matrix3 {
        let bt = b.transposed
        return Matrix3(rows: bt * a.r0, bt * a.r1, bt * a.r2)
    }

    public var description: String { "[\(r0.x) \(r0.y) \(r0.z); \(r1.x) \(r1.y) \(r1.z); \(r2.x) \(r2.y) \(r2.z)]" }
}
