import Foundation
import HDF5
import Imaging
import Registration
import STEMCore

/// The `[register]` stage: Bragg spots of every pattern, centred and reconstructed patterns, spot table and
/// maps (`RegistrationJob`, ePattern arXiv:2305.02124), committed as `stages/register.h5` under
/// `/registration`. Sizes left unset take the authors' values at 512 px scaled to the working width.
public struct RegisterStage: PipelineStage {
    public static let kind = StageKind(
        section: "register",
        summary: "Registration: direct-beam centring, background subtraction, Bragg spots, reconstruction, maps.",
        version: 1,
        keys: [
            ConfigKey("binning", "boolean", default: "true", "Bin to 512 px when the detector is wider (area average)."),
            ConfigKey("bin_factor", "integer", default: "W_in / 512 when W_in > 512, else 1", "Binning factor."),
            ConfigKey("centring", "boolean", default: "true", "Iterative direct-beam centring."),
            ConfigKey("centring_radius", "float", default: "W/4", "Initial centring radius R0, px."),
            ConfigKey("far_beam_search", "boolean", default: "true", "Start the centring of a pattern whose direct beam lies beyond the first circle from its brightest region."),
            ConfigKey("scan_mean", "boolean", default: "true", "3 x 3 real-space mean before spot finding."),
            ConfigKey("background", "boolean", default: "true", "Paraboloid background subtraction."),
            ConfigKey("background_radius", "float", default: "W/10", "Background radius, px."),
            ConfigKey("blur_sigma", "float", default: "2", "Gaussian blur sigma for localisation, px."),
            ConfigKey("prominence", "float", default: "none", "User prominence threshold in data units."),
            ConfigKey("default_prominence", "float", default: "3", "Default prominence in grey levels."),
            ConfigKey("shot_noise_test", "boolean", default: "false", "Shot-noise test for counted data: a spot must also hold improbably many electrons for Poisson noise of its background (removes the noise spots of sparse low-dose patterns, and the weakest real ones)."),
            ConfigKey("electron_value", "float", default: "1 for integer input", "Input value of one detected electron for the shot-noise test (implies it; floating-point input must give it)."),
            ConfigKey("max_spots", "integer", default: "150", "Maximum spots per pattern (the strongest)."),
            ConfigKey("reject_ridges", "boolean", default: "true", "Reject maxima whose top is a ridge (the highest point of a ring or band), not a spot."),
            ConfigKey("merge_upper_halves", "boolean", default: "true", "A maximum on the upper half of a brighter spot, or refined to within 1.5 px of one, is part of it."),
            ConfigKey("beam_flank", "boolean", default: "true", "Take the direct beam's flank out of the centroid windows of the spots next to it."),
            ConfigKey("remove_zingers", "boolean", default: "true", "Replace isolated bright pixels (X-ray and cosmic-ray hits) by the mean of their neighbours."),
            ConfigKey("windows_fit_spots", "boolean", default: "true", "Widen a centroid window narrower than its spot (false: the paper's fixed windows)."),
            ConfigKey("disc_centres", "boolean", default: "false", "Centre every spot on the rim of a disc of the direct beam's radius (4 px or more): convergent-beam discs whose inside is not uniform."),
            ConfigKey("reconstruction", "boolean", default: "true", "Write the reconstructed 4D dataset."),
            ConfigKey("reconstruction_size", "integer", default: "W", "Reconstructed pattern size, px."),
            ConfigKey("find_bad_pixels", "boolean", default: "false", "Find hot and dead pixels from a sample of patterns."),
            ConfigKey("ellipse_ring", "[inner, outer] floats", default: "off", "Fit the elliptical distortion on this ring, px."),
        ],
        make: { try RegisterStage(section: $0) })

    public let name = "register"
    public let dependencies: [String] = []
    /// The section as written: options depend on the detector width, so they are resolved in `run`.
    let section: ConfigTable

    init(section t: ConfigTable) throws {
        try t.rejectUnknownKeys(Self.kind.keys.map(\.name))
        section = t
        // Check types and ranges now, against a nominal 512 px detector, so mistakes stop the run before work.
        _ = try options(detector: DetectorShape(rows: 512, columns: 512))
    }

