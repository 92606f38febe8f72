import Foundation

extension PointGroup {
    /// The symmetry-equivalent of a crystal direction inside the standard stereographic triangle of the Laue class
    /// (the `DirectionSector.laueTriangle` of `OrientationSampling`; [001]–[101]–[111] for cubic groups), using the
    /// rotations and their products with the inversion. For inverse-pole-figure colouring, pass the beam direction
    /// `orientation.beamDirectionInCrystal`. The input need not be normalised; the result is a unit vector.
    public func standardTriangleDirection(_ v: Vector3) -> Vector3 {
        let d = normalized(v)
        let c = OrientationSampling.sectorCentre
        var best = d, bestDot = -Double.infinity
        // The image closest to the triangle's centre point lies in its Dirichlet cell, i.e. in the triangle.
        for m in OrientationSampling.laueActions(self) {
            let e = m * d
            let t = dot(e, c)
            if t > bestDot + 1e-15 { bestDot = t; best = e }
        }
        return best
    }
}

extension Orientation {
    /// The symmetry-equivalent orientation s·g (s in `symmetry`) with the smallest rotation angle, i.e. inside the
    /// Rodrigues fundamental zone of the point group (as orix `Orientation.map_into_symmetry_reduced_zone`).
    public func reduced(to symmetry: PointGroup) -> Orientation {
        let q = quaternion
        var best = q, bestW = -1.0
        for s in symmetry.rotations {
            let e = s * q
            if abs(e.w) > bestW + 1e-15 { bestW = abs(e.w); best = e }
        }
        return Orientation(quaternion: best)
    }
}
