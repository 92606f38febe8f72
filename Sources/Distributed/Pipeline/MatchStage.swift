import Crystallography
import Foundation
import HDF5
import Imaging
import Matching
import STEMCore

/// The `[match]` stage: orientation and phase maps by template matching (`MatchingJob`, methods §2),
/// committed as `stages/match.h5` under `/matching`. The calibration comes from the input's attributes
/// unless given; the geometry defaults scale with the detector (values at 128 px).
public struct MatchStage: PipelineStage {
    public static let kind = StageKind(
        section: "match",
        summary: "Template matching: orientation (IPF) and phase maps with correlation and reliability.",
        version: 1,
        keys: [
            ConfigKey("phases", "array of strings", default: "[\"Al\"]", "Built-in phase names or CIF files (relative to the config)."),
            ConfigKey("step", "float", default: "1", "Angular step of the template library, degrees."),
            ConfigKey("reciprocal_pixel_size", "float", default: "from the input's attributes", "Calibration, 1/Å per pixel."),
            ConfigKey("voltage_kv", "float", default: "from the input's attributes, else 200", "Accelerating voltage, kV."),
            ConfigKey("precession", "float", default: "0", "Precession semi-angle, degrees (0: none)."),
            ConfigKey("excitation_tolerance", "float", default: "0.03", "Excitation-error tolerance, 1/Å."),
            ConfigKey("min_radius", "float", default: "7 px at 128 px width", "Spots closer to the centre are ignored, px."),
            ConfigKey("max_radius", "float", default: "half the detector minus 4 px", "Outer radius, px."),
            ConfigKey("centre", "[x, y] floats", default: "the detector centre, or the direct beam of 64 sampled patterns when it lies farther than 4 px at 128 px width", "Pattern centre, px."),
            ConfigKey("fixed_centre", "boolean", default: "false", "Use the centre for every pattern (else follow the direct beam)."),
            ConfigKey("gamma", "float", default: "0.5", "Intensity gamma before matching (1: linear)."),
            ConfigKey("top_n", "integer", default: "5", "Candidates kept per position."),
            ConfigKey("refine", "boolean", default: "true", "Refine the best orientation below the library step."),
            ConfigKey("threads", "integer", default: "1", "Threads per rank."),
            ConfigKey("library_cache", "string", default: "none", "HDF5 cache of the template library (read if present)."),
        ],
        make: { try MatchStage(section: $0) })

    public let name = "match"
    public let dependencies: [String] = []
    let section: ConfigTable
    let phases: [CrystalStructure]

    init(section t: ConfigTable) throws {
        try t.rejectUnknownKeys(Self.kind.keys.map(\.name))
        section = t
        let base = (t.file as NSString).deletingLastPathComponent
        var names = ["Al"]
        if let v = t.values["phases"] {
            guard case let .array(items) = v, !items.isEmpty else {
                throw ConfigError.wrongType(file: t.file, key: t.qualified("phases"), expected: "a non-empty array of strings", found: v.typeName)
            }
            names = try items.map {
                guard case let .string(s) = $0 else {
                    throw ConfigError.wrongType(file: t.file, key: t.qualified("phases"), expected: "an array of strings", found: "array holding a \($0.typeName)")
                }
                return s
            }
        }
        phases = try names.map { name in
            if name.lowercased().hasSuffix(".cif") { return try CIFReader.read(path: name.hasPrefix("/") || base.isEmpty ? name : base + "/" + name) }
            guard let b = BuiltInPhase.allCases.first(where: { $0.rawValue.lowercased() == name.lowercased() }) else {
                throw ConfigError.invalidValue(file: t.file, key: t.qualified("phases"), value: name,
                                               expected: "a CIF file or one of " + BuiltInPhase.allCases.map(\.rawValue).joined(separator: ", "))
            }
            return b.structure
        }
        _ = try parameters(detector: DetectorShape(rows: 128, columns: 128), metadata: [("reciprocal_pixel_size_per_angstrom", "0.02")])
    }

