import STEMCore

/// Every switch and parameter of the ePattern registration (arXiv:2305.02124; methods notes, section 1),
/// in pixels of the *working* pattern (after binning). `init(detectorWidth:)` fills in the authors' values,
/// which they give for 512 x 512 patterns, scaled by `s = W / 512` where `W` is the working width.
///
/// Grey levels. The authors work on 8-bit images, so their default prominence (3 grey levels) and the
/// curvature of the rolling ball are in units of 1/255 of the image's range. stemrun works on counts; with
/// `greyLevelScale == .dynamicRange` (default) one grey level is `(max - min) / 255` of the prepared pattern,
/// which reproduces what the authors' 8-bit conversion does per pattern; with `.absolute` one grey level is
/// one count (use it for data already on an 8-bit scale, or to set thresholds in counts).
public struct RegistrationParameters: Sendable, Equatable {
    /// How a "grey level" of the paper maps to data units.
    public enum GreyLevelScale: String, Sendable, Equatable, CaseIterable {
        /// One grey level = (max - min) / 255 of each prepared pattern (the paper's 8-bit conversion).
        case dynamicRange
        /// One grey level = one count.
        case absolute
    }

    /// Image on which spot positions are refined by the windowed centroid.
    public enum RefinementImage: String, Sendable, Equatable, CaseIterable {
        /// The background-subtracted, unblurred pattern (negative values clipped to zero).
        case backgroundSubtracted
        /// The blurred, background-subtracted pattern used for detection.
        case blurred
    }

    // MARK: Step 1, binning (area average)
    /// Whether to bin the input patterns (methods step 1).
    public var binning: Bool = true
    /// Integer area-average factor applied to both detector axes (1 = none). Default: `W_in / 512` when the
    /// input is wider than 512 (the authors' target), else 1.
    public var binningFactor: Int = 1

    /// Replace isolated bright pixels (X-ray and cosmic-ray hits) before everything else (`Zingers`). Not a
    /// step of the paper; on patterns without such pixels it changes nothing.
    public var removeZingers: Bool = true

    // MARK: Step 2, direct-beam centring
    public var centring: Bool = true
    /// Initial radius R0 of the centroid circle: W / 4.
    public var centringInitialRadius: Float
    /// Minimum radius R_min added to the largest residual after each pass: 30 W / 512.
    public var centringMinimumRadius: Float
    /// Maximum number of passes (10).
    public var centringMaxPasses: Int = 10
    /// Stop when the largest residual offset over the batch is below this (0.1 px).
    public var centringTolerance: Float = 0.1
    /// Start a pattern whose direct beam lies beyond the first circle from its brightest region
    /// (`DirectBeamCentring.farBeamShift`). Not a step of the paper; a beam inside the circle starts from the
    /// centre as the paper does.
    public var searchFarBeam: Bool = true
    /// Scan rows per centring batch ("largest residual over the batch"). Batches are aligned to the global
    /// scan grid so results do not depend on how rows are split over ranks. Used by
    /// `RegistrationPipeline.run`; `stemrun register` always centres one scan row per batch.
    public var centringBatchRows: Int = 1

    // MARK: Step 3, real-space 3 x 3 mean
    public var scanMean: Bool = true

    // MARK: Step 4, background subtraction
    public var backgroundSubtraction: Bool = true
    /// Ball / paraboloid radius: W / 10 (51 px at 512).
    public var backgroundRadius: Float

    // MARK: Step 5, blur for localisation
    /// Gaussian sigma of the localisation blur: 2 px. Not scaled with W: it suppresses pixel noise, whose
    /// correlation length is one pixel whatever the detector size.
    public var blurSigma: Float = 2

