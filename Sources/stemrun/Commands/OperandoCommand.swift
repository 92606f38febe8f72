import ArgumentParser
import Distributed
import Foundation
import HDF5
import Operando
import STEMCore

/// `stemrun operando`: inactivity maps of battery electrodes from operando diffraction (arXiv:2503.06113).
struct OperandoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "operando",
        abstract: "Operando X-ray diffraction of graphite electrodes: integration, stages, dead and slow particles.",
        subcommands: [OperandoSimulate.self, OperandoIntegrate.self, OperandoAnalyse.self])
}

/// Integration options shared by `integrate` and `analyse`.
struct OperandoIntegrationOptions: ParsableArguments {
    @Option(help: "pyFAI PONI calibration file (default: geometry stored with the patterns).")
    var poni: String?

    @Option(help: "Radial unit: q_A^-1, q_nm^-1, 2th_deg or d_A.")
    var unit: String = "q_A^-1"

    @Option(help: "Number of radial bins (default: automatic, no empty bin in the fit window).")
    var bins: Int?

    @Option(help: "Radial range LOW:HIGH in the unit (default: the fit window widened by 0.05 A).")
    var radialRange: String?

    @Option(help: "Pixel splitting: none (pyFAI 'no') or bbox.")
    var split: String = "none"

    @Flag(help: "Do not divide by the solid angle (pyFAI's integrate1d corrects it by default).")
    var noSolidAngle = false

    @Option(help: "Polarisation factor in [-1, 1] (default: no correction).")
    var polarization: Double?

    @Option(help: "Mask: raw bytes (Ky*Kx, non-zero = masked) or an HDF5 file with a dataset 'mask'.")
    var mask: String?

    @Option(help: "Memory per rank for one chunk of patterns, in MiB.")
    var chunkMb: Int = 64

    func integration(detector: DetectorShape?) throws -> OperandoIntegration {
        var o = OperandoIntegration()
        guard let u = RadialUnit(rawValue: unit) else {
            throw STEMError.invalidParameter(name: "--unit", value: unit, expected: RadialUnit.allCases.map(\.rawValue).joined(separator: ", "))
        }
        o.options.unit = u
        guard let s = AzimuthalIntegrator.PixelSplitting(rawValue: split) else {
            throw STEMError.invalidParameter(name: "--split", value: split, expected: "none or bbox")
        }
        o.options.splitting = s
        o.options.solidAngle = !noSolidAngle
        o.options.polarizationFactor = polarization
        if let r = radialRange {
            let v = r.split(separator: ":").compactMap { Double($0) }
            guard v.count == 2, v[0] < v[1] else {
                throw STEMError.invalidParameter(name: "--radial-range", value: r, expected: "LOW:HIGH with LOW < HIGH")
            }
            o.options.range = v[0] ... v[1]
        }
        if let b = bins {
            guard b >= 1 else { throw STEMError.invalidParameter(name: "--bins", value: "\(b)", expected: ">= 1") }
            o.bins = b
            o.options.bins = b
        }
        if let p = poni { o.geometry = try DetectorGeometry.readPONI(path: p, detector: detector) }
        if let m = mask, let det = detector {
            if m.hasSuffix(".h5") || m.hasSuffix(".hdf5") || m.hasSuffix(".nxs") {
                let f = try H5File.open(m)
                let flags = try f.dataset("mask").readAll(as: UInt8.self)
                o.mask = try DetectorMask(detector: det, flags: flags)
            } else {
                guard let data = FileManager.default.contents(atPath: m) else { throw STEMError.fileNotFound(path: m) }
                o.mask = try DetectorMask(detector: det, flags: [UInt8](data))
            }
        }
        o.chunkBudgetBytes = max(1, chunkMb) << 20
        return o
    }
}

