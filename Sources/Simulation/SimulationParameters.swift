import Crystallography
import STEMCore

/// A grain placed by the caller: its Voronoi seed in scan coordinates (row, column; fractional allowed), its
/// phase (index into `SimulationParameters.phases`) and its orientation.
public struct GrainSpecification: Sendable {
    public var row: Double, column: Double
    public var phaseIndex: Int
    public var orientation: Orientation

    public init(row: Double, column: Double, phaseIndex: Int = 0, orientation: Orientation) {
        self.row = row; self.column = column; self.phaseIndex = phaseIndex; self.orientation = orientation
    }
}

/// Everything the polycrystal 4D-STEM generator needs. Defaults give a 64 x 64 scan of 128 x 128 Al patterns at
/// 200 kV with six grains near low-index zone axes. Lengths on the detector are in pixels, reciprocal lengths in
/// Å⁻¹, intensities in expected counts per pixel before `dose` scaling.
public struct SimulationParameters: Sendable {
    public var scan = ScanGrid(rows: 64, columns: 64)
    public var detector = DetectorShape(rows: 128, columns: 128)
    /// Phases the grains are drawn from (default: Al).
    public var phases: [CrystalStructure] = [BuiltInPhase.aluminium.structure]
    /// Relative abundance of each phase among random grains (default equal).
    public var phaseFractions: [Double]? = nil
    /// Number of random Voronoi grains (ignored when `grains` is given).
    public var grainCount = 6
    /// Explicit grains; when set, replaces the random ones.
    public var grains: [GrainSpecification]? = nil
    /// Fraction of random grains oriented close to a low-index zone axis (many spots); the rest get uniformly
    /// random orientations.
    public var zoneAxisFraction = 1.0
    /// Largest tilt (degrees) of a zone-axis grain away from its exact zone axis.
    public var zoneAxisMaxTilt = 1.0
    /// Width (scan pixels) of the band across a grain boundary over which patterns mix linearly: the weight of
    /// the neighbouring grain ramps from 0.5 on the boundary to 0 at half this width (0: sharp boundaries).
    public var grainBoundaryWidth = 3.0
    /// Diffraction conditions (200 kV, excitation-error tolerance and profile, precession).
    public var conditions = DiffractionConditions(voltage: 200_000)
    /// Å⁻¹ per pixel: 0.02 puts Al {200} at 25 px and {400} at 49 px from the centre of a 128 px detector.
    public var reciprocalPixelSize = 0.02
    /// Elliptical distortion of the projector (see `DetectorCalibration`).
    public var ellipticity = 0.0
    public var ellipseAngle = 0.0
    /// Direct-beam disc radius (px) and its counts per pixel.
    public var directBeamRadius = 4.0
    public var directBeamIntensity = 400.0
    /// Gaussian spot σ (px) and the peak counts of the strongest reflection of a phase at zero excitation error.
    public var spotSigma = 1.2
    public var spotPeak = 150.0
    /// Descan: the pattern centre moves by a linear ramp across the scan (total px along x over the columns, along
    /// y over the rows) plus a sinusoid of `descanWobble` px (one period across the scan).
    public var descanRampX = 4.0
    public var descanRampY = -3.0
    public var descanWobble = 0.75
    /// Diffuse background b(r) = backgroundPeak / (1 + (r/backgroundRadius)²) + backgroundFloor, centred on the beam.
    public var backgroundPeak = 12.0
    public var backgroundRadius = 18.0
    public var backgroundFloor = 0.3
    /// Multiplies every expected count (electron dose per pattern).
    public var dose = 1.0
    /// Draw Poisson counts (false: the noise-free expectation).
    public var poissonNoise = true
    /// Hot pixels: fixed detector pixels with `hotPixelValue` counts added to every noisy pattern.
    public var hotPixelCount = 0
    public var hotPixelValue = 5000.0
    /// Largest |g| considered (Å⁻¹); default covers the detector corners. Capped at 4 Å⁻¹ (s = 2 Å⁻¹, the range of
    /// the scattering-factor fit).
    public var gMax: Double? = nil
    public var seed: UInt64 = 1

    public init() {}

    /// Checks every value; throws `STEMError.invalidParameter` naming the first bad one.
    public func validate() throws {
        func bad(_ name: String, _ value: Any, _ expected: String) -> STEMError {
            .invalidParameter(name: name, value: "\(value)", expected: expected)
        }
        guard scan.rows > 0, scan.columns > 0 else { throw bad("scan", scan, "at least 1 x 1 positions") }
        guard detector.rows >= 8, detector.columns >= 8 else { throw bad("detector", detector, "at least 8 x 8 pixels") }
        guard !phases.isEmpty else { throw bad("phases", "[]", "at least one phase") }
        if let f = phaseFractions {
            guard f.count == phases.count, f.allSatisfy({ $0 >= 0 && $0.isFinite }), f.reduce(0, +) > 0 else {
                throw bad("phaseFractions", f, "\(phases.count) non-negative values with a positive sum")
            }
        }
        if let g = grains {
            guard !g.isEmpty else { throw bad("grains", "[]", "at least one grain, or nil for random grains") }
            for (i, s) in g.enumerated() where !(0 ..< phases.count).contains(s.phaseIndex) {
                throw bad("grains[\(i)].phaseIndex", s.phaseIndex, "0..<\(phases.count)")
            }
        } else {
            guard grainCount >= 1 else { throw bad("grainCount", grainCount, "at least 1") }
        }
        guard (0 ... 1).contains(zoneAxisFraction) else { throw bad("zoneAxisFraction", zoneAxisFraction, "0...1") }
        guard zoneAxisMaxTilt >= 0, zoneAxisMaxTilt.isFinite else { throw bad("zoneAxisMaxTilt", zoneAxisMaxTilt, "≥ 0 degrees") }
        guard grainBoundaryWidth >= 0, grainBoundaryWidth.isFinite else { throw bad("grainBoundaryWidth", grainBoundaryWidth, "≥ 0 scan pixels") }
        guard conditions.voltage > 0, conditions.voltage.isFinite else { throw bad("voltage", conditions.voltage, "> 0 V") }
        guard conditions.excitationErrorTolerance > 0 else { throw bad("excitationErrorTolerance", conditions.excitationErrorTolerance, "> 0 Å⁻¹") }
        guard reciprocalPixelSize > 1e-4, reciprocalPixelSize < 1 else { throw bad("reciprocalPixelSize", reciprocalPixelSize, "between 1e-4 and 1 Å⁻¹/px") }
        guard ellipticity > -0.5, ellipticity < 0.5 else { throw bad("ellipticity", ellipticity, "between -0.5 and 0.5") }
        for (name, v) in [("directBeamRadius", directBeamRadius), ("directBeamIntensity", directBeamIntensity),
                          ("spotPeak", spotPeak), ("backgroundPeak", backgroundPeak), ("backgroundFloor", backgroundFloor),
                          ("dose", dose), ("hotPixelValue", hotPixelValue)] where !(v >= 0 && v.isFinite) {
            throw bad(name, v, "a finite value ≥ 0")
        }
        guard spotSigma > 0.2, spotSigma < 20 else { throw bad("spotSigma", spotSigma, "between 0.2 and 20 px") }
        guard backgroundRadius > 0 else { throw bad("backgroundRadius", backgroundRadius, "> 0 px") }
        guard hotPixelCount >= 0, hotPixelCount <= detector.pixelCount else { throw bad("hotPixelCount", hotPixelCount, "0...\(detector.pixelCount)") }
        if let g = gMax { guard g > 0 else { throw bad("gMax", g, "> 0 Å⁻¹") } }
    }
}