    // MARK: Spot detection
    /// User prominence threshold in data units (nil = not set). Threshold = max(user, default, noise).
    public var userProminence: Float? = nil
    /// Default prominence in grey levels (3 on the 8-bit scale).
    public var defaultProminenceGreyLevels: Float = 3
    public var greyLevelScale: GreyLevelScale = .dynamicRange
    /// The input value of one detected electron, when the data are counts and the shot-noise test of
    /// `ShotNoise` is wanted (nil, the default: the paper's threshold alone). With it a candidate must also
    /// hold improbably many electrons for Poisson noise of its background. Not a step of the paper: it removes
    /// the noise spots of sparse counted patterns, and with them the weakest real ones, which template
    /// matching on the reconstructions uses (docs/registration.md, shot-noise test).
    public var electronValue: Float? = nil
    /// The electron value the shot-noise test assumes when none is given: 1 for integer input (a counting
    /// detector's frames), none for floating-point input (its units are not known).
    public static func defaultElectronValue(for type: ElementType) -> Float? { type.isFloatingPoint ? nil : 1 }
    /// At most this many spots, the strongest (highest blurred peak) (150).
    public var maxSpots: Int = 150
    /// Exclude maxima whose region within the threshold touches the image edge (ImageJ "exclude edge maxima").
    public var excludeEdgeMaxima: Bool = true
    /// Reject maxima whose top (the pixels within the threshold of the peak, connected to it) is a ridge and
    /// not a spot (`TopRegion.isRidge`): the highest point of a ring or a band is prominent by the paper's rule
    /// but is no reflection. Not a step of the paper; spots and discs are kept whatever their size.
    public var rejectRidges: Bool = true
    /// A maximum on the upper half of a brighter one (connected pixels above half its height) is part of that
    /// spot, and refined spots closer than `PatternRegistrar.duplicateDistance` are one: the plateau of a wide
    /// disc holds several maxima where its shot noise exceeds the paper's (corner) noise. Not a step of the
    /// paper.
    public var mergeUpperHalves: Bool = true
    /// Take the direct beam's flank (`BeamFlank`) out of the centroid windows of the spots next to it. Not a
    /// step of the paper; spots beyond the flank's reach are refined as the paper does.
    public var correctBeamFlank: Bool = true

    // MARK: Sub-pixel refinement and spot record
    public var refinementPasses: Int = 5
    /// Square centroid window side for the direct beam: 20 px at 512.
    public var directBeamWindow: Float
    /// Square centroid window side for other spots: 10 px at 512 (must stay below the spot spacing).
    public var spotWindow: Float
    /// Widen a centroid window that is narrower than its spot (the discs of convergent-beam data: inside a
    /// window that sees only the flat top of a disc the centroid does not move, and the spot keeps its pixel
    /// position): see `SpotMeasurement.fittedWindow`. The paper's windows stay the smallest side; spots that fit
    /// them (the paper's regime) are refined exactly as the paper does. Off = the paper's fixed windows.
    public var windowsFitSpots: Bool = true
    /// Centre each spot on the rim of a disc of the direct beam's radius (`DiscEdge`) after the centroid, when
    /// that radius is at least `DiscEdge.minimumRadius`: for the discs of convergent-beam data whose inside is
    /// not uniform (thick crystals), where the centroid lies towards the bright side. Not a step of the paper.
    public var discCentres: Bool = false
    public var refinementImage: RefinementImage = .backgroundSubtracted
    /// Subtract the mean of the window's border pixels before the centroid (weights clipped at zero). The
    /// sources do not say which weights the centroid uses; without the baseline, the residual background and
    /// the noise of the whole window dilute the centroid (about 0.1 px error for a spot of 60 counts over
    /// noise of 3 counts, 10-px window), with it the error falls about twofold. Off = the plain centroid.
    public var refinementBaseline: Bool = true
    /// Diameter of the disc in which the spot intensity is averaged (3 px).
    public var intensityDiscDiameter: Float = 3
    /// Radius of the minimum search of the pseudo-prominence: 40 px (direct beam) / 25 px (others) at 512.
    public var pseudoProminenceRadiusDirect: Float
    public var pseudoProminenceRadiusSpot: Float

    // MARK: Reconstruction
    /// Output pattern width and height (default: the working width).
    public var reconstructionSize: Int
    /// Shift every spot so the direct beam sits exactly at the centre.
    public var centreOnDirectBeam: Bool = true
    /// Combined mode draws larger discs (6 / 4 px at 512 instead of 4 / 2).
    public var combinedMode: Bool = false
    /// Optional final Gaussian blur of the reconstruction (0 = none, the default).
    public var reconstructionBlurSigma: Float = 0

