/// A space-group symmetry operation (W, w) acting on fractional coordinates: x' = W x + w.
///
/// W is an integer matrix (stored by rows); the translation is held exactly as multiples of 1/24, which
/// represents every translation of the International Tables settings (1/2, 1/3, 1/4, 1/6, 1/8, 1/12),
/// so that operations compare exactly and group closure never suffers from rounding.
public struct SymmetryOperation: Hashable, Sendable, CustomStringConvertible {
    /// Rows of W, row-major (9 integers).
    public let rotation: [Int]
    /// Translation numerators over 24, reduced to 0..<24.
    public let translation24: SIMD3<Int>

    public init(rotation: [Int], translation24: SIMD3<Int>) {
        precondition(rotation.count == 9)
        self.rotation = rotation
        self.translation24 = SIMD3(Self.mod24(translation24.x), Self.mod24(translation24.y), Self.mod24(translation24.z))
    }

    public static let identity = SymmetryOperation(rotation: [1, 0, 0, 0, 1, 0, 0, 0, 1], translation24: .zero)

    @inline(__always) static func mod24(_ v: Int) -> Int { ((v % 24) + 24) % 24 }

    /// Translation as fractions in [0, 1).
    public var translation: Vector3 {
        Vector3(Double(translation24.x), Double(translation24.y), Double(translation24.z)) / 24
    }

    /// W as a real matrix.
    public var rotationMatrix: Matrix3 {
        let r = rotation.map(Double.init)
        return Matrix3(rows: Vector3(r[0], r[1], r[2]), Vector3(r[3], r[4], r[5]), Vector3(r[6], r[7], r[8]))
    }