struct OperandoSimulate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Write a synthetic operando experiment (fast and slow series, electrochemistry, ground truth).")

    @Option(name: .shortAndLong, help: "Output folder.")
    var output: String = "operando-sim"

    @Option(help: "Scan shape ROWSxCOLUMNS (depth along columns, current collector at column 0).")
    var scanShape: String = "20x36"

    @Option(help: "Time steps per series.")
    var steps: Int = 10

    @Option(help: "Random seed.")
    var seed: UInt64 = 1

    @Option(help: "Noise scale (sigma = scale * sqrt(counts)); 0 = noiseless.")
    var noise: Double = 1

    @Flag(help: "Write 2D ring patterns instead of 1D profiles.")
    var patterns = false

    @Option(help: "Detector shape ROWSxCOLUMNS for --patterns.")
    var detectorShape: String = "32x64"

    func run() throws {
        try runOnWorld { comm in
            var p = OperandoSimulateJob.Parameters()
            let (r, c) = try InputOptions.parseShape(scanShape, option: "--scan-shape")
            p.simulation.scan = ScanGrid(rows: r, columns: c)
            p.simulation.steps = steps
            p.simulation.seed = seed
            p.simulation.noiseScale = noise
            if patterns {
                let (kr, kc) = try InputOptions.parseShape(detectorShape, option: "--detector-shape")
                p.geometry = OperandoSimulateJob.defaultGeometry(detector: DetectorShape(rows: kr, columns: kc))
            }
            let t0 = Date()
            try OperandoSimulateJob.run(parameters: p, comm: comm, folder: output)
            printOnRoot(comm, String(format: "operando simulate: %dx%d positions, %d steps x 2 rates (%@) in %.2f s on %d ranks -> %@/",
                                     r, c, steps, patterns ? "patterns" : "profiles", Date().timeIntervalSince(t0),
                                     comm.size, output))
        }
    }
}

struct OperandoIntegrate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "integrate",
        abstract: "Azimuthally integrate a pattern series into profiles (T, Ny, Nx, B) (run under mpirun).")

    @Argument(help: "Pattern series: one HDF5 file with a time axis, or one file per time step.")
    var inputs: [String]

    @Option(help: "Dataset path (default: operando/patterns or patterns).")
    var dataset: String?

    @Option(name: .shortAndLong, help: "Output HDF5 file.")
    var output: String = "profiles.h5"

    @OptionGroup var integration: OperandoIntegrationOptions

    func run() throws {
        try runOnWorld { comm in
            let source = try comm.collectively { try OperandoSeriesSource(paths: inputs, datasetPath: dataset, kind: .patterns) }
            let integ = try comm.collectively { try integration.integration(detector: source.detector) }
            var prov = Provenance(command: "operando integrate", inputPath: inputs.joined(separator: ","))
            prov.parameters = [("dataset", source.datasetPath)]
            let s = try OperandoIntegrateJob.run(source: source, integration: integ, comm: comm, outputPath: output,
                                                 provenance: prov)
            let perRank = Double(s.patterns) / Double(comm.size)
            printOnRoot(comm, String(format: "operando integrate: %d patterns -> %d bins on %d ranks in %.2f s; kernel %.0f patterns/s per rank (%.0f per CPU second)",
                                     s.patterns, s.bins, comm.size, s.seconds, perRank / max(s.kernelSeconds, 1e-9),
                                     perRank / max(s.kernelCPUSeconds, 1e-9)))
            printOnRoot(comm, "output: \(output)")
        }
    }
}

