import ArgumentParser
import Crystallography
import Distributed
import Foundation
import Matching
import STEMCore

/// `stemrun match`: orientation and phase mapping by template matching (ACOM).
struct MatchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "match",
        abstract: "Orientation and phase maps by template matching (run under mpirun).",
        discussion: """
        Builds a kinematic template library for the phases (beam directions over each phase's fundamental \
        sector at --step degrees), matches every pattern over templates and in-plane rotations with the \
        correlation index, and writes phase, Euler angles, quaternion, correlation index, reliability, phase \
        reliability and the top-N candidates to /matching of the output file; optionally PNG maps (phase, IPF-Z \
        with its colour key, index, reliabilities) and an EDAX/TSL .ang file for orix or MTEX. Calibration \
        defaults come from the input's attributes (reciprocal_pixel_size_per_angstrom, accelerating_voltage_V) \
        when present. For registered (centred) patterns use --fixed-centre.
        """)

    @OptionGroup var input: InputOptions

    @Option(name: .shortAndLong, help: "Output HDF5 file.")
    var output: String = "match.h5"

    @Option(help: "Folder for PNG maps (none: no images).")
    var pngDir: String?

    @Option(help: "Write an EDAX/TSL .ang orientation map to this file.")
    var ang: String?

    @Option(help: "Comma-separated phases: built-in names (\(BuiltInPhase.allCases.map(\.rawValue).joined(separator: ", "))) or CIF files.")
    var phases: String = "Al"

    @Option(help: "Angular step of the template library in degrees.")
    var step: Double = 1

    @Option(help: "Reciprocal pixel size in 1/Angstrom per pixel (default: from the input's attributes).")
    var reciprocalPixelSize: Double?

    @Option(help: "Accelerating voltage in kV (default: from the input's attributes, else 200).")
    var voltage: Double?

    @Option(help: "Precession semi-angle in degrees (0: none).")
    var precession: Double = 0

    @Option(help: "Excitation-error tolerance in 1/Angstrom.")
    var excitationTolerance: Double = 0.03

    @Option(help: "Inner radius in pixels: spots closer to the centre (the direct beam) are ignored (default: 7 px at 128 px width).")
    var minRadius: Double?

    @Option(help: "Outer radius in pixels (default: half the detector minus 4 px).")
    var maxRadius: Double?

    @Option(help: "Pattern centre X,Y in pixels (default: the detector centre, or the direct beam of the mean of 64 sampled patterns when that lies more than half the search radius from it).")
    var centre: String?

    @Flag(help: "Use the centre as given for every pattern (registered patterns); default: follow the direct beam.")
    var fixedCentre = false

    @Option(help: "Direct-beam search radius in pixels around the centre (default: 8 px at 128 px width).")
    var beamSearch: Double?

    @Option(help: "Intensity gamma applied to patterns before matching (1: linear).")
    var gamma: Double = 0.5

    @Option(help: "Candidates kept per position.")
    var topN: Int = 5

    @Option(help: "Reliability: Q2 is the best match further than this many degrees from the best.")
    var reliabilityAngle: Double = 5

    @Flag(inversion: .prefixedNo, help: "Refine the best orientation below the library step.")
    var refine = true

    @Option(help: "Templates per phase kept by the coarse pruning pass (0: no pruning).")
    var coarse: Int = 100

    @Option(help: "Fraction of each phase's templates kept by the rotation-invariant radial pre-selection before the coarse pass (0: none).")
    var radialKeep: Double = 0.3

    @Option(help: "Threads per rank.")
    var threads: Int = 1

    @Option(help: "HDF5 cache of the template library: read if it exists, written otherwise.")
    var libraryCache: String?

    @Option(help: "Scan step X,Y for the .ang export (default 1,1).")
    var scanStep: String = "1,1"

    @Option(help: "Memory per rank for one chunk of patterns, in MiB.")
    var chunkMb: Int = 16

    static func loadPhases(_ text: String) throws -> [CrystalStructure] {
        try text.split(separator: ",").map { item in
            let name = item.trimmingCharacters(in: .whitespaces)
            if name.lowercased().hasSuffix(".cif") { return try CIFReader.read(path: name) }
            guard let b = BuiltInPhase.allCases.first(where: { $0.rawValue.lowercased() == name.lowercased() }) else {
                throw STEMError.invalidParameter(name: "--phases", value: name,
                                                 expected: "a CIF file or one of " + BuiltInPhase.allCases.map(\.rawValue).joined(separator: ", "))
            }
            return b.structure
        }
    }

    static func pair(_ text: String, option: String) throws -> (Double, Double) {
        let v = text.split(separator: ",").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard v.count == 2, v.allSatisfy(\.isFinite) else {
            throw STEMError.invalidParameter(name: option, value: text, expected: "two numbers X,Y")
        }
        return (v[0], v[1])
    }

    func parameters(source: PatternSource) throws -> MatchingJob.Parameters {
        let det = source.detector
        let scale = Double(min(det.rows, det.columns)) / 128
        func metadata(_ key: String) -> Double? {
            source.metadata.first { $0.0 == key }.flatMap { Double($0.1.trimmingCharacters(in: CharacterSet(charactersIn: "[] "))) }
        }
        guard let pixel = reciprocalPixelSize ?? metadata("reciprocal_pixel_size_per_angstrom") else {
            throw STEMError.invalidParameter(name: "--reciprocal-pixel-size", value: "none",
                                             expected: "the calibration in 1/Angstrom per pixel (the input has no reciprocal_pixel_size_per_angstrom attribute)")
        }
        let volts = voltage.map { $0 * 1000 } ?? metadata("accelerating_voltage_V") ?? 200_000
        guard precession >= 0, precession < 10 else {
            throw STEMError.invalidParameter(name: "--precession", value: "\(precession)", expected: "0 ... 10 degrees")
        }
        let conditions = DiffractionConditions(voltage: volts, excitationErrorTolerance: excitationTolerance,
                                               precessionAngle: precession * .pi / 180)
        let lp = LibraryParameters(stepDegrees: step, conditions: conditions, reciprocalPixelSize: pixel,
                                   minimumRadius: minRadius ?? 7 * scale,
                                   maximumRadius: maxRadius ?? Double(min(det.rows, det.columns)) / 2 - 4)
        let (cx, cy) = try centre.map { try Self.pair($0, option: "--centre") }
            ?? ((Double(det.columns) - 1) / 2, (Double(det.rows) - 1) / 2)
        let where_: PatternCentre = fixedCentre ? .fixed(x: cx, y: cy)
            : .directBeam(x: cx, y: cy, searchRadius: beamSearch ?? 8 * scale)
        guard gamma > 0, gamma <= 4 else { throw STEMError.invalidParameter(name: "--gamma", value: "\(gamma)", expected: "0 < gamma ≤ 4") }
        var mp = MatchingParameters(scaling: gamma == 1 ? .linear : .gamma(gamma), centre: where_, topN: topN,
                                    reliabilityMinimumAngle: reliabilityAngle, refine: refine, coarseCandidates: coarse)
        mp.smoothPolar = true
        mp.radialKeepFraction = radialKeep
        var p = MatchingJob.Parameters(phases: try Self.loadPhases(phases), library: lp, matching: mp)
        p.locateBeamCentre = centre == nil && !fixedCentre
        p.libraryCache = libraryCache
        guard threads >= 1 else { throw STEMError.invalidParameter(name: "--threads", value: "\(threads)", expected: "≥ 1") }
        p.threads = threads
        p.chunkBudgetBytes = max(1, chunkMb) << 20
        let (sx, sy) = try Self.pair(scanStep, option: "--scan-step")
        p.scanStep = (sx, sy)
        return p
    }

    func run() throws {
        try runOnWorld { comm in
            let source = try comm.collectively { try input.spec().open() }
            let p = try comm.collectively { try parameters(source: source) }
            var prov = Provenance(command: "match", inputPath: input.input)
            prov.parameters = input.provenanceParameters + [
                ("phases", phases), ("step", "\(step)"), ("reciprocal_pixel_size", "\(p.library.reciprocalPixelSize)"),
                ("voltage_V", "\(p.library.conditions.voltage)"), ("precession_deg", "\(precession)"),
                ("excitation_tolerance", "\(excitationTolerance)"),
                ("radius_range", "\(p.library.minimumRadius)...\(p.library.maximumRadius)"),
                ("centre", "\(p.matching.centre)"), ("gamma", "\(gamma)"), ("top_n", "\(topN)"),
                ("reliability_angle", "\(reliabilityAngle)"), ("refine", "\(refine)"), ("coarse", "\(coarse)"),
                ("library_cache", libraryCache ?? ""), ("png_dir", pngDir ?? ""), ("ang", ang ?? ""),
            ]
            let s = try MatchingJob.run(source: source, parameters: p, comm: comm, outputPath: output, pngFolder: pngDir,
                                        angPath: ang, provenance: prov)
            printOnRoot(comm, String(format: "match: library of %d templates %@ in %.2f s", s.templates,
                                     s.libraryFromCache ? "read from cache" : "built", s.librarySeconds))
            printOnRoot(comm, String(format: "match: %d positions on %d ranks x %d threads in %.2f s (matching %.2f s, %.0f patterns/s); %d indexed, mean Q %.3f",
                                     s.positions, comm.size, threads, s.seconds, s.matchSeconds,
                                     Double(s.positions) / max(s.matchSeconds, 1e-9), s.indexed, s.meanCorrelation))
            if let c = s.beamCentre {
                let det = source.detector // its centre in pixel indices, as the search's
                let dx = c.x - Double(det.columns - 1) / 2, dy = c.y - Double(det.rows - 1) / 2
                printOnRoot(comm, String(format: "match: note: the direct beam of the sampled patterns is at (%.1f, %.1f) px, %.1f px from the detector centre; each pattern's beam is searched about it (--centre X,Y sets the centre)",
                                         c.x, c.y, (dx * dx + dy * dy).squareRoot()))
            }
            printOnRoot(comm, "output: \(output)" + (pngDir.map { "; images in \($0)/" } ?? "") + (ang.map { "; .ang: \($0)" } ?? ""))
        }
    }
}
