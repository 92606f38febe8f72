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

extension PointGroup {
    /// Corners of the standard stereographic triangle of the Laue class (unit vectors in the crystal frame), ordered
    /// as the inverse-pole-figure colours red, green, blue: for m-3m [001], [101], [111]; for 6/mmm [0001], [2-1-10]
    /// (∥ a), [10-10]; for 4/mmm [001], [100], [110]; for mmm [001], [100], [010]; for -3m [0001] and the two
    /// bounding directions in the basal plane. Nil for the other Laue classes (-1, 2/m, 4/m, -3, 6/m, m-3), whose
    /// fundamental sectors are not bounded by mirrors.
    public var standardTriangleCorners: (Vector3, Vector3, Vector3)? {
        // Only the holohedral Laue classes have a sector bounded by three mirrors; the others' sectors have edges
        // that are not crystallographic (set by the choice of fundamental region), so no standard key exists.
        guard ["432", "622", "422", "222", "32"].contains(name) else { return nil }
        let c = OrientationSampling.sectorCentre
        let normals = OrientationSampling.laueActions(self).dropFirst().compactMap { h -> Vector3? in
            let n = c - h * c
            let l = length(n)
            return l > 1e-9 ? n / l : nil
        }
        // Bounding planes: those with a sector point on them, i.e. pairwise intersections inside the sector.
        func inside(_ v: Vector3) -> Bool { normals.allSatisfy { dot(v, $0) >= -1e-9 } }
        var corners: [Vector3] = []
        for i in 0 ..< normals.count {
            for j in (i + 1) ..< normals.count {
                let axis = cross(normals[i], normals[j])
                guard length(axis) > 1e-9 else { continue }
                for v in [normalized(axis), -normalized(axis)] where inside(v) {
                    if !corners.contains(where: { length($0 - v) < 1e-9 }) { corners.append(v) }
                }
            }
        }
        guard corners.count == 3 else { return nil }
        // Red: the corner closest to +z (the main axis); then green, blue counter-clockwise seen from outside.
        corners.sort { $0.z > $1.z }
        var (r, g, b) = (corners[0], corners[1], corners[2])
        if dot(cross(g - r, b - r), r + g + b) < 0 { swap(&g, &b) }
        return (r, g, b)
    }

    /// Inverse-pole-figure colour (red, green, blue in 0...1) of a crystal direction (e.g. the beam direction
    /// `orientation.beamDirectionInCrystal` for an IPF-Z map): the direction is reduced into the standard triangle,
    /// written as a r + b g + c b of the corners, and (a, b, c) clamped to ≥ 0 and scaled so the largest is 1 —
    /// the usual TSL/MTEX-style key (pure red, green, blue at the corners). Nil where `standardTriangleCorners` is nil.
    public func inversePoleFigureColor(_ direction: Vector3) -> (red: Double, green: Double, blue: Double)? {
        guard let (r, g, b) = standardTriangleCorners else { return nil }
        let d = standardTriangleDirection(direction)
        guard let inv = Matrix3(columns: r, g, b).inverse else { return nil }
        let w = inv * d
        let x = max(w.x, 0), y = max(w.y, 0), z = max(w.z, 0)
        let m = max(x, y, z)
        guard m > 0 else { return (0, 0, 0) }
        return (x / m, y / m, z / m)
    }
}