    /// Disc radii at a 512-px output, before scaling to `reconstructionSize`.
    public var directBeamDiscRadius512: Float { combinedMode ? 6 : 4 }
    public var spotDiscRadius512: Float { combinedMode ? 4 : 2 }

    /// The authors' defaults for an input detector of width `detectorWidth` (binned to 512 if wider).
    public init(detectorWidth: Int) {
        let factor = detectorWidth > 512 ? max(1, detectorWidth / 512) : 1
        self.init(workingWidth: max(1, detectorWidth / factor))
        self.binningFactor = factor
        self.binning = factor > 1
    }

    /// The authors' defaults scaled to a working (already binned) width `W`.
    public init(workingWidth w: Int) {
        let W = Float(max(1, w)), s = W / 512
        centringInitialRadius = W / 4
        centringMinimumRadius = 30 * s
        backgroundRadius = W / 10
        directBeamWindow = max(3, 20 * s)
        spotWindow = max(3, 10 * s)
        pseudoProminenceRadiusDirect = max(2, 40 * s)
        pseudoProminenceRadiusSpot = max(2, 25 * s)
        reconstructionSize = max(1, w)
        binningFactor = 1
        binning = false
    }

    /// Smallest detector side the kernels accept.
    public static let minimumDetectorSide = 8

    /// Checks every value; throws `STEMError.invalidParameter` naming the first bad one.
    public func validate() throws {
        func bad(_ name: String, _ value: Any, _ expected: String) -> STEMError {
            .invalidParameter(name: name, value: "\(value)", expected: expected)
        }
        if binningFactor < 1 { throw bad("binning factor", binningFactor, "an integer >= 1") }
        if !(centringInitialRadius > 0) { throw bad("centring radius", centringInitialRadius, "> 0 px") }
        if !(centringMinimumRadius > 0) { throw bad("centring minimum radius", centringMinimumRadius, "> 0 px") }
        if centringMaxPasses < 1 { throw bad("centring passes", centringMaxPasses, ">= 1") }
        if !(centringTolerance >= 0) { throw bad("centring tolerance", centringTolerance, ">= 0 px") }
        if centringBatchRows < 1 { throw bad("centring batch rows", centringBatchRows, ">= 1") }
        if !(backgroundRadius > 0) { throw bad("background radius", backgroundRadius, "> 0 px") }
        if !(blurSigma >= 0) || !blurSigma.isFinite { throw bad("blur sigma", blurSigma, ">= 0 px") }
        if let u = userProminence, !(u >= 0) || !u.isFinite { throw bad("prominence", u, "a finite value >= 0") }
        if !(defaultProminenceGreyLevels >= 0) { throw bad("default prominence", defaultProminenceGreyLevels, ">= 0 grey levels") }
        if let e = electronValue, !(e > 0) || !e.isFinite { throw bad("electron value", e, "a finite value > 0") }
        if maxSpots < 1 { throw bad("max spots", maxSpots, ">= 1") }
        if refinementPasses < 0 { throw bad("refinement passes", refinementPasses, ">= 0") }
        if !(directBeamWindow >= 1) { throw bad("direct-beam window", directBeamWindow, ">= 1 px") }
        if !(spotWindow >= 1) { throw bad("spot window", spotWindow, ">= 1 px") }
        if !(intensityDiscDiameter > 0) { throw bad("intensity disc diameter", intensityDiscDiameter, "> 0 px") }
        if !(pseudoProminenceRadiusDirect > 0) || !(pseudoProminenceRadiusSpot > 0) {
            throw bad("pseudo-prominence radius", pseudoProminenceRadiusSpot, "> 0 px")
        }
        if reconstructionSize < 1 { throw bad("reconstruction size", reconstructionSize, ">= 1 px") }
        if !(reconstructionBlurSigma >= 0) { throw bad("reconstruction blur", reconstructionBlurSigma, ">= 0 px") }
    }
}
