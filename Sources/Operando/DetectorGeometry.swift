import Foundation
import STEMCore

/// Calibration of a flat area detector in pyFAI's PONI convention, so that stemrun and pyFAI compute the
/// same scattering angle for every pixel (pyFAI documentation, "Geometry": Kieffer et al., J. Synchrotron
/// Rad. 2013 and J. Appl. Cryst. 2015).
///
/// - `distance`: sample to detector-plane distance along the plane's normal (m); the foot of that normal on
///   the detector is the point of normal incidence (PONI).
/// - `poni1`, `poni2`: PONI coordinates on the detector (m) along dimension 1 (rows, slow axis) and
///   dimension 2 (columns, fast axis), measured from the outer corner of pixel (0, 0).
/// - `rot1`, `rot2`, `rot3` (rad): detector rotations; pixel (i, j) with centre
///   p1 = (i + 1/2) pixel1 - poni1, p2 = (j + 1/2) pixel2 - poni2 is mapped to the lab frame by
///   t = R3 R2 R1 (p1, p2, L)ᵀ, and 2θ = atan2(√(t1² + t2²), t3), χ = atan2(t1, t2).
/// - `wavelength` (m).
///
/// A beam-centre style calibration (centre in pixels, no tilt) is the special case rot = 0, poni = centre
/// times pixel size; see `init(beamCentreRow:beamCentreColumn:...)`.
public struct DetectorGeometry: Hashable, Sendable, Codable, CustomStringConvertible {
    public var distance: Double
    public var poni1: Double
    public var poni2: Double
    public var rot1: Double
    public var rot2: Double
    public var rot3: Double
    /// Pixel size along rows (dimension 1), m.
    public var pixel1: Double
    /// Pixel size along columns (dimension 2), m.
    public var pixel2: Double
    public var wavelength: Double
    public var detector: DetectorShape

    public init(distance: Double, poni1: Double, poni2: Double, rot1: Double = 0, rot2: Double = 0,
                rot3: Double = 0, pixel1: Double, pixel2: Double, wavelength: Double,
                detector: DetectorShape) {
        self.distance = distance
        self.poni1 = poni1
        self.poni2 = poni2
        self.rot1 = rot1
        self.rot2 = rot2
        self.rot3 = rot3
        self.pixel1 = pixel1
        self.pixel2 = pixel2
        self.wavelength = wavelength
        self.detector = detector
    }

    /// An untilted detector with the direct beam at pixel coordinates (row, column) — pixel centres are at
    /// integer + 0.5, as in pyFAI; e.g. the centre of a 100 x 100 detector is (50, 50).
    public init(beamCentreRow: Double, beamCentreColumn: Double, distance: Double, pixelSize: Double,
                wavelength: Double, detector: DetectorShape) {
        self.init(distance: distance, poni1: beamCentreRow * pixelSize, poni2: beamCentreColumn * pixelSize,
                  pixel1: pixelSize, pixel2: pixelSize, wavelength: wavelength, detector: detector)
    }

    /// Checks that every quantity is finite and physically meaningful.
    public func validate() throws {
        func check(_ name: String, _ v: Double, positive: Bool) throws {
            guard v.isFinite, !positive || v > 0 else {
                throw STEMError.invalidParameter(name: name, value: "\(v)",
                                                 expected: positive ? "a finite value > 0" : "a finite value")
            }
        }
        try check("distance", distance, positive: true)
        try check("pixel1", pixel1, positive: true)
        try check("pixel2", pixel2, positive: true)
        try check("wavelength", wavelength, positive: true)
        try check("poni1", poni1, positive: false)
        try check("poni2", poni2, positive: false)
        try check("rot1", rot1, positive: false)
        try check("rot2", rot2, positive: false)
        try check("rot3", rot3, positive: false)
        guard detector.rows > 0, detector.columns > 0 else {
            throw STEMError.invalidParameter(name: "detector", value: "\(detector)", expected: "rows, columns >= 1")
        }
    }

