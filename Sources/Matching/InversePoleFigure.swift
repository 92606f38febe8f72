import Crystallography
import Foundation

/// Inverse-pole-figure colouring: the crystal direction parallel to a sample direction (default the beam, sample
/// Z) is reduced into the standard sector of the phase's Laue class and coloured by where it lies in that sector.
///
/// Sectors and corner colours (crystal Cartesian frame of `UnitCell`, x ∥ a, z ∥ c*):
/// - cubic (m-3m): z ≥ x ≥ y ≥ 0, [001] red, [101] green, [111] blue (the usual TSL/orix key);
/// - hexagonal (6/mmm) and trigonal (folded with the hexagonal key): azimuth ψ folded into 0…30°, upper
///   hemisphere: [0001] red, [2-1-10] (ψ = 0, ∥ a) green, [10-10] (ψ = 30°) blue;
/// - tetragonal (4/mmm): ψ folded into 0…45°: [001] red, [100] green, [110] blue;
/// - orthorhombic, monoclinic, triclinic (mmm key): |x|, |y|, |z|: [001] red, [100] green, [010] blue.
/// Colours are the barycentric weights of the direction in the sector's corners, scaled so the largest is 1.
///
/// The holohedral classes use the same corners as the Crystallography target's key
/// (`PointGroup.inversePoleFigureColor`), which `colour(_:symmetry:)` uses for -3m.
public enum InversePoleFigure {
    public typealias RGB = (Float, Float, Float)

    /// The IPF colour of `orientation` for a phase of point group `symmetry`, looking along `sampleDirection`.
    public static func colour(_ orientation: Orientation, symmetry: PointGroup,
                              sampleDirection: Vector3 = Vector3(0, 0, 1)) -> RGB {
        let d = orientation.toCrystal(normalized(sampleDirection))
        // 32 (-3m) has its own triangle in the Crystallography key; for the other holohedral groups the system
        // scheme gives the same colours (IPFAgreementTests) without rebuilding the triangle per call.
        if symmetry.name == "32", let c = symmetry.inversePoleFigureColor(d) { return (Float(c.red), Float(c.green), Float(c.blue)) }
        return colour(crystalDirection: d, system: symmetry.system)
    }

    /// The IPF colour of `orientation` for `system`, looking along `sampleDirection`.
    public static func colour(_ orientation: Orientation, system: CrystalSystem,
                              sampleDirection: Vector3 = Vector3(0, 0, 1)) -> RGB {
        colour(crystalDirection: orientation.toCrystal(normalized(sampleDirection)), system: system)
    }

    /// The colour of a crystal direction (Cartesian, any length > 0).
    public static func colour(crystalDirection d: Vector3, system: CrystalSystem) -> RGB {
        let v = reduce(normalized(d), system: system)
        var r: Double, g: Double, b: Double
        switch system {
        case .cubic:
            r = v.z - v.x; g = (v.x - v.y) * 2.0.squareRoot(); b = v.y * 3.0.squareRoot()
        case .hexagonal, .trigonal, .tetragonal:
            // Barycentric in the corners [0001], a (ψ = 0) and the direction at ψ = wedge in the basal plane.
            let wedge = system == .tetragonal ? Double.pi / 4 : Double.pi / 6
            b = v.y / sin(wedge); g = v.x - b * cos(wedge); r = v.z
        case .orthorhombic, .monoclinic, .triclinic:
            r = v.z; g = v.x; b = v.y
        }
        r = max(0, r); g = max(0, g); b = max(0, b)
        let m = max(r, g, b)
        guard m > 0 else { return (0, 0, 0) }
        return (Float(r / m), Float(g / m), Float(b / m))
    }

    /// The direction equivalent to `v` (unit) inside the sector of `system` (see the type's notes).
    public static func reduce(_ v: Vector3, system: CrystalSystem) -> Vector3 {
        switch system {
        case .cubic:
            let a = [abs(v.x), abs(v.y), abs(v.z)].sorted()   // a[0] ≤ a[1] ≤ a[2]
            return Vector3(a[1], a[0], a[2])
        case .hexagonal, .trigonal, .tetragonal:
            let wedge = system == .tetragonal ? Double.pi / 4 : Double.pi / 6
            let z = abs(v.z)
            let rho = (v.x * v.x + v.y * v.y).squareRoot()
            var psi = atan2(v.y, v.x)
            if psi < 0 { psi += 2 * .pi }
            psi = psi.truncatingRemainder(dividingBy: 2 * wedge)
            if psi > wedge { psi = 2 * wedge - psi }
            return Vector3(rho * cos(psi), rho * sin(psi), z)
        case .orthorhombic, .monoclinic, .triclinic:
            return Vector3(abs(v.x), abs(v.y), abs(v.z))
        }
    }

    /// A colour-key image of the sector of `system` in stereographic projection, `width` pixels wide: row-major
    /// colours (white outside the sector), for `MapRenderer.rgb`. Returns (width, height, colours).
    public static func key(system: CrystalSystem, width: Int = 256) -> (width: Int, height: Int, colours: [RGB]) {
        let w = max(16, width)
        // Extent of the sector in stereographic coordinates X = x / (1 + z), Y = y / (1 + z).
        let extentX: Double, extentY: Double
        switch system {
        case .cubic: extentX = 2.0.squareRoot() - 1 + 0.005; extentY = 0.37
        case .hexagonal, .trigonal: extentX = 1.005; extentY = 0.505
        case .tetragonal: extentX = 1.005; extentY = 0.715
        default: extentX = 1.005; extentY = 1.005
        }
        let h = max(8, Int((Double(w) * extentY / extentX).rounded()))
        var out = [RGB](repeating: (1, 1, 1), count: w * h)
        for row in 0 ..< h {
            for col in 0 ..< w {
                let X = (Double(col) + 0.5) / Double(w) * extentX
                let Y = (Double(h - 1 - row) + 0.5) / Double(h) * extentY
                let s = X * X + Y * Y
                guard s <= 1 else { continue }
                let v = Vector3(2 * X, 2 * Y, 1 - s) / (1 + s)
                let u = reduce(v, system: system)
                guard abs(u.x - v.x) < 1e-9, abs(u.y - v.y) < 1e-9, abs(u.z - v.z) < 1e-9 else { continue }
                out[row * w + col] = colour(crystalDirection: v, system: system)
            }
        }
        return (w, h, out)
    }
}