    /// Registration options for a detector: the authors' defaults at this width, then the section's keys.
    func options(detector: DetectorShape, elementType: ElementType = .uint16) throws -> RegistrationJob.Options {
        let t = section
        func bad(_ key: String, _ value: String, _ expected: String) -> ConfigError {
            ConfigError.invalidValue(file: t.file, key: t.qualified(key), value: value, expected: expected)
        }
        func positive(_ key: String) throws -> Float? {
            guard let v = try t.number(key) else { return nil }
            guard v > 0, v.isFinite else { throw bad(key, "\(v)", "a positive number") }
            return Float(v)
        }
        let binning = try t.boolean("binning") ?? true
        let factor = try t.integer("bin_factor") ?? Binning.factor(width: detector.columns, target: 512)
        guard factor >= 1 else { throw bad("bin_factor", "\(factor)", "an integer >= 1") }
        var p = RegistrationParameters(workingWidth: binning ? max(1, detector.columns / factor) : detector.columns)
        p.binning = binning && factor > 1
        p.binningFactor = p.binning ? factor : 1
        p.centring = try t.boolean("centring") ?? true
        if let v = try positive("centring_radius") { p.centringInitialRadius = v }
        p.searchFarBeam = try t.boolean("far_beam_search") ?? true
        p.scanMean = try t.boolean("scan_mean") ?? true
        p.backgroundSubtraction = try t.boolean("background") ?? true
        if let v = try positive("background_radius") { p.backgroundRadius = v }
        if let v = try positive("blur_sigma") { p.blurSigma = v }
        p.userProminence = try positive("prominence")
        if let v = try positive("default_prominence") { p.defaultProminenceGreyLevels = v }
        let electron = try positive("electron_value")
        if try t.boolean("shot_noise_test") ?? (electron != nil) {
            guard let e = electron ?? RegistrationParameters.defaultElectronValue(for: elementType) else {
                throw bad("electron_value", "none", "the value of one electron in this \(elementType.rawValue) input for shot_noise_test (integer input: 1)")
            }
            p.electronValue = e
        }
        if let v = try t.integer("max_spots") {
            guard v >= 1 else { throw bad("max_spots", "\(v)", "an integer >= 1") }
            p.maxSpots = v
        }
        p.windowsFitSpots = try t.boolean("windows_fit_spots") ?? true
        p.discCentres = try t.boolean("disc_centres") ?? false
        p.removeZingers = try t.boolean("remove_zingers") ?? true
        p.rejectRidges = try t.boolean("reject_ridges") ?? true
        p.mergeUpperHalves = try t.boolean("merge_upper_halves") ?? true
        p.correctBeamFlank = try t.boolean("beam_flank") ?? true
        if let v = try t.integer("reconstruction_size") {
            guard v >= 8 else { throw bad("reconstruction_size", "\(v)", "an integer >= 8") }
            p.reconstructionSize = v
        }
        do { try p.validate() } catch { throw bad("(registration parameters)", "", "\(error)") }
        var o = RegistrationJob.Options(parameters: p)
        o.writeReconstruction = try t.boolean("reconstruction") ?? true
        o.findBadPixels = try t.boolean("find_bad_pixels") ?? false
        if let r = try t.numbers("ellipse_ring") {
            guard r.count == 2, r[0] >= 0, r[1] > r[0] + 1 else { throw bad("ellipse_ring", "\(r)", "[inner, outer] with outer > inner + 1 px") }
            o.ellipseRing = (Float(r[0]), Float(r[1]))
        }
        return o
    }

    public var parameterText: String { section.canonicalText }

    public func estimatedBytes(scan: ScanGrid, detector: DetectorShape) -> Int {
        let o = try? options(detector: detector)
        let side = o?.parameters.reconstructionSize ?? detector.columns
        let reconstruction = (o?.writeReconstruction ?? true) ? scan.count * side * side * 4 : 0
        return reconstruction + scan.count * (150 * 40 + 64)
    }

    public func run(comm: Communicator, context: StageContext) throws {
        var o = try options(detector: context.source.detector, elementType: context.source.elementType)
        o.chunkBudgetBytes = context.chunkBudgetBytes
        _ = try RegistrationJob.run(source: context.source, options: o, comm: comm, outputPath: context.stageFile(name),
                                    pngFolder: nil, provenance: context.provenance)
    }

    public func report(stageFile: String, context: ReportContext) throws -> [ReportBlock] {
        let f = try H5File.open(stageFile)
        let g = try f.group("registration")
        var blocks: [ReportBlock] = []
        for name in PatternMaps.names where f.exists("registration/maps/" + name) {
            let values = try f.dataset("registration/maps/" + name).readAll(as: Float.self)
            blocks.append(try ReportImages.scalarMap(title: name.replacingOccurrences(of: "_", with: " ").capitalized,
                                                     values, scan: context.scan,
                                                     colormap: name.contains("bright_field") ? .gray : .viridis,
                                                     scratch: context.scratchFolder))
        }
        var rows: [[String]] = []
        for key in ["spot_count", "compression_rate", "working_shape", "reconstruction_size", "invalid_pixels"] {
            if let v = g.attributeText(key) { rows.append([key.replacingOccurrences(of: "_", with: " "), v]) }
        }
        if let d = g.stringAttribute("compression_definition") { rows.append(["compression rate definition", d]) }
        blocks.append(.table(title: "Registration", header: ["quantity", "value"], rows: rows))
        return blocks
    }
}
