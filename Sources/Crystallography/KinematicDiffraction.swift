import Foundation

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
    /// angle φ at each of `precessionSteps` azimuths, equally spaced starting at the azimuth of g, where
    /// k̂·g = sin φ |g_xy| cos α + cos φ g_z). Intensity = |F|² × profile(s_g), averaged over the precession azimuths.
    /// Turning the crystal about the beam turns the spots and leaves their intensities unchanged.
    public func spots(orientation: Orientation, conditions: DiffractionConditions, minimumIntensity: Double = 0) -> [DiffractionSpot] {
        let g = orientation.matrix           // crystal = G sample, so sample = Gᵀ crystal: rows of Gᵀ are columns of G.
        let c0 = g.column0, c1 = g.column1, c2 = g.column2
        let k = 1 / conditions.wavelength
        guard k > 0, k.isFinite else { return [] }   // non-positive voltage: no Ewald sphere
        let tol = conditions.excitationErrorTolerance
        let profile = conditions.profile
        let precess = conditions.precessionAngle > 0
        let steps = precess ? conditions.precessionSteps : 1
        let sinP = sin(conditions.precessionAngle), cosP = cos(conditions.precessionAngle)
        // Azimuths of the tilted beam relative to each reflection's own azimuth in the detector plane, so the
        // discrete precession average does not depend on how the crystal is turned about the beam.
        let cosines = (0 ..< steps).map { cos(2 * Double.pi * Double($0) / Double(steps)) }
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
                let rho = (sx * sx + sy * sy).squareRoot()
                var minS = Double.infinity
                for c in cosines {
                    let s = -(sinP * rho * c + cosP * sz) - g2 / (2 * k)
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