    /// R = R3 · R2 · R1, row-major (pyFAI `Geometry.rotation_matrix`; rotations 1 and 2 are left-handed).
    public var rotationMatrix: [Double] {
        let (c1, s1) = (cos(rot1), sin(rot1))
        let (c2, s2) = (cos(rot2), sin(rot2))
        let (c3, s3) = (cos(rot3), sin(rot3))
        return [c2 * c3, c3 * s1 * s2 - c1 * s3, -c1 * c3 * s2 - s1 * s3,
                c2 * s3, c1 * c3 + s1 * s2 * s3, c3 * s1 - c1 * s2 * s3,
                s2, -c2 * s1, c1 * c2]
    }

    /// Lab-frame position (t1, t2, t3) of a detector point given in (fractional) pixel coordinates, where
    /// the centre of pixel (i, j) is (i + 0.5, j + 0.5).
    @inlinable
    public func labPosition(row: Double, column: Double, rotation r: [Double]) -> (Double, Double, Double) {
        let p1 = row * pixel1 - poni1, p2 = column * pixel2 - poni2, p3 = distance
        return (r[0] * p1 + r[1] * p2 + r[2] * p3,
                r[3] * p1 + r[4] * p2 + r[5] * p3,
                r[6] * p1 + r[7] * p2 + r[8] * p3)
    }

    /// Scattering angle 2θ (rad) at a detector point in pixel coordinates.
    public func twoTheta(row: Double, column: Double) -> Double {
        let (t1, t2, t3) = labPosition(row: row, column: column, rotation: rotationMatrix)
        return atan2((t1 * t1 + t2 * t2).squareRoot(), t3)
    }

    /// Per-pixel 2θ (rad), row-major, evaluated at pixel centres.
    public func twoThetaArray() -> [Double] {
        let r = rotationMatrix
        var out = [Double](repeating: 0, count: detector.pixelCount)
        for i in 0 ..< detector.rows {
            for j in 0 ..< detector.columns {
                let (t1, t2, t3) = labPosition(row: Double(i) + 0.5, column: Double(j) + 0.5, rotation: r)
                out[i * detector.columns + j] = atan2((t1 * t1 + t2 * t2).squareRoot(), t3)
            }
        }
        return out
    }

    /// Per-pixel azimuth χ = atan2(t1, t2) (rad), row-major (pyFAI `chiArray`).
    public func chiArray() -> [Double] {
        let r = rotationMatrix
        var out = [Double](repeating: 0, count: detector.pixelCount)
        for i in 0 ..< detector.rows {
            for j in 0 ..< detector.columns {
                let (t1, t2, _) = labPosition(row: Double(i) + 0.5, column: Double(j) + 0.5, rotation: r)
                out[i * detector.columns + j] = atan2(t1, t2)
            }
        }
        return out
    }

    /// Scattering vector modulus q = 4π sin(θ) / λ in Å⁻¹ for a scattering angle 2θ (rad).
    @inlinable
    public func q(twoTheta: Double) -> Double {
        4 * Double.pi * sin(0.5 * twoTheta) / wavelength * 1e-10
    }

    /// Lattice spacing d = λ / (2 sin θ) in Å; +∞ at 2θ = 0.
    @inlinable
    public func dSpacing(twoTheta: Double) -> Double {
        let s = sin(0.5 * twoTheta)
        return s > 0 ? wavelength * 1e10 / (2 * s) : .infinity
    }

    /// Solid-angle factor of each pixel relative to the PONI, cos³(incidence) = (L / √(L² + p1² + p2²))³,
    /// with p measured in the detector plane from the PONI (pyFAI `solidAngleArray`, which is independent of
    /// the rotations because L is the normal distance).
    public func solidAngleArray() -> [Double] {
        var out = [Double](repeating: 0, count: detector.pixelCount)
        let l2 = distance * distance
        for i in 0 ..< detector.rows {
            let p1 = (Double(i) + 0.5) * pixel1 - poni1
            for j in 0 ..< detector.columns {
                let p2 = (Double(j) + 0.5) * pixel2 - poni2
                let c = (l2 / (l2 + p1 * p1 + p2 * p2)).squareRoot()
                out[i * detector.columns + j] = c * c * c
            }
        }
        return out
    }

