import Crystallography
import Foundation

/// A phase of a template library: what matching and the exports need to know about it.
public struct TemplatePhase: Sendable {
    public let name: String
    /// The proper rotations of the phase's Laue class (symmetry-aware misorientation, IPF colouring).
    public let symmetry: PointGroup
    public let cell: UnitCell

    public init(name: String, symmetry: PointGroup, cell: UnitCell) {
        self.name = name
        self.symmetry = symmetry
        self.cell = cell
    }

    public init(_ structure: CrystalStructure) {
        self.init(name: structure.name, symmetry: structure.pointGroup, cell: structure.cell)
    }
}

/// Kinematic templates of one or more phases, stored structure-of-arrays.
///
/// Template t belongs to phase `templatePhase[t]`, has orientation `orientation(t)` (sample → crystal, the beam
/// direction sampled by `BeamDirectionGrid`, zero in-plane angle) and spots `spotStart[t] ..< spotStart[t+1]`,
/// each with its offset from the pattern centre (`spotX`, `spotY`, pixels, x along detector columns, y along rows),
/// its polar radius (pixels) and angle (radians, atan2(y, x)) and its intensity (already raised to the template
/// gamma). Rotating the crystal by θ about the beam rotates every spot by +θ about the centre.
public struct TemplateLibrary: Sendable {
    public let phases: [TemplatePhase]
    public let parameters: LibraryParameters
    /// `LibraryParameters.stableHash(phases:)` of the parameters and phases it was built from.
    public let parametersHash: UInt64
    /// Global index of the first template held (non-zero for the slice a rank builds).
    public let firstTemplate: Int

    public private(set) var templatePhase: [Int32]
    /// Orientation quaternions (w, x, y, z), 4 per template.
    public private(set) var templateQuaternion: [Double]
    /// CSR offsets into the spot arrays, count + 1 entries, starting at 0.
    public private(set) var spotStart: [Int32]
    public private(set) var spotX: [Float], spotY: [Float]
    public private(set) var spotRadius: [Float], spotAngle: [Float]
    public private(set) var spotIntensity: [Float]

    public var count: Int { templatePhase.count }
    public var spotCount: Int { spotIntensity.count }

    init(phases: [TemplatePhase], parameters: LibraryParameters, parametersHash: UInt64, firstTemplate: Int) {
        self.phases = phases
        self.parameters = parameters
        self.parametersHash = parametersHash
        self.firstTemplate = firstTemplate
        templatePhase = []; templateQuaternion = []; spotStart = [0]
        spotX = []; spotY = []; spotRadius = []; spotAngle = []; spotIntensity = []
    }

    /// Appends one template; spots are given as (x, y, intensity) pixel offsets.
    mutating func append(phase: Int, orientation: Orientation, spots: [(x: Float, y: Float, intensity: Float)]) {
        templatePhase.append(Int32(phase))
        let q = orientation.quaternion
        templateQuaternion += [q.w, q.x, q.y, q.z]
        for s in spots {
            spotX.append(s.x); spotY.append(s.y)
            spotRadius.append((s.x * s.x + s.y * s.y).squareRoot())
            spotAngle.append(atan2(s.y, s.x))
            spotIntensity.append(s.intensity)
        }
        spotStart.append(Int32(spotIntensity.count))
    }

    /// The orientation of template `t` (0-based within this library).
    public func orientation(_ t: Int) -> Orientation {
        Orientation(quaternion: Quaternion(w: templateQuaternion[4 * t], x: templateQuaternion[4 * t + 1],
                                           y: templateQuaternion[4 * t + 2], z: templateQuaternion[4 * t + 3]))
    }

    /// Spot index range of template `t`.
    public func spots(of t: Int) -> Range<Int> { Int(spotStart[t]) ..< Int(spotStart[t + 1]) }

    /// Templates of phase `p`.
    public func templateCount(phase p: Int) -> Int { templatePhase.reduce(0) { $0 + ($1 == Int32(p) ? 1 : 0) } }

    /// Joins slices built by different ranks, in order of their `firstTemplate`; they must share phases and hash.
    public static func concatenate(_ slices: [TemplateLibrary]) throws -> TemplateLibrary {
        guard let first = slices.first else { throw MatchingError.corruptLibrary(detail: "no slices to concatenate") }
        let ordered = slices.sorted { $0.firstTemplate < $1.firstTemplate }
        var out = TemplateLibrary(phases: first.phases, parameters: first.parameters, parametersHash: first.parametersHash,
                                  firstTemplate: ordered[0].firstTemplate)
        var expectedFirst = ordered[0].firstTemplate
        for s in ordered {
            guard s.parametersHash == first.parametersHash else {
                throw MatchingError.libraryMismatch(expectedHash: first.parametersHash, foundHash: s.parametersHash)
            }
            guard s.firstTemplate == expectedFirst else {
                throw MatchingError.corruptLibrary(detail: "slice starts at template \(s.firstTemplate), expected \(expectedFirst)")
            }
            let base = Int32(out.spotIntensity.count)
            out.templatePhase += s.templatePhase
            out.templateQuaternion += s.templateQuaternion
            out.spotStart += s.spotStart.dropFirst().map { $0 + base }
            out.spotX += s.spotX; out.spotY += s.spotY
            out.spotRadius += s.spotRadius; out.spotAngle += s.spotAngle
            out.spotIntensity += s.spotIntensity
            expectedFirst += s.count
        }
        return out
    }
}