    /// Matching parameters for a detector and the input's metadata, the section's keys over the defaults.
    func parameters(detector det: DetectorShape, metadata: [(String, String)]) throws -> MatchingJob.Parameters {
        let t = section
        func bad(_ key: String, _ value: String, _ expected: String) -> ConfigError {
            ConfigError.invalidValue(file: t.file, key: t.qualified(key), value: value, expected: expected)
        }
        func positive(_ key: String) throws -> Double? {
            guard let v = try t.number(key) else { return nil }
            guard v > 0, v.isFinite else { throw bad(key, "\(v)", "a positive number") }
            return v
        }
        func meta(_ key: String) -> Double? {
            metadata.first { $0.0 == key }.flatMap { Double($0.1.trimmingCharacters(in: CharacterSet(charactersIn: "[] "))) }
        }
        let scale = Double(min(det.rows, det.columns)) / 128
        guard let pixel = try positive("reciprocal_pixel_size") ?? meta("reciprocal_pixel_size_per_angstrom") else {
            throw ConfigError.missingKey(file: t.file, key: t.qualified("reciprocal_pixel_size"),
                                         hint: "the input has no reciprocal_pixel_size_per_angstrom attribute")
        }
        let volts = try positive("voltage_kv").map { $0 * 1000 } ?? meta("accelerating_voltage_V") ?? 200_000
        let precession = try t.number("precession") ?? 0
        guard precession >= 0, precession < 10 else { throw bad("precession", "\(precession)", "0 ... 10 degrees") }
        let conditions = DiffractionConditions(voltage: volts, excitationErrorTolerance: try positive("excitation_tolerance") ?? 0.03,
                                               precessionAngle: precession * .pi / 180)
        let lp = LibraryParameters(stepDegrees: try positive("step") ?? 1, conditions: conditions, reciprocalPixelSize: pixel,
                                   minimumRadius: try positive("min_radius") ?? 7 * scale,
                                   maximumRadius: try positive("max_radius") ?? Double(min(det.rows, det.columns)) / 2 - 4)
        var cx = (Double(det.columns) - 1) / 2, cy = (Double(det.rows) - 1) / 2
        let givenCentre = try t.numbers("centre")
        if let c = givenCentre {
            guard c.count == 2 else { throw bad("centre", "\(c)", "[x, y]") }
            (cx, cy) = (c[0], c[1])
        }
        let fixed = try t.boolean("fixed_centre") ?? false
        let centre: PatternCentre = fixed ? .fixed(x: cx, y: cy)
            : .directBeam(x: cx, y: cy, searchRadius: 8 * scale)
        let gamma = try positive("gamma") ?? 0.5
        guard gamma <= 4 else { throw bad("gamma", "\(gamma)", "0 < gamma <= 4") }
        let topN = try t.integer("top_n") ?? 5
        guard topN >= 1 else { throw bad("top_n", "\(topN)", "an integer >= 1") }
        var mp = MatchingParameters(scaling: gamma == 1 ? .linear : .gamma(gamma), centre: centre, topN: topN,
                                    refine: try t.boolean("refine") ?? true)
        mp.smoothPolar = true
        var p = MatchingJob.Parameters(phases: phases, library: lp, matching: mp)
        p.locateBeamCentre = givenCentre == nil && !fixed // as `stemrun match`
        p.libraryCache = try t.string("library_cache")
        let threads = try t.integer("threads") ?? 1
        guard threads >= 1 else { throw bad("threads", "\(threads)", "an integer >= 1") }
        p.threads = threads
        return p
    }

    /// Threads and the library cache do not change results.
    public var parameterText: String {
        var t = section
        t.values["threads"] = nil
        t.values["library_cache"] = nil
        return t.canonicalText
    }

    public func estimatedBytes(scan: ScanGrid, detector: DetectorShape) -> Int { scan.count * (5 * 60 + 24) }

