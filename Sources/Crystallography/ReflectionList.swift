import Foundation

/// The reciprocal-lattice points of a phase within a radius g_max with non-negligible |F|², computed once per phase
/// and reused for every orientation (the template library and the simulator rotate this list).
/// Stored structure-of-arrays so the per-orientation loop streams contiguous memory.
public struct ReflectionList: Sendable {
    /// Miller indices of each reflection.
    public let hkl: [SIMD3<Int32>]
    /// Crystal-frame Cartesian components of g (Å⁻¹, no 2π).
    public let gx: [Double], gy: [Double], gz: [Double]
    /// |F|² in Å².
    public let intensity: [Double]
    /// Largest |g| included (Å⁻¹).
    public let gMax: Double

    public var count: Int { hkl.count }

    /// All (h,k,l) ≠ 0 with |g| ≤ gMax whose |F|² exceeds `relativeThreshold` × the largest |F|² (systematic
    /// absences and accidental near-zeros are dropped).
    public init(structure: CrystalStructure, gMax: Double, relativeThreshold: Double = 1e-6) {
        let cell = structure.cell
        // Index bounds: |h| ≤ gMax |a| (since h = g · a).
        let hm = Int((gMax * cell.a).rounded(.up)), km = Int((gMax * cell.b).rounded(.up)), lm = Int((gMax * cell.c).rounded(.up))
        var cand: [(SIMD3<Int32>, Vector3, Double)] = []
        var maxI = 0.0
        for h in -hm ... hm {
            for k in -km ... km {
                for l in -lm ... lm where h != 0 || k != 0 || l != 0 {
                    let g = cell.reciprocalVector(Double(h), Double(k), Double(l))
                    if length(g) > gMax { continue }
                    let i = structure.intensity(h, k, l)
                    maxI = max(maxI, i)
                    cand.append((SIMD3(Int32(h), Int32(k), Int32(l)), g, i))
                }
            }
        }
        let kept = cand.filter { $0.2 > relativeThreshold * maxI && $0.2 > 0 }
        hkl = kept.map(\.0)
        gx = kept.map(\.1.x); gy = kept.map(\.1.y); gz = kept.map(\.1.z)
        intensity = kept.map(\.2)
        self.gMax = gMax
    }
}

/// How the intensity of a reflection falls off with its excitation error s (Å⁻¹); every profile is 1 at s = 0.
public enum ExcitationErrorProfile: Sendable, Hashable {
    /// 1 / (1 + (s/w)²): a relrod of half width w.
    case lorentzian(halfWidth: Double)
    /// sinc²(π t s): the kinematic shape factor of a slab of thickness t (Å).
    case sinc2(thickness: Double)
    /// exp(−s² / 2σ²).
    case gaussian(sigma: Double)

    @inlinable public func callAsFunction(_ s: Double) -> Double {
        switch self {
        case let .lorentzian(w):
            let u = s / max(w, 1e-12)
            return 1 / (1 + u * u)
        case let .sinc2(t):
            let x = Double.pi * t * s
            if abs(x) < 1e-8 { return 1 }
            let v = sin(x) / x
            return v * v
        case let .gaussian(sigma):
            let u = s / max(sigma, 1e-12)
            return exp(-0.5 * u * u)
        }
    }
}

/// Electron-optical conditions of a kinematic simulation.
public struct DiffractionConditions: Sendable, Hashable {
    /// Accelerating voltage in volts.
    public var voltage: Double
    /// Reflections with |s_g| above this (Å⁻¹) are not excited (for precession: the smallest |s_g| over the
    /// precession cone).
    public var excitationErrorTolerance: Double
    public var profile: ExcitationErrorProfile
    /// Precession semi-angle in radians (0: no precession).
    public var precessionAngle: Double
    /// Azimuthal samples over one precession cycle (the profile is averaged over them).
    public var precessionSteps: Int

    public init(voltage: Double = 200_000, excitationErrorTolerance: Double = 0.03,
                profile: ExcitationErrorProfile = .lorentzian(halfWidth: 0.01),
                precessionAngle: Double = 0, precessionSteps: Int = 24) {
        self.voltage = voltage
        self.excitationErrorTolerance = excitationErrorTolerance
        self.profile = profile
        self.precessionAngle = precessionAngle
        self.precessionSteps = max(1, precessionSteps)
    }

    /// λ in Å.
    public var wavelength: Double { electronWavelength(voltage: voltage) }
}

/// A kinematic diffraction spot in the detector (sample) frame.
public struct DiffractionSpot: Hashable, Sendable {
    /// Reciprocal-space position on the detector, Å⁻¹ (x along detector columns, y along rows).
    public var gx: Double, gy: Double
    /// |F|² × profile(s_g), Å².
    public var intensity: Double
    public var hkl: SIMD3<Int32>
    /// s_g at zero tilt, Å⁻¹ (positive inside the Ewald sphere).
    public var excitationError: Double
}