    /// Polarisation factor of each pixel, P = ½ (1 + cos²2θ − f cos(2χ) sin²2θ) (pyFAI
    /// `polarization(factor: f, axis_offset: 0)`; f = 1 for a beam fully polarised in the horizontal plane,
    /// f = 0 for an unpolarised beam).
    public func polarizationArray(factor: Double) -> [Double] {
        let tth = twoThetaArray(), chi = chiArray()
        var out = [Double](repeating: 0, count: detector.pixelCount)
        for p in 0 ..< out.count {
            let c2 = cos(tth[p]) * cos(tth[p])
            out[p] = 0.5 * (1 + c2 - factor * cos(2 * chi[p]) * (1 - c2))
        }
        return out
    }

    public var description: String {
        String(format: "dist %.6g m, poni (%.6g, %.6g) m, rot (%.5g, %.5g, %.5g) rad, pixel (%.4g, %.4g) m, wavelength %.6g m, detector %@",
               distance, poni1, poni2, rot1, rot2, rot3, pixel1, pixel2, wavelength, detector.description)
    }
}

/// Radial coordinate of integrated profiles. q in Å⁻¹ is the default (pyFAI unit "q_A^-1"); d in Å is
/// binned uniformly in d (pyFAI has no direct equivalent; use q for comparisons).
public enum RadialUnit: String, Sendable, Codable, CaseIterable {
    /// 2θ in degrees (pyFAI "2th_deg").
    case twoThetaDegree = "2th_deg"
    /// q = 4π sin θ / λ in nm⁻¹ (pyFAI "q_nm^-1").
    case qInverseNanometre = "q_nm^-1"
    /// q = 4π sin θ / λ in Å⁻¹ (pyFAI "q_A^-1").
    case qInverseAngstrom = "q_A^-1"
    /// d = λ / (2 sin θ) in Å.
    case dAngstrom = "d_A"

    /// The radial coordinate of a pixel at scattering angle 2θ (rad); nil where undefined (d at 2θ = 0).
    @inlinable
    public func value(twoTheta: Double, wavelength: Double) -> Double? {
        switch self {
        case .twoThetaDegree: return twoTheta * 180 / Double.pi
        case .qInverseNanometre: return 4 * Double.pi * sin(0.5 * twoTheta) / wavelength * 1e-9
        case .qInverseAngstrom: return 4 * Double.pi * sin(0.5 * twoTheta) / wavelength * 1e-10
        case .dAngstrom:
            let s = sin(0.5 * twoTheta)
            return s > 1e-12 ? wavelength * 1e10 / (2 * s) : nil
        }
    }

    /// d-spacing (Å) of a radial coordinate in this unit.
    @inlinable
    public func dSpacing(of x: Double, wavelength: Double) -> Double {
        switch self {
        case .twoThetaDegree:
            let s = sin(0.5 * x * Double.pi / 180)
            return s > 0 ? wavelength * 1e10 / (2 * s) : .infinity
        case .qInverseNanometre: return x > 0 ? 20 * Double.pi / x : .infinity
        case .qInverseAngstrom: return x > 0 ? 2 * Double.pi / x : .infinity
        case .dAngstrom: return x
        }
    }

    /// The radial coordinate in this unit of a d-spacing (Å); nil if unreachable (2θ unit beyond 180°).
    @inlinable
    public func coordinate(ofD d: Double, wavelength: Double) -> Double? {
        guard d > 0 else { return nil }
        switch self {
        case .twoThetaDegree:
            let s = wavelength * 1e10 / (2 * d)
            return s <= 1 ? 2 * asin(s) * 180 / Double.pi : nil
        case .qInverseNanometre: return 20 * Double.pi / d
        case .qInverseAngstrom: return 2 * Double.pi / d
        case .dAngstrom: return d
        }
    }
}
