import Crystallography
import Foundation

/// Builds template libraries (methods §2: kinematic spots of the reflections within the excitation-error tolerance,
/// intensity |F|² × profile(s), for beam directions sampling each phase's fundamental sector).
///
/// Templates are numbered globally, phase after phase, in `BeamDirectionGrid` order, so a rank can build any
/// contiguous slice (`build(range:)`) and `TemplateLibrary.concatenate` joins the slices into the library a single
/// process builds.
public struct TemplateLibraryBuilder: Sendable {
    public let structures: [CrystalStructure]
    public let parameters: LibraryParameters
    /// Beam directions per phase.
    public let directions: [[Vector3]]
    private let reflections: [ReflectionList]

    public init(phases: [CrystalStructure], parameters: LibraryParameters) throws {
        try parameters.validate()
        guard !phases.isEmpty else {
            throw MatchingError.invalidParameter(name: "phases", value: "[]", expected: "at least one phase")
        }
        structures = phases
        self.parameters = parameters
        directions = phases.map { BeamDirectionGrid.directions(group: $0.pointGroup, stepDegrees: parameters.stepDegrees) }
        let gMax = (parameters.maximumRadius + 1) * parameters.reciprocalPixelSize
        reflections = phases.map { ReflectionList(structure: $0, gMax: gMax) }
        for (p, list) in reflections.enumerated() where list.count == 0 {
            throw MatchingError.noReflections(phase: phases[p].name, detail: "no reflection with |g| ≤ \(gMax) Å⁻¹")
        }
    }

    /// Number of templates of the whole library.
    public var templateCount: Int { directions.reduce(0) { $0 + $1.count } }

    /// Builds templates `range` (all by default). Throws `noReflections` when a whole phase is built and none of
    /// its templates has a spot within the radius range.
    public func build(range: Range<Int>? = nil) throws -> TemplateLibrary {
        let all = 0 ..< templateCount
        let r = range ?? all
        guard r.lowerBound >= 0, r.upperBound <= templateCount else {
            throw MatchingError.invalidParameter(name: "template range", value: "\(r)", expected: "within \(all)")
        }
        let phases = structures.map(TemplatePhase.init)
        var library = TemplateLibrary(phases: phases, parameters: parameters,
                                      parametersHash: parameters.stableHash(phases: structures), firstTemplate: r.lowerBound)
        var start = 0
        for (p, dirs) in directions.enumerated() {
            let phaseRange = start ..< start + dirs.count
            start += dirs.count
            let lower = max(r.lowerBound, phaseRange.lowerBound), upper = min(r.upperBound, phaseRange.upperBound)
            guard lower < upper else { continue }
            let local = lower ..< upper
            var withSpots = 0
            for g in local {
                let orientation = Orientation.zoneAxis(dirs[g - phaseRange.lowerBound])
                let spots = templateSpots(phase: p, orientation: orientation)
                if !spots.isEmpty { withSpots += 1 }
                library.append(phase: p, orientation: orientation, spots: spots)
            }
            if local == phaseRange && withSpots == 0 {
                throw MatchingError.noReflections(phase: structures[p].name,
                                                  detail: "every spot falls outside \(parameters.minimumRadius) ... \(parameters.maximumRadius) px")
            }
        }
        return library
    }

    /// Spots of one orientation as pixel offsets and gamma-scaled intensities, strongest first when truncated.
    public func templateSpots(phase p: Int, orientation: Orientation) -> [(x: Float, y: Float, intensity: Float)] {
        let spots = reflections[p].spots(orientation: orientation, conditions: parameters.conditions)
        let inv = 1 / parameters.reciprocalPixelSize
        let rMin2 = parameters.minimumRadius * parameters.minimumRadius
        let rMax2 = parameters.maximumRadius * parameters.maximumRadius
        var out: [(x: Float, y: Float, intensity: Float)] = []
        out.reserveCapacity(spots.count)
        for s in spots {
            let x = s.gx * inv, y = s.gy * inv
            let r2 = x * x + y * y
            guard r2 >= rMin2, r2 <= rMax2, s.intensity > 0 else { continue }
            out.append((Float(x), Float(y), Float(pow(s.intensity, parameters.templateGamma))))
        }
        if parameters.maximumSpots > 0 && out.count > parameters.maximumSpots {
            out.sort { $0.intensity > $1.intensity }
            out.removeLast(out.count - parameters.maximumSpots)
        }
        return out
    }
}
