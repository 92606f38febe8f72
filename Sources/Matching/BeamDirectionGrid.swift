import Crystallography
import Foundation

/// Beam directions (crystal Cartesian frame, unit vectors) sampling the part of the sphere that is unique under a
/// proper point group: the templates of a phase need one per direction, the rotation about the beam being found by
/// the polar correlation.
///
/// The sphere is sampled by a Fibonacci lattice whose point spacing equals the angular step (González, Math.
/// Geosci. 42 (2010) 49: near-equal areas 4π/N, N = 4π/step²). A direction v is kept when it lies in the Dirichlet
/// region of a generic pole u₀, v·u₀ ≥ (s v)·u₀ for every rotation s of the group: a connected fundamental region,
/// so every direction of the sphere is within about one step of a kept direction after applying some s.
public enum BeamDirectionGrid {
    /// A generic pole (on no symmetry axis or mirror of any crystallographic group), inside the cubic standard
    /// triangle so the region of the cubic groups covers it.
    static let pole = normalized(Vector3(0.31, 0.17, 0.93))

    /// Directions for `group` at about `stepDegrees` spacing, in a fixed order (the same on every rank).
    public static func directions(group: PointGroup, stepDegrees: Double) -> [Vector3] {
        let step = max(stepDegrees, 0.05) * .pi / 180
        let n = max(2, Int((4 * Double.pi / (step * step)).rounded()))
        let golden = Double.pi * (3 - 5.0.squareRoot())
        let others = group.rotations.filter { $0.angle > 1e-9 }
        var out: [Vector3] = []
        out.reserveCapacity(n / max(1, group.order) + 16)
        for i in 0 ..< n {
            let z = 1 - (2 * Double(i) + 1) / Double(n)
            let rho = (1 - z * z).squareRoot()
            let az = golden * Double(i)
            let v = Vector3(rho * cos(az), rho * sin(az), z)
            let key = dot(v, pole)
            var inside = true
            for s in others where dot(s.rotate(v), pole) > key + 1e-12 {
                inside = false
                break
            }
            if inside { out.append(v) }
        }
        return out
    }
}