extension ReflectionList {
    /// The spots excited for a crystal of orientation `orientation` (sample → crystal, see `Orientation`), the beam
    /// travelling along sample +z. Each g is taken to the sample frame (Gᵀ g); the Ewald sphere of radius k = 1/λ
    /// through the origin gives s_g = −(2 k̂·g + |g|²/k)/2 for incidence k̂ (k̂ = ẑ, or tilted by the precession
    /// angle at each azimuth). Intensity = |F|² × profile(s_g), averaged over the precession azimuths.
    public func spots(orientation: Orientation, conditions: DiffractionConditions, minimumIntensity: Double = 0) -> [DiffractionSpot] {
        let g = orientation.matrix           // crystal = G sample, so sample = Gᵀ crystal: rows of Gᵀ are columns of G.
        let c0 = g.column0, c1 = g.column1, c2 = g.column2
        let k = 1 / conditions.wavelength
        let tol = conditions.excitationErrorTolerance
        let profile = conditions.profile
        let precess = conditions.precessionAngle > 0
        let steps = precess ? conditions.precessionSteps : 1
        let sinP = sin(conditions.precessionAngle), cosP = cos(conditions.precessionAngle)
        var tilts: [(Double, Double, Double)] = []
        for i in 0 ..< steps {
            let th = 2 * Double.pi * Double(i) / Double(steps)
            tilts.append(precess ? (sinP * cos(th), sinP * sin(th), cosP) : (0, 0, 1))
        }
        var out: [DiffractionSpot] = []
        out.reserveCapacity(256)
        for i in 0 ..< count {
            let gc = Vector3(gx[i], gy[i], gz[i])
            let sx = dot(c0, gc), sy = dot(c1, gc), sz = dot(c2, gc)
            let g2 = sx * sx + sy * sy + sz * sz
            let s0 = -sz - g2 / (2 * k)
            var value = 0.0
            if precess {
                // Quick reject: over the cone, k̂·g varies by at most sin(P)·|g_xy| + (1 − cos P)|g_z|.
                let reach = sinP * (sx * sx + sy * sy).squareRoot() + (1 - cosP) * abs(sz)
                if abs(s0) - reach > tol { continue }
                var minS = Double.infinity
                for t in tilts {
                    let s = -(t.0 * sx + t.1 * sy + t.2 * sz) - g2 / (2 * k)
                    minS = min(minS, abs(s))
                    value += profile(s)
                }
                if minS > tol { continue }
                value /= Double(steps)
            } else {
                if abs(s0) > tol { continue }
                value = profile(s0)
            }
            let inten = intensity[i] * value
            if inten <= minimumIntensity { continue }
            out.append(DiffractionSpot(gx: sx, gy: sy, intensity: inten, hkl: hkl[i], excitationError: s0))
        }
        return out
    }
}

/// Maps reciprocal-space detector coordinates (Å⁻¹) to pixels: (x, y) = centre + D (g / Δ), where Δ is the
/// reciprocal pixel size and D stretches by (1 + ellipticity) along the direction at `ellipseAngle` (radians from
/// +x), modelling the elliptical distortion of projector lenses. x indexes detector columns, y rows.
public struct DetectorCalibration: Sendable, Hashable {
    /// Å⁻¹ per pixel.
    public var reciprocalPixelSize: Double
    /// Pixel coordinates of g = 0 (column, row); pixel centres are at integer coordinates.
    public var centreX: Double, centreY: Double
    public var ellipticity: Double
    public var ellipseAngle: Double

    public init(reciprocalPixelSize: Double, centreX: Double, centreY: Double, ellipticity: Double = 0, ellipseAngle: Double = 0) {
        self.reciprocalPixelSize = reciprocalPixelSize
        self.centreX = centreX; self.centreY = centreY
        self.ellipticity = ellipticity; self.ellipseAngle = ellipseAngle
    }

    /// Offset in pixels from the centre of a reciprocal vector (gx, gy).
    @inlinable public func pixelOffset(gx: Double, gy: Double) -> (dx: Double, dy: Double) {
        let u = gx / reciprocalPixelSize, v = gy / reciprocalPixelSize
        if ellipticity == 0 { return (u, v) }
        let c = cos(ellipseAngle), s = sin(ellipseAngle)
        let along = u * c + v * s
        let extra = ellipticity * along
        return (u + extra * c, v + extra * s)
    }

    /// Pixel position (column, row) of (gx, gy).
    @inlinable public func pixel(gx: Double, gy: Double) -> (x: Double, y: Double) {
        let o = pixelOffset(gx: gx, gy: gy)
        return (centreX + o.dx, centreY + o.dy)
    }

    /// Inverse of `pixel`: the reciprocal vector (Å⁻¹) at pixel (x, y).
    public func reciprocal(x: Double, y: Double) -> (gx: Double, gy: Double) {
        var u = x - centreX, v = y - centreY
        if ellipticity != 0 {
            let c = cos(ellipseAngle), s = sin(ellipseAngle)
            let along = u * c + v * s
            let shrink = along * (1 / (1 + ellipticity) - 1)
            u += shrink * c; v += shrink * s
        }
        return (u * reciprocalPixelSize, v * reciprocalPixelSize)
    }
}
