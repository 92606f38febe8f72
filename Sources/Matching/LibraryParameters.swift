import Crystallography
import Foundation

/// What a template library is computed from, besides the phases. Together with the phase names and cells it
/// determines the library, and `hashValue64` identifies a cached library.
public struct LibraryParameters: Sendable, Hashable {
    /// Angular step of the beam-direction sampling (degrees); 1° is usual for ACOM.
    public var stepDegrees: Double
    /// Electron-optical conditions (voltage, excitation-error tolerance and profile, precession).
    public var conditions: DiffractionConditions
    /// Å⁻¹ per detector pixel (the camera-length calibration).
    public var reciprocalPixelSize: Double
    /// Spots whose distance from the pattern centre lies outside [minimumRadius, maximumRadius] pixels are dropped
    /// (the direct-beam region and what falls off the detector).
    public var minimumRadius: Double
    public var maximumRadius: Double
    /// Template intensities are (|F|² profile)^templateGamma (0.5: structure-factor amplitudes).
    public var templateGamma: Double
    /// At most this many of the strongest spots per template (0: all).
    public var maximumSpots: Int

    public init(stepDegrees: Double = 1, conditions: DiffractionConditions = DiffractionConditions(),
                reciprocalPixelSize: Double, minimumRadius: Double = 6, maximumRadius: Double,
                templateGamma: Double = 0.5, maximumSpots: Int = 0) {
        self.stepDegrees = stepDegrees
        self.conditions = conditions
        self.reciprocalPixelSize = reciprocalPixelSize
        self.minimumRadius = minimumRadius
        self.maximumRadius = maximumRadius
        self.templateGamma = templateGamma
        self.maximumSpots = maximumSpots
    }

    /// Throws `MatchingError.invalidParameter` naming the first value out of range.
    public func validate() throws {
        guard stepDegrees >= 0.1, stepDegrees <= 30 else {
            throw MatchingError.invalidParameter(name: "step", value: "\(stepDegrees)", expected: "0.1 ... 30 degrees")
        }
        guard reciprocalPixelSize > 0, reciprocalPixelSize.isFinite else {
            throw MatchingError.invalidParameter(name: "reciprocalPixelSize", value: "\(reciprocalPixelSize)", expected: "> 0 Å⁻¹ per pixel")
        }
        guard minimumRadius >= 0, maximumRadius > minimumRadius + 1, maximumRadius.isFinite else {
            throw MatchingError.invalidParameter(name: "radius range", value: "\(minimumRadius) ... \(maximumRadius)",
                                                 expected: "0 ≤ minimum < maximum - 1 pixels")
        }
        guard templateGamma > 0, templateGamma <= 4 else {
            throw MatchingError.invalidParameter(name: "templateGamma", value: "\(templateGamma)", expected: "0 < gamma ≤ 4")
        }
        guard conditions.voltage > 0, conditions.excitationErrorTolerance > 0 else {
            throw MatchingError.invalidParameter(name: "conditions", value: "\(conditions.voltage) V, tol \(conditions.excitationErrorTolerance)",
                                                 expected: "positive voltage and excitation-error tolerance")
        }
    }

    /// A stable 64-bit FNV-1a hash of every parameter and of the phases' names and cells: the key of a cached
    /// library (Swift's `hashValue` is seeded per process, so it cannot be used).
    public func stableHash(phases: [CrystalStructure]) -> UInt64 {
        var text = "v1|\(stepDegrees)|\(conditions.voltage)|\(conditions.excitationErrorTolerance)|\(conditions.profile)"
        text += "|\(conditions.precessionAngle)|\(conditions.precessionSteps)|\(reciprocalPixelSize)|\(minimumRadius)"
        text += "|\(maximumRadius)|\(templateGamma)|\(maximumSpots)"
        for p in phases {
            let c = p.cell
            text += "|\(p.name)|\(c.a),\(c.b),\(c.c),\(c.alpha),\(c.beta),\(c.gamma)|\(p.atoms.count)|\(p.pointGroup.name)"
            for a in p.atoms { text += ";\(a.element)\(a.position.x),\(a.position.y),\(a.position.z),\(a.occupancy),\(a.debyeWallerB)" }
        }
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in text.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        return h
    }
}