struct OperandoAnalyse: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "analyse",
        abstract: "Stages per position and time, inactive / dead / slow maps, fractions and depth profiles (run under mpirun).")

    @Option(help: "Fast-rate series: HDF5 file with a time axis, or comma-separated files, one per step.")
    var fast: String

    @Option(help: "Electrochemistry CSV of the fast series (time, voltage, current and/or soc; one row per step).")
    var fastEchem: String?

    @Option(help: "Slow-rate series (for dead versus slow).")
    var slow: String?

    @Option(help: "Electrochemistry CSV of the slow series.")
    var slowEchem: String?

    @Option(help: "Dataset path (default: operando/patterns, operando/profiles, patterns or profiles).")
    var dataset: String?

    @Option(name: .shortAndLong, help: "Output HDF5 file.")
    var output: String = "operando.h5"

    @Option(help: "Folder for PNG maps and SVG plots (none: no images).")
    var pngDir: String?

    @Option(help: "Segment judged: charge or discharge, optionally with its index, e.g. charge:0.")
    var segment: String = "charge:0"

    @Option(help: "Largest change of the peak position (A) of an inactive position.")
    var tolerance: Double = 0.02

    @Option(help: "Stage window boundaries in A: graphite|dilute|stage 2|stage 1, five values.")
    var stageWindows: String = "3.30,3.38,3.49,3.615,3.80"

    @Option(help: "Peak significance threshold (height / noise).")
    var significance: Double = 5

    @Option(help: "Pseudo-Voigt Lorentzian fraction (0 = Gaussian).")
    var eta: Double = 0.5

    @Option(help: "Depth axis: columns or rows.")
    var depthAxis: String = "columns"

    @Option(help: "Where the current collector is on the depth axis: start or end.")
    var collector: String = "start"

    @Option(help: "Slabs of the depth profile (at most one per scan line).")
    var depthBins: Int = 10

    @Flag(help: "Also store the integrated profiles.")
    var saveProfiles = false

    @OptionGroup var integration: OperandoIntegrationOptions

    func run() throws {
        try runOnWorld { comm in
            var p = OperandoAnalyseJob.Parameters()
            let parts = segment.split(separator: ":")
            guard let dir = ElectrochemistryTable.Direction(rawValue: String(parts.first ?? "")), dir != .rest,
                  parts.count <= 2, let index = parts.count == 2 ? Int(parts[1]) : 0 else {
                throw STEMError.invalidParameter(name: "--segment", value: segment, expected: "charge, discharge, charge:N or discharge:N")
            }
            p.segmentDirection = dir
            p.segmentIndex = index
            p.criteria.positionTolerance = tolerance
            p.fit.stageWindows = try StageWindows(boundaries: stageWindows.split(separator: ",").compactMap { Double($0) })
            p.fit.significance = significance
            p.fit.shape = PeakShape(eta: eta)
            guard let axis = DepthAxis.Axis(rawValue: depthAxis), collector == "start" || collector == "end" else {
                throw STEMError.invalidParameter(name: "--depth-axis/--collector", value: "\(depthAxis), \(collector)",
                                                 expected: "columns or rows; start or end")
            }
            p.depthAxis = DepthAxis(axis: axis, collectorAtStart: collector == "start")
            guard depthBins >= 1 else {
                throw STEMError.invalidParameter(name: "--depth-bins", value: "\(depthBins)", expected: ">= 1")
            }
            p.depthBins = depthBins
            p.saveProfiles = saveProfiles
            func series(_ name: String, _ files: String, _ echem: String?) throws -> OperandoAnalyseJob.Series {
                let src = try OperandoSeriesSource(paths: files.split(separator: ",").map(String.init), datasetPath: dataset)
                return OperandoAnalyseJob.Series(name: name, source: src, electrochemistry: try echem.map { try ElectrochemistryTable.read(path: $0) })
            }
            let fastSeries = try comm.collectively { try series("fast", fast, fastEchem) }
            let slowSeries = try comm.collectively { try slow.map { try series("slow", $0, slowEchem) } }
            p.integration = try comm.collectively { try integration.integration(detector: fastSeries.source.detector) }
            var prov = Provenance(command: "operando analyse", inputPath: ([fast] + (slow.map { [$0] } ?? [])).joined(separator: ";"))
            prov.parameters = [("fast_echem", fastEchem ?? ""), ("slow_echem", slowEchem ?? "")]
            let s = try OperandoAnalyseJob.run(fast: fastSeries, slow: slowSeries, parameters: p, comm: comm,
                                               outputPath: output, pngFolder: pngDir, provenance: prov)
            let fitSeconds = s.series.reduce(0) { $0 + $1.fitSeconds }
            let fitCPU = s.series.reduce(0) { $0 + $1.fitCPUSeconds }
            let perRank = Double(s.profilesFitted) / Double(comm.size)
            printOnRoot(comm, String(format: "operando analyse: %d positions, %d profiles fitted on %d ranks in %.2f s (fitting %.0f profiles/s per rank, %.0f per CPU second)",
                                     s.positions, s.profilesFitted, comm.size, s.seconds, perRank / max(fitSeconds, 1e-9),
                                     perRank / max(fitCPU, 1e-9)))
            for r in s.series {
                printOnRoot(comm, String(format: "  %@: steps %d ... %d judged, inactive %.1f%% of the electrode",
                                         r.name, r.segment.lowerBound, r.segment.upperBound, 100 * r.inactiveFraction))
            }
            if let f = s.combinedFractions {
                printOnRoot(comm, String(format: "  active %.1f%%, slow %.1f%%, dead %.1f%%, inconsistent %.1f%%",
                                         100 * f[1], 100 * f[2], 100 * f[3], 100 * f[4]))
            }
            printOnRoot(comm, "output: \(output)" + (pngDir.map { "; images in \($0)/" } ?? ""))
        }
    }
}