/// The numbers of a `TemplateLibrary` as three flat arrays plus the hash, for an HDF5 cache (the phases are not
/// stored: they are given again on loading and checked against the hash).
public struct FlatTemplateLibrary: Sendable, Equatable {
    /// Per template: phase index, then the CSR spot offset (2 per template), then the final offset.
    public var templateIntegers: [Int32]
    /// Per template: quaternion w, x, y, z.
    public var templateReals: [Double]
    /// Per spot: x, y, radius, angle, intensity (5 per spot).
    public var spotReals: [Float]
    public var parametersHash: UInt64

    public init(templateIntegers: [Int32], templateReals: [Double], spotReals: [Float], parametersHash: UInt64) {
        self.templateIntegers = templateIntegers
        self.templateReals = templateReals
        self.spotReals = spotReals
        self.parametersHash = parametersHash
    }
}

extension TemplateLibrary {
    /// The flat representation (see `FlatTemplateLibrary`).
    public var flat: FlatTemplateLibrary {
        var ints = [Int32](); ints.reserveCapacity(2 * count + 1)
        for t in 0 ..< count { ints.append(templatePhase[t]); ints.append(spotStart[t]) }
        ints.append(spotStart[count])
        var spots = [Float](); spots.reserveCapacity(5 * spotCount)
        for s in 0 ..< spotCount { spots += [spotX[s], spotY[s], spotRadius[s], spotAngle[s], spotIntensity[s]] }
        return FlatTemplateLibrary(templateIntegers: ints, templateReals: templateQuaternion, spotReals: spots,
                                   parametersHash: parametersHash)
    }

    /// Rebuilds a library from its flat form. `phases` and `parameters` must be those it was built from: the
    /// hash is checked, then every length and offset.
    public init(flat f: FlatTemplateLibrary, phases structures: [CrystalStructure], parameters: LibraryParameters) throws {
        let expected = parameters.stableHash(phases: structures)
        guard f.parametersHash == expected else { throw MatchingError.libraryMismatch(expectedHash: expected, foundHash: f.parametersHash) }
        guard f.templateIntegers.count % 2 == 1 else {
            throw MatchingError.corruptLibrary(detail: "integer array has \(f.templateIntegers.count) values, expected 2 × templates + 1")
        }
        let n = f.templateIntegers.count / 2
        guard f.templateReals.count == 4 * n else {
            throw MatchingError.corruptLibrary(detail: "\(f.templateReals.count) quaternion values for \(n) templates, expected \(4 * n)")
        }
        guard f.spotReals.count % 5 == 0 else {
            throw MatchingError.corruptLibrary(detail: "spot array has \(f.spotReals.count) values, not a multiple of 5")
        }
        let m = f.spotReals.count / 5
        self.init(phases: structures.map(TemplatePhase.init), parameters: parameters, parametersHash: expected, firstTemplate: 0)
        var previous: Int32 = 0
        guard f.templateIntegers[1 < f.templateIntegers.count ? 1 : 0] == 0 || n == 0 else {
            throw MatchingError.corruptLibrary(detail: "first spot offset is not 0")
        }
        for t in 0 ..< n {
            let phase = f.templateIntegers[2 * t], start = f.templateIntegers[2 * t + 1]
            guard phase >= 0, Int(phase) < structures.count else {
                throw MatchingError.corruptLibrary(detail: "template \(t) has phase \(phase), library has \(structures.count) phases")
            }
            guard start >= previous else { throw MatchingError.corruptLibrary(detail: "spot offsets decrease at template \(t)") }
            previous = start
            templatePhase.append(phase)
            if t > 0 { spotStart.append(start) }
        }
        let end = f.templateIntegers[2 * n]
        guard end >= previous, Int(end) == m else {
            throw MatchingError.corruptLibrary(detail: "final spot offset \(end), spot array holds \(m) spots")
        }
        spotStart.append(end)
        templateQuaternion = f.templateReals
        spotX.reserveCapacity(m)
        for s in 0 ..< m {
            spotX.append(f.spotReals[5 * s]); spotY.append(f.spotReals[5 * s + 1])
            spotRadius.append(f.spotReals[5 * s + 2]); spotAngle.append(f.spotReals[5 * s + 3])
            spotIntensity.append(f.spotReals[5 * s + 4])
        }
    }
}
