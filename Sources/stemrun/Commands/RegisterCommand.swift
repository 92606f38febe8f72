import ArgumentParser
import Distributed
import Foundation
import HDF5
import Registration
import STEMCore
import TOMLKit

/// `stemrun register`: registration and reconstruction of diffraction patterns (arXiv:2305.02124).
/// Every option can also be set in a TOML file (`--config`), under the same name without the dashes
/// (`background-radius = 40`); boolean switches use their positive name (`centring = false`). The command
/// line wins over the file; the file wins over the defaults.
struct RegisterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "register",
        abstract: "Find the Bragg spots of every pattern, rebuild clean centred patterns, write spot table and maps.",
        discussion: """
        Method of arXiv:2305.02124 (ePattern): optional binning to 512 px, iterative direct-beam centring, \
        3 x 3 real-space mean, background subtraction, blur for localisation, spots of adaptive topographic \
        prominence (threshold = max(user, 3 grey levels, corner noise)), 5 centroid refinements, \
        reconstruction with anti-aliased discs. Sizes are the authors' values at 512 px scaled with the \
        working detector width W. Output: /registration/spots (table + index), /registration/maps, \
        /registration/reconstruction, /registration/ellipse, compression rate. Details: docs/registration.md.
        """)

    @OptionGroup var input: InputOptions

    @Option(help: "TOML file with any of the options below (keys = option names without dashes).")
    var config: String?

    @Option(name: .shortAndLong, help: "Output HDF5 file. (default: registered.h5)")
    var output: String?
    @Option(help: "Folder for PNG images of the maps. (default: none)")
    var pngDir: String?
    @Option(help: "Also write the spot table as CSV to this file. (default: none)")
    var csv: String?

    @Flag(help: "Do not bin (default: bin to 512 px when the detector is wider, area average).")
    var noBinning = false
    @Option(help: "Binning factor. (default: W_in / 512 when W_in > 512, else 1)")
    var binFactor: Int?

    @Flag(help: "Skip the iterative direct-beam centring (default: on).")
    var noCentring = false
    @Option(help: "Initial centring radius R0 in px. (default: W/4)")
    var centringRadius: Float?
    @Option(help: "Minimum centring radius R_min in px. (default: 30 W/512)")
    var centringMinRadius: Float?
    @Option(help: "Maximum centring passes. (default: 10)")
    var centringPasses: Int?
    @Option(help: "Centring tolerance in px. (default: 0.1)")
    var centringTolerance: Float?
    @Flag(help: "Start every pattern's centring from the detector centre, as the paper does, even when its direct beam lies beyond the first circle (default: such a pattern starts from its brightest region).")
    var noFarBeamSearch = false

    @Flag(help: "Skip the 3 x 3 real-space mean (default: on).")
    var noScanMean = false
    @Flag(help: "Skip background subtraction (default: on).")
    var noBackground = false
    @Option(help: "Background (paraboloid) radius in px. (default: W/10)")
    var backgroundRadius: Float?
    @Option(help: "Gaussian blur sigma for localisation, px. (default: 2)")
    var blurSigma: Float?

    @Option(help: "User prominence threshold in data units; threshold = max(this, default, noise). (default: none)")
    var prominence: Float?
    @Option(help: "Default prominence in grey levels. (default: 3)")
    var defaultProminence: Float?
    @Option(help: "Grey level: dynamic-range (1/255 of each pattern's range) or absolute (one count). (default: dynamic-range)")
    var greyLevels: String?
    @Flag(help: "Shot-noise test for counted data: a spot must also hold improbably many electrons for Poisson noise of its background (1 false spot per 100 patterns of pure noise). Removes the noise spots of sparse low-dose patterns, and the weakest real ones with them (default: off, the paper's threshold alone).")
    var shotNoiseTest = false
    @Option(help: "Input value of one detected electron for the shot-noise test (implies --shot-noise-test). (default: 1 for integer input; floating-point input must give it)")
    var electronValue: Float?
    @Option(help: "Maximum spots per pattern (the strongest). (default: 150)")
    var maxSpots: Int?
    @Flag(help: "Keep maxima whose region touches the image edge (default: excluded).")
    var keepEdgeMaxima = false
    @Flag(help: "Keep maxima whose top is a ridge (default: a maximum whose pixels within the threshold of it and whose upper half both spread more than 4x the second moment of a disc of their area, the highest point of a ring, a Kikuchi band or a streak longer than 8:1, is not a spot).")
    var keepRidges = false
    @Flag(help: "Keep maxima on the upper half of a brighter spot and spots refined to within 1.5 px of another (default: they are part of that spot, as the maxima of a wide disc's noisy plateau).")
    var keepUpperHalfMaxima = false
    @Flag(help: "Leave the direct beam's flank in the centroid windows of the spots next to it (default: its radial profile, a low quantile of each circle about the beam, is taken out of them).")
    var noBeamFlank = false

    @Option(help: "Centroid refinement passes. (default: 5)")
    var refinePasses: Int?
    @Option(help: "Direct-beam centroid window side, px. (default: 20 W/512)")
    var directBeamWindow: Float?
    @Option(help: "Spot centroid window side, px. (default: 10 W/512)")
    var spotWindow: Float?
    @Flag(help: "Keep the centroid windows at their sides even for spots wider than them (default: a window is widened to 3 R + 2 px for a spot of radius R, up to the distance to the nearest spot).")
    var fixedWindows = false
    @Flag(help: "Centre every spot on the rim of a disc of the direct beam's radius, found after the centroid, when that radius is 4 px or more: for convergent-beam discs whose inside is not uniform (thick crystals), where the centroid lies towards the bright side (default: off, the paper's centroid).")
    var discCentres = false
    @Option(help: "Image for the centroid: background-subtracted or blurred. (default: background-subtracted)")
    var refineOn: String?
    @Flag(help: "Plain centroid, without subtracting the window's border mean (default: subtracted).")
    var noRefineBaseline = false
    @Option(help: "Diameter of the intensity disc, px. (default: 3)")
    var intensityDisc: Float?
    @Option(help: "Pseudo-prominence radii DIRECT,SPOT in px. (default: 40 W/512, 25 W/512)")
    var pseudoProminenceRadii: String?

    @Option(help: "Reconstructed pattern size in px. (default: W)")
    var reconstructionSize: Int?
    @Flag(help: "Combined mode: disc radii 6 / 4 px at 512 instead of 4 / 2.")
    var combinedMode = false
    @Flag(help: "Do not shift spots so the direct beam sits at the centre (default: shifted).")
    var noCentreOnBeam = false
    @Option(help: "Gaussian blur of the reconstruction, px. (default: 0 = none)")
    var reconstructionBlur: Float?
    @Flag(help: "Do not write the reconstructed 4D dataset.")
    var noReconstruction = false

    @Option(help: "Virtual dark field X,Y,R: reflections within R px of (X, Y) relative to the direct beam (repeatable).")
    var darkField: [String] = []
    @Option(help: "Bad-pixel mask: HDF5 FILE[:DATASET], non-zero = bad (input detector shape). (default: none)")
    var mask: String?
    @Flag(help: "Keep isolated bright pixels (default: a pixel above 8 m + 10 sqrt(m + 1), m its brightest neighbour, is an X-ray or cosmic-ray hit and gets the mean of its neighbours).")
    var keepZingers = false
    @Flag(help: "Find hot and dead pixels, dead rows and columns and the gaps between detector modules from a sample of patterns; gaps are filled by interpolation across them (default: off).")
    var findBadPixels = false
    @Option(help: "Fit the elliptical distortion on the ring INNER,OUTER (px) of the mean centred pattern. (default: off)")
    var ellipseRing: String?
    @Option(help: "Apply a known distortion CX,CY,A,B,ANGLE (px, px, px, px, radians). (default: none)")
    var ellipse: String?
    @Option(help: "Memory per rank for staging input patterns before binning, in MiB (unbinned patterns are read straight into their prepared row). (default: 16)")
    var chunkMb: Int?

    static let configKeys: Set<String> = [
        "output", "png-dir", "csv", "binning", "bin-factor", "centring", "centring-radius", "centring-min-radius",
        "centring-passes", "centring-tolerance", "far-beam-search", "scan-mean", "background", "background-radius", "blur-sigma",
        "prominence", "default-prominence", "grey-levels", "electron-value", "shot-noise-test", "max-spots", "exclude-edge-maxima", "reject-ridges", "merge-upper-halves", "beam-flank", "refine-passes",
        "direct-beam-window", "spot-window", "windows-fit-spots", "disc-centres", "remove-zingers", "refine-on", "refine-baseline", "intensity-disc",
        "pseudo-prominence-radii", "reconstruction-size", "combined-mode", "centre-on-beam", "reconstruction-blur",
        "reconstruction", "dark-field", "mask", "find-bad-pixels", "ellipse-ring", "ellipse", "chunk-mb",
    ]

    func run() throws {
        try runOnWorld { comm in
            let cfg = try comm.collectively { try ConfigFile(path: config, allowedKeys: Self.configKeys) }
            let source = try comm.collectively { try input.spec().open() }
            let options = try comm.collectively { try makeOptions(cfg, detectorWidth: source.detector.columns, detector: source.detector,
                                                                             elementType: source.elementType) }
            let outPath = try output ?? cfg.string("output") ?? "registered.h5"
            let png = try pngDir ?? cfg.string("png-dir")
            var prov = Provenance(command: "register", inputPath: input.input)
            prov.parameters = input.provenanceParameters + [("config", config ?? "")]
            let s = try RegistrationJob.run(source: source, options: options, comm: comm, outputPath: outPath,
                                            pngFolder: png, provenance: prov)
            printOnRoot(comm, String(format: "register: %d positions (%@ -> %@) on %d ranks in %.2f s: %.1f patterns/s, %.1f patterns/s per rank (streaming pass %.2f s)",
                                     s.positions, "\(source.detector)", "\(s.workingShape)", comm.size, s.seconds,
                                     Double(s.positions) / max(s.seconds, 1e-9),
                                     Double(s.positions) / max(s.streamSeconds, 1e-9) / Double(comm.size), s.streamSeconds))
            printOnRoot(comm, String(format: "register: %d spots (%.1f per pattern); compression rate %.0f (input pattern bytes / spot-table bytes); peak memory per rank %.0f MB",
                                     s.spots, Double(s.spots) / Double(max(1, s.positions)), s.compressionRate,
                                     Double(s.peakResidentBytes) / 1e6))
            if s.spots == 0 && s.positions > 0 {
                let scale = options.parameters.greyLevelScale == .absolute
                    ? "one grey level is one count here (--grey-levels absolute): data on a smaller scale need --grey-levels dynamic-range or a --default-prominence below 1"
                    : "lower --default-prominence or set --grey-levels absolute with a --prominence in counts"
                printOnRoot(comm, "register: note: no spot passed the threshold in any pattern (threshold = max(--prominence, \(options.parameters.defaultProminenceGreyLevels) grey levels, corner noise)); \(scale)")
            }
            if let e = s.beamExtent {
                printOnRoot(comm, String(format: "register: direct beam (descan) at x %.2f ... %.2f, y %.2f ... %.2f px of the input detector (its centre %.1f, %.1f; maps /registration/maps/beam_x, beam_y)",
                                         e.x.lowerBound, e.x.upperBound, e.y.lowerBound, e.y.upperBound,
                                         Double(source.detector.columns) / 2, Double(source.detector.rows) / 2))
            }
            if let r = s.meanBeamRadius, Float(r) >= DiscEdge.minimumRadius, !options.parameters.discCentres {
                printOnRoot(comm, String(format: "register: note: the direct beam is a disc (mean half-maximum radius %.1f px of the working pattern; map /registration/maps/beam_radius): where the discs' insides are not uniform (thick crystals) their centroids lie towards the bright side, --disc-centres centres them on their rims; discs that are missed may have had their dim insides taken for background (--no-background, or a larger --background-radius)", r))
            }
            if options.findBadPixels { printOnRoot(comm, "register: \(s.badPixels) bad pixels masked") }
            if s.zingers > 0 {
                printOnRoot(comm, String(format: "register: %d isolated bright pixels (X-ray or cosmic-ray hits, %.2f per pattern) replaced by the mean of their neighbours (--keep-zingers keeps them)",
                                         s.zingers, Double(s.zingers) / Double(max(1, s.positions))))
            }
            if 2 * s.beamOnlyByGreyLevels >= s.positions && s.positions > 0 {
                printOnRoot(comm, String(format: "register: note: on %.0f %% of the positions only the direct beam passed the threshold, which came from the paper's 8-bit rule (%.0f grey levels of (max - min) / 255, a range the direct beam sets); for counting detectors with a bright beam use --grey-levels absolute (one grey level = one count) or a lower --default-prominence",
                                         100 * Double(s.beamOnlyByGreyLevels) / Double(s.positions), Double(options.parameters.defaultProminenceGreyLevels)))
            }
            if s.zeroGapLines.rows + s.zeroGapLines.columns > 0 {
                printOnRoot(comm, "register: note: \(s.zeroGapLines.rows) rows and \(s.zeroGapLines.columns) columns of the input patterns are zero between lines that are not (gaps between detector modules, dead lines); they bias every spot and the direct beam they cross: --find-bad-pixels finds and fills them, or give a --mask")
            }
            if let e = s.ellipse {
                printOnRoot(comm, String(format: "register: ellipse centre (%.2f, %.2f), semi-axes %.2f / %.2f (ratio %.4f), angle %.2f deg",
                                         e.centreX, e.centreY, e.semiMajor, e.semiMinor, e.axisRatio, e.angle * 180 / Double.pi))
            }
            printOnRoot(comm, "output: \(outPath)" + (png.map { "; images in \($0)/" } ?? "")
                        + ((try? csv ?? cfg.string("csv")).flatMap { $0 }.map { "; CSV \($0)" } ?? ""))
        }
    }

    /// Merges command line, configuration file and the paper's defaults for this detector.
    func makeOptions(_ cfg: ConfigFile, detectorWidth: Int, detector: DetectorShape,
                     elementType: ElementType) throws -> RegistrationJob.Options {
        let binning = noBinning ? false : (try cfg.bool("binning") ?? true)
        let factor = try binFactor ?? cfg.int("bin-factor") ?? Binning.factor(width: detectorWidth, target: 512)
        guard factor >= 1 else { throw STEMError.invalidParameter(name: "--bin-factor", value: "\(factor)", expected: ">= 1") }
        let workingWidth = binning ? detectorWidth / factor : detectorWidth
        var p = RegistrationParameters(workingWidth: workingWidth)
        p.binning = binning && factor > 1
        p.binningFactor = p.binning ? factor : 1
        p.centring = noCentring ? false : (try cfg.bool("centring") ?? true)
        if let v = try centringRadius ?? cfg.float("centring-radius") { p.centringInitialRadius = v }
        if let v = try centringMinRadius ?? cfg.float("centring-min-radius") { p.centringMinimumRadius = v }
        if let v = try centringPasses ?? cfg.int("centring-passes") { p.centringMaxPasses = v }
        if let v = try centringTolerance ?? cfg.float("centring-tolerance") { p.centringTolerance = v }
        p.searchFarBeam = noFarBeamSearch ? false : (try cfg.bool("far-beam-search") ?? true)
        p.scanMean = noScanMean ? false : (try cfg.bool("scan-mean") ?? true)
        p.backgroundSubtraction = noBackground ? false : (try cfg.bool("background") ?? true)
        if let v = try backgroundRadius ?? cfg.float("background-radius") { p.backgroundRadius = v }
        if let v = try blurSigma ?? cfg.float("blur-sigma") { p.blurSigma = v }
        p.userProminence = try prominence ?? cfg.float("prominence")
        if let v = try defaultProminence ?? cfg.float("default-prominence") { p.defaultProminenceGreyLevels = v }
        if let v = try greyLevels ?? cfg.string("grey-levels") {
            switch v {
            case "dynamic-range": p.greyLevelScale = .dynamicRange
            case "absolute": p.greyLevelScale = .absolute
            default: throw STEMError.invalidParameter(name: "grey-levels", value: v, expected: "dynamic-range or absolute")
            }
        }
        let electron = try electronValue ?? cfg.float("electron-value")
        let configTest = try cfg.bool("shot-noise-test") ?? false
        if shotNoiseTest || electron != nil || configTest {
            guard let e = electron ?? RegistrationParameters.defaultElectronValue(for: elementType) else {
                throw STEMError.invalidParameter(name: "electron-value", value: "none",
                                                 expected: "the value of one electron in this \(elementType.rawValue) input for --shot-noise-test (integer input: 1)")
            }
            p.electronValue = e
        }
        if let v = try maxSpots ?? cfg.int("max-spots") { p.maxSpots = v }
        p.excludeEdgeMaxima = keepEdgeMaxima ? false : (try cfg.bool("exclude-edge-maxima") ?? true)
        p.rejectRidges = keepRidges ? false : (try cfg.bool("reject-ridges") ?? true)
        p.mergeUpperHalves = keepUpperHalfMaxima ? false : (try cfg.bool("merge-upper-halves") ?? true)
        p.correctBeamFlank = noBeamFlank ? false : (try cfg.bool("beam-flank") ?? true)
        if let v = try refinePasses ?? cfg.int("refine-passes") { p.refinementPasses = v }
        if let v = try directBeamWindow ?? cfg.float("direct-beam-window") { p.directBeamWindow = v }
        if let v = try spotWindow ?? cfg.float("spot-window") { p.spotWindow = v }
        p.windowsFitSpots = fixedWindows ? false : (try cfg.bool("windows-fit-spots") ?? true)
        p.discCentres = discCentres ? true : (try cfg.bool("disc-centres") ?? false)
        p.removeZingers = keepZingers ? false : (try cfg.bool("remove-zingers") ?? true)
        if let v = try refineOn ?? cfg.string("refine-on") {
            switch v {
            case "background-subtracted": p.refinementImage = .backgroundSubtracted
            case "blurred": p.refinementImage = .blurred
            default: throw STEMError.invalidParameter(name: "refine-on", value: v, expected: "background-subtracted or blurred")
            }
        }
        p.refinementBaseline = noRefineBaseline ? false : (try cfg.bool("refine-baseline") ?? true)
        if let v = try intensityDisc ?? cfg.float("intensity-disc") { p.intensityDiscDiameter = v }
        if let v = try pseudoProminenceRadii ?? cfg.string("pseudo-prominence-radii") {
            let r = try Self.floats(v, count: 2, option: "pseudo-prominence-radii")
            p.pseudoProminenceRadiusDirect = r[0]; p.pseudoProminenceRadiusSpot = r[1]
        }
        if let v = try reconstructionSize ?? cfg.int("reconstruction-size") { p.reconstructionSize = v }
        p.combinedMode = combinedMode ? true : (try cfg.bool("combined-mode") ?? false)
        p.centreOnDirectBeam = noCentreOnBeam ? false : (try cfg.bool("centre-on-beam") ?? true)
        if let v = try reconstructionBlur ?? cfg.float("reconstruction-blur") { p.reconstructionBlurSigma = v }
        try p.validate()

        var o = RegistrationJob.Options(parameters: p)
        o.writeReconstruction = noReconstruction ? false : (try cfg.bool("reconstruction") ?? true)
        let dfs = darkField.isEmpty ? (try cfg.strings("dark-field") ?? []) : darkField
        o.darkFields = try dfs.map {
            let v = try Self.floats($0, count: 3, option: "dark-field")
            return DarkFieldSelector(x: v[0], y: v[1], radius: v[2])
        }
        if let m = try mask ?? cfg.string("mask") { o.mask = try Self.readMask(m, detector: detector) }
        o.findBadPixels = findBadPixels ? true : (try cfg.bool("find-bad-pixels") ?? false)
        if let v = try ellipseRing ?? cfg.string("ellipse-ring") {
            let r = try Self.floats(v, count: 2, option: "ellipse-ring")
            guard r[0] >= 0, r[1] > r[0] + 1 else {
                throw STEMError.invalidParameter(name: "ellipse-ring", value: v, expected: "INNER,OUTER with OUTER > INNER + 1 px")
            }
            o.ellipseRing = (r[0], r[1])
        }
        if let v = try ellipse ?? cfg.string("ellipse") {
            let e = try Self.floats(v, count: 5, option: "ellipse")
            guard e[2] > 0, e[3] > 0 else { throw STEMError.invalidParameter(name: "ellipse", value: v, expected: "positive semi-axes") }
            o.ellipse = EllipticalDistortion(centreX: Double(e[0]), centreY: Double(e[1]), semiMajor: Double(max(e[2], e[3])),
                                             semiMinor: Double(min(e[2], e[3])), angle: Double(e[4]) + (e[3] > e[2] ? Double.pi / 2 : 0))
        }
        o.chunkBudgetBytes = max(1, try chunkMb ?? cfg.int("chunk-mb") ?? 16) << 20
        o.csvPath = try csv ?? cfg.string("csv")
        return o
    }

    static func floats(_ text: String, count: Int, option: String) throws -> [Float] {
        let v = text.split(separator: ",").map { Float($0.trimmingCharacters(in: .whitespaces)) }
        guard v.count == count, v.allSatisfy({ $0 != nil && $0!.isFinite }) else {
            throw STEMError.invalidParameter(name: option, value: text, expected: "\(count) comma-separated numbers")
        }
        return v.map { $0! }
    }

    static func readMask(_ spec: String, detector: DetectorShape) throws -> PixelMask {
        var path = spec, dataset: String? = nil
        if let colon = spec.lastIndex(of: ":"), !FileManager.default.fileExists(atPath: spec) {
            path = String(spec[..<colon]); dataset = String(spec[spec.index(after: colon)...])
        }
        guard FileManager.default.fileExists(atPath: path) else { throw STEMError.fileNotFound(path: path) }
        let file = try H5File.open(path)
        let name = dataset ?? file.datasetPaths().first ?? "mask"
        let values = try file.dataset(name).readAll(as: Float.self)
        return try PixelMask(shape: detector, isBad: values.map { $0 != 0 })
    }
}