    /// det W: +1 for proper, -1 for improper operations.
    public var determinant: Int {
        let m = rotation
        return m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6]) + m[2] * (m[3] * m[7] - m[4] * m[6])
    }

    /// Applies the operation to fractional coordinates (the result is not wrapped into the cell).
    @inlinable public func apply(_ x: Vector3) -> Vector3 {
        let m = rotation
        return Vector3(Double(m[0]) * x.x + Double(m[1]) * x.y + Double(m[2]) * x.z,
                       Double(m[3]) * x.x + Double(m[4]) * x.y + Double(m[5]) * x.z,
                       Double(m[6]) * x.x + Double(m[7]) * x.y + Double(m[8]) * x.z) + translation
    }

    /// The product `self ∘ other` (apply `other` first): (W1, w1)(W2, w2) = (W1 W2, W1 w2 + w1).
    public func composed(with other: SymmetryOperation) -> SymmetryOperation {
        var r = [Int](repeating: 0, count: 9)
        for i in 0 ..< 3 { for j in 0 ..< 3 { for k in 0 ..< 3 { r[3 * i + j] += rotation[3 * i + k] * other.rotation[3 * k + j] } } }
        let t = other.translation24
        let wt = SIMD3(rotation[0] * t.x + rotation[1] * t.y + rotation[2] * t.z,
                       rotation[3] * t.x + rotation[4] * t.y + rotation[5] * t.z,
                       rotation[6] * t.x + rotation[7] * t.y + rotation[8] * t.z)
        return SymmetryOperation(rotation: r, translation24: wt &+ translation24)
    }

    /// The operation in the usual "x,y,z" notation, e.g. "-y+1/2,x,z+3/4".
    public var description: String {
        let names = ["x", "y", "z"]
        var parts: [String] = []
        for i in 0 ..< 3 {
            var s = ""
            for j in 0 ..< 3 {
                let c = rotation[3 * i + j]
                if c == 0 { continue }
                let sign = c < 0 ? "-" : (s.isEmpty ? "" : "+")
                let mag = abs(c) == 1 ? "" : "\(abs(c))*"
                s += sign + mag + names[j]
            }
            let t = translation24[i]
            if t != 0 {
                let g = gcd(t, 24)
                s += "+\(t / g)/\(24 / g)"
            }
            parts.append(s.isEmpty ? "0" : s)
        }
        return parts.joined(separator: ",")
    }

    private func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }

    /// Parses an operation in the CIF `_space_group_symop_operation_xyz` / `_symmetry_equiv_pos_as_xyz` form:
    /// three comma-separated affine expressions in x, y, z with integer coefficients and rational or decimal
    /// constants, e.g. `-x+1/2, y, -z`, `1/2+X,1/2-Y,Z`, `x-y,x,z+0.5`. Decimal translations must be within
    /// 0.002 of a multiple of 1/24 (so 0.3333 reads as 1/3).
    public init(parsing text: String) throws {
        let components = text.split(separator: ",", omittingEmptySubsequences: false)
        guard components.count == 3 else {
            throw CrystallographyError.invalidSymmetryOperation(text, reason: "found \(components.count) components")
        }
        var rot = [Int](repeating: 0, count: 9)
        var trans = SIMD3<Int>(0, 0, 0)
        for (row, comp) in components.enumerated() {
            let (coefficients, constant) = try Self.parseAffine(String(comp), whole: text)
            for j in 0 ..< 3 { rot[3 * row + j] = coefficients[j] }
            let scaled = constant * 24
            let rounded = scaled.rounded()
            guard abs(scaled - rounded) < 0.05 else {
                throw CrystallographyError.invalidSymmetryOperation(text, reason: "translation \(constant) is not a multiple of 1/24")
            }
            trans[row] = Int(rounded)
        }
        let op = SymmetryOperation(rotation: rot, translation24: trans)
        guard abs(op.determinant) == 1 else {
            throw CrystallographyError.invalidSymmetryOperation(text, reason: "the linear part has determinant \(op.determinant), not ±1")
        }
        self = op
    }

    /// Parses one affine expression: returns the integer coefficients of x, y, z and the constant.
    private static func parseAffine(_ raw: String, whole: String) throws -> ([Int], Double) {
        let s = raw.lowercased().filter { !$0.isWhitespace }
        guard !s.isEmpty else { throw CrystallographyError.invalidSymmetryOperation(whole, reason: "an empty component") }
        // Split into signed terms.
        var terms: [String] = []
        var current = ""
        for ch in s {
            if (ch == "+" || ch == "-") && !current.isEmpty && current != "+" && current != "-" {
                terms.append(current); current = String(ch)
            } else {
                current.append(ch)
            }
        }
        terms.append(current)
        var coefficients = [0, 0, 0]
        var constant = 0.0
        for var term in terms {
            var sign = 1
            if term.hasPrefix("-") { sign = -1; term.removeFirst() } else if term.hasPrefix("+") { term.removeFirst() }
            guard !term.isEmpty else { throw CrystallographyError.invalidSymmetryOperation(whole, reason: "a dangling sign in '\(raw)'") }
            if let v = term.last, let axis = "xyz".firstIndex(of: v) {
                let idx = "xyz".distance(from: "xyz".startIndex, to: axis)
                var factor = String(term.dropLast())
                if factor.hasSuffix("*") { factor.removeLast() }
                let mult: Int
                if factor.isEmpty { mult = 1 } else if let m = Int(factor) { mult = m } else {
                    throw CrystallographyError.invalidSymmetryOperation(whole, reason: "cannot read the coefficient '\(factor)' of \(v)")
                }
                coefficients[idx] += sign * mult
            } else if let slash = term.firstIndex(of: "/") {
                guard let n = Double(term[term.startIndex ..< slash]),
                      let d = Double(term[term.index(after: slash)...]), d != 0 else {
                    throw CrystallographyError.invalidSymmetryOperation(whole, reason: "cannot read the fraction '\(term)'")
                }
                constant += Double(sign) * n / d
            } else if let v = Double(term) {
                constant += Double(sign) * v
            } else {
                throw CrystallographyError.invalidSymmetryOperation(whole, reason: "cannot read the term '\(term)'")
            }
        }
        return (coefficients, constant)
    }
}

/// Closes a set of generators into the full (finite) group of operations modulo lattice translations.
/// Throws when the closure exceeds `limit` operations (generators inconsistent with any space group).
public func closeGroup(generators: [SymmetryOperation], limit: Int = 192) throws -> [SymmetryOperation] {
    var ops: [SymmetryOperation] = [.identity]
    var seen: Set<SymmetryOperation> = [.identity]
    var frontier = [SymmetryOperation.identity]
    while !frontier.isEmpty {
        var next: [SymmetryOperation] = []
        for a in frontier {
            for g in generators {
                let p = g.composed(with: a)
                if seen.insert(p).inserted {
                    ops.append(p); next.append(p)
                    if ops.count > limit {
                        throw CrystallographyError.groupDoesNotClose("more than \(limit) operations generated from \(generators.map(\.description))")
                    }
                }
            }
        }
        frontier = next
    }
    return ops
}