    public func run(comm: Communicator, context: StageContext) throws {
        var p = try parameters(detector: context.source.detector, metadata: context.source.metadata)
        p.chunkBudgetBytes = context.chunkBudgetBytes
        _ = try MatchingJob.run(source: context.source, parameters: p, comm: comm, outputPath: context.stageFile(name),
                                pngFolder: nil, angPath: nil, provenance: context.provenance)
    }

    public func report(stageFile: String, context: ReportContext) throws -> [ReportBlock] {
        let f = try H5File.open(stageFile)
        let g = try f.group("matching")
        let scan = context.scan
        let s = MapRenderer.upscale(forWidth: scan.columns, height: scan.rows)
        var blocks: [ReportBlock] = []
        let phase = try f.dataset("matching/phase").readAll(as: Int32.self).map(Int.init)
        let names = (g.stringAttribute("phases") ?? "").split(separator: ",").map(String.init)
        let counts = names.indices.map { i in phase.filter { $0 == i }.count }
        blocks.append(.image(title: "Phase map",
                             png: try ReportImages.pngData(MapRenderer.labels(phase, width: scan.columns, height: scan.rows, scale: s),
                                                           scratch: context.scratchFolder),
                             caption: "best-matching phase per position",
                             key: .categories([(label: "not indexed", rgb: CategoricalPalette.color(-1))]
                                              + names.indices.map { (label: "\(names[$0]) (\(counts[$0]))", rgb: CategoricalPalette.color($0)) })))
        let ipf = try f.dataset("matching/ipf_z").readAll(as: Float.self)
        var colours: [(Float, Float, Float)] = []
        colours.reserveCapacity(scan.count)
        for i in 0 ..< scan.count { colours.append((ipf[3 * i], ipf[3 * i + 1], ipf[3 * i + 2])) }
        blocks.append(.image(title: "Orientation map (IPF-Z)",
                             png: try ReportImages.pngData(MapRenderer.rgb(colours, width: scan.columns, height: scan.rows, scale: s),
                                                           scratch: context.scratchFolder),
                             caption: "inverse pole figure colour of the beam direction; key below", key: nil))
        var systems: [CrystalSystem] = []
        for ph in phases where !systems.contains(ph.pointGroup.system) { systems.append(ph.pointGroup.system) }
        for system in systems {
            let key = InversePoleFigure.key(system: system, width: 160)
            blocks.append(.image(title: "IPF-Z colour key (\(system.rawValue))",
                                 png: try ReportImages.pngData(MapRenderer.rgb(key.colours, width: key.width, height: key.height),
                                                               scratch: context.scratchFolder),
                                 caption: "standard triangle of the \(system.rawValue) system", key: nil))
        }
        for (dataset, title) in [("correlation", "Correlation index"), ("reliability", "Orientation reliability"),
                                 ("phase_reliability", "Phase reliability")] {
            let values = try f.dataset("matching/" + dataset).readAll(as: Float.self)
            blocks.append(try ReportImages.scalarMap(title: title, values, scan: scan, scratch: context.scratchFolder))
        }
        let correlation = try f.dataset("matching/correlation").readAll(as: Float.self)
        let indexed = phase.filter { $0 >= 0 }.count
        let mean = indexed > 0 ? zip(phase, correlation).filter { $0.0 >= 0 }.map { Double($0.1) }.reduce(0, +) / Double(indexed) : 0
        var rows: [[String]] = [["phases", names.joined(separator: ", ")],
                                ["indexed positions", "\(indexed) of \(scan.count)"],
                                ["mean correlation (indexed)", String(format: "%.4f", mean)]]
        for key in ["templates", "step_degrees", "reciprocal_pixel_size_per_angstrom", "accelerating_voltage_V", "radius_range_px"] {
            if let v = g.attributeText(key) { rows.append([key.replacingOccurrences(of: "_", with: " "), v]) }
        }
        blocks.append(.table(title: "Template matching", header: ["quantity", "value"], rows: rows))
        return blocks
    }
}