/// A TOML configuration file: typed look-ups that name the key and the type expected; unknown keys are
/// errors (a typo must not be silently ignored).
struct ConfigFile {
    let path: String
    let table: TOMLTable?

    init(path: String?, allowedKeys: Set<String>) throws {
        self.path = path ?? ""
        guard let path else { table = nil; return }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw STEMError.fileNotFound(path: path) }
        do { table = try TOMLTable(string: text) } catch {
            throw STEMError.badFormat(path: path, location: "TOML", expected: "a valid TOML file", found: "\(error)")
        }
        for key in table!.keys where !allowedKeys.contains(key) {
            throw STEMError.badFormat(path: path, location: "key '\(key)'", expected: "one of: \(allowedKeys.sorted().joined(separator: ", "))",
                                      found: "an unknown key")
        }
    }

    private func bad(_ key: String, _ type: String) -> STEMError {
        .badFormat(path: path, location: "key '\(key)'", expected: type, found: "another type")
    }
    func bool(_ key: String) throws -> Bool? {
        guard let v = table?[key] else { return nil }
        guard let b = v.bool else { throw bad(key, "true or false") }
        return b
    }
    func int(_ key: String) throws -> Int? {
        guard let v = table?[key] else { return nil }
        guard let i = v.int else { throw bad(key, "an integer") }
        return i
    }
    func float(_ key: String) throws -> Float? {
        guard let v = table?[key] else { return nil }
        if let d = v.double { return Float(d) }
        if let i = v.int { return Float(i) }
        throw bad(key, "a number")
    }
    func string(_ key: String) throws -> String? {
        guard let v = table?[key] else { return nil }
        guard let s = v.string else { throw bad(key, "a string") }
        return s
    }
    func strings(_ key: String) throws -> [String]? {
        guard let v = table?[key] else { return nil }
        if let s = v.string { return [s] }
        guard let a = v.array else { throw bad(key, "a string or an array of strings") }
        return try a.map { guard let s = $0.string else { throw bad(key, "strings") }; return s }
    }
}
