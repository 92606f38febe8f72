import Foundation
import HDF5
import Imaging
import Operando
import STEMCore

/// `stemrun operando analyse` (arXiv:2503.06113, methods notes §4): for every scan position and time step,
/// integrate the pattern (when the series holds patterns), fit the graphite (00l) peaks, assign the stage;
/// then classify every position as active or inactive over the chosen charge or discharge of each series,
/// dead / slow from a fast and a slow series, with fractions, depth profiles and stage fractions over time.
/// Scan positions are distributed over the ranks; the per-position results go through parallel HDF5 into
/// one file; the sums behind fractions and profiles are exact integer reductions, so the output does not
/// depend on the rank count.
public enum OperandoAnalyseJob {
    /// One operando series and the part of it to judge.
    public struct Series {
        public var name: String
        public var source: OperandoSeriesSource
        public var electrochemistry: ElectrochemistryTable?
        public init(name: String, source: OperandoSeriesSource, electrochemistry: ElectrochemistryTable?) {
            self.name = name
            self.source = source
            self.electrochemistry = electrochemistry
        }
    }

    public struct Parameters: Sendable {
        public var integration = OperandoIntegration()
        public var fit = GraphitePeakFitter.Options()
        public var criteria = InactivityCriteria()
        /// Segment judged in each series: its `segmentIndex`-th run of `segmentDirection` (whole series
        /// without electrochemistry).
        public var segmentDirection = ElectrochemistryTable.Direction.charge
        public var segmentIndex = 0
        public var depthAxis = DepthAxis()
        public var depthBins: Int?
        /// Also store the integrated profiles (T, Ny, Nx, B) per series.
        public var saveProfiles = false
        public init() {}
    }

    public struct SeriesSummary: Sendable {
        public var name: String
        public var steps: Int
        public var segment: ClosedRange<Int>
        public var inactiveFraction: Double
        /// Seconds in integration and in peak fitting (slowest rank).
        public var integrationSeconds: Double
        public var fitSeconds: Double
        /// CPU seconds in peak fitting (slowest rank).
        public var fitCPUSeconds: Double
    }

    public struct Summary: Sendable {
        public var positions: Int
        public var series: [SeriesSummary]
        /// Fractions among positions with signal, by `ParticleActivity` raw value (with a slow series).
        public var combinedFractions: [Double]?
        public var seconds: Double
        public var profilesFitted: Int
    }

    /// Fixed-point scale of phase-fraction sums (exact integer reductions over ranks).
    static let fractionScale = 1_000_000.0

    struct LocalResult {
        var series: PhaseSeries  // over this rank's positions (1 x n scan)
        var segment: ClosedRange<Int>
        var labels: [PixelActivity]
        var integrationSeconds = 0.0
        var fitSeconds = 0.0
        var fitCPUSeconds = 0.0
    }

    static func segment(of s: Series, _ p: Parameters) throws -> ClosedRange<Int> {
        let steps = s.source.steps
        guard let table = s.electrochemistry else { return 0 ... steps - 1 }
        guard table.count == steps else {
            throw STEMError.shapeMismatch(path: "\(s.name) electrochemistry", field: "rows",
                                          expected: "\(steps) rows, one per time step of \(s.source.paths[0])",
                                          found: "\(table.count)")
        }
        return try table.segment(p.segmentDirection, index: p.segmentIndex).steps
    }

    /// Fits every profile of this rank's positions at every step of a series.
    static func identify(_ s: Series, range: Range<Int>, parameters p: Parameters, comm: Communicator,
                         profileWriter: ((Int, Range<Int>, UnsafeBufferPointer<Float>) throws -> Void)?,
                         integrator: AzimuthalIntegrator?, axis: RadialAxis, wavelength: Double) throws -> LocalResult {
        let src = s.source
        let seg = try segment(of: s, p)
        let fitter = try GraphitePeakFitter(axis: axis, wavelength: wavelength, options: p.fit)
        var local = PhaseSeries(scan: ScanGrid(rows: 1, columns: range.count), steps: src.steps)
        let per = src.valuesPerPosition
        let chunk = max(1, p.integration.chunkBudgetBytes / max(1, per * 4))
        var raw = [Float](repeating: 0, count: min(chunk, max(range.count, 1)) * per)
        var profiles = integrator == nil ? [] : [Float](repeating: 0, count: min(chunk, max(range.count, 1)) * axis.count)
        var result = LocalResult(series: local, segment: seg, labels: [])
        let progress = ProgressLine(label: "operando \(s.name)", total: range.count * src.steps, rank: comm.rank)
        for step in 0 ..< src.steps {
            for part in ScanPartition.chunks(of: range, size: chunk) {
                try raw.withUnsafeMutableBufferPointer { try src.read(step: step, positions: part, into: $0) }
                if let ai = integrator {
                    let t0 = Date()
                    raw.withUnsafeBufferPointer { r in
                        profiles.withUnsafeMutableBufferPointer { ai.integrate(patterns: r, count: part.count, into: $0) }
                    }
                    result.integrationSeconds += Date().timeIntervalSince(t0)
                    try profiles.withUnsafeBufferPointer {
                        try src.checkFinite($0, positions: part, bins: axis.count, step: step)
                    }
                }
                let t1 = Date(), c1 = threadCPUSeconds()
                let view = integrator == nil ? raw : profiles
                try view.withUnsafeBufferPointer { all in
                    for (o, _) in part.enumerated() {
                        let fit = fitter.fit(UnsafeBufferPointer(rebasing: all[o * axis.count ..< (o + 1) * axis.count]))
                        local.record(step: step, index: part.lowerBound - range.lowerBound + o, fit: fit)
                    }
                    result.fitSeconds += Date().timeIntervalSince(t1)
                    result.fitCPUSeconds += threadCPUSeconds() - c1
                    try profileWriter?(step, part, all)
                }
                progress.update(step * range.count + part.upperBound - range.lowerBound)
            }
        }
        result.series = local
        if range.isEmpty {
            result.labels = []
        } else {
            result.labels = try p.criteria.classify(local, segment: seg)
        }
        return result
    }

    public static func run(fast: Series, slow: Series?, parameters p: Parameters, comm: Communicator,
                           outputPath: String, pngFolder: String?, provenance: Provenance) throws -> Summary {
        let start = Date()
        let scan = fast.source.scan
        if let s = slow, s.source.scan != scan {
            throw STEMError.shapeMismatch(path: s.source.paths[0], field: "scan", expected: "\(scan) like the fast series",
                                          found: "\(s.source.scan)")
        }
        let range = ScanPartition(total: scan.count, parts: comm.size).range(of: comm.rank)
        let all = [fast] + (slow.map { [$0] } ?? [])
        // Axis (and integrator) per series.
        var setups: [(AzimuthalIntegrator?, RadialAxis, Double)] = []
        for s in all {
            try comm.collectively {
                if s.source.kind == .patterns {
                    let ai = try p.integration.integrator(for: s.source, window: p.fit.dRange)
                    setups.append((ai, ai.axis, ai.geometry.wavelength))
                } else {
                    guard let axis = s.source.axis else {
                        throw STEMError.missingField(path: s.source.paths[0], field: "\(s.source.datasetPath) radial axis attributes",
                                                     hint: "radial_unit, radial_lower, radial_width")
                    }
                    let wavelength = s.source.wavelengthAttribute ?? p.integration.geometry?.wavelength
                    guard wavelength != nil || axis.unit != .twoThetaDegree else {
                        throw STEMError.missingField(path: s.source.paths[0], field: "\(s.source.datasetPath) attribute wavelength",
                                                     hint: "profiles in 2th_deg need the wavelength (m) to give d-spacings")
                    }
                    setups.append((nil, axis, wavelength ?? 1e-10))  // q and d do not use it
                }
            }
        }
        var prov = provenance
        prov.parameters += [("segment", "\(p.segmentDirection.rawValue) \(p.segmentIndex)"),
                            ("position_tolerance_A", "\(p.criteria.positionTolerance)"),
                            ("stage_windows_A", p.fit.stageWindows.boundaries.map { "\($0)" }.joined(separator: ",")),
                            ("fit_window_A", "\(p.fit.dRange)"), ("peak_eta", "\(p.fit.shape.eta)"),
                            ("significance", "\(p.fit.significance)"),
                            ("depth_axis", "\(p.depthAxis.axis.rawValue), collector at \(p.depthAxis.collectorAtStart ? "start" : "end")")]
        for (s, setup) in zip(all, setups) {
            prov.parameters.append(("\(s.name)_radial_axis", "\(setup.1.unit.rawValue) \(setup.1.lower) ... \(setup.1.upper), \(setup.1.count) bins"))
        }
        let output = try OutputFile(path: outputPath, comm: comm, provenance: prov)
        defer { output.abandon() } // on an error: closed on every rank and removed; no-op after commit
        let writer = ScanMapWriter(output: output, scan: scan, range: range)
        var results: [LocalResult] = []
        for (s, setup) in zip(all, setups) {
            var profileDataset: TimeSeriesDataset?
            if p.saveProfiles {
                profileDataset = try TimeSeriesDataset(
                    output: output, path: "operando/\(s.name)/profiles", steps: s.source.steps, scan: scan,
                    trailing: [setup.1.count], attributes: [("kind", "profiles"), ("radial_unit", setup.1.unit.rawValue)],
                    numbers: [("radial_lower", setup.1.lower), ("radial_width", setup.1.width), ("wavelength", setup.2)])
            }
            let r = try comm.collectively {
                try identify(s, range: range, parameters: p, comm: comm,
                             profileWriter: profileDataset.map { ds in { step, part, values in
                                 try ds.write(step: step, positions: part, values: values) } },
                             integrator: setup.0, axis: setup.1, wavelength: setup.2)
            }
            results.append(r)
        }

        // Per-position outputs, depth profiles, fractions, images.
        let ctx = OutputContext(writer: writer, comm: comm, scan: scan, range: range, depthAxis: p.depthAxis,
                                depthBins: p.depthBins)
        var summaries: [SeriesSummary] = []
        var images: [LabelImage] = []
        var plots: [(String, String)] = []
        for (s, r) in zip(all, results) {
            let (summary, image, seriesPlots) = try writeSeries(s, r, ctx)
            summaries.append(summary)
            images += image.map { [$0] } ?? []
            plots += seriesPlots
        }
        try writer.writeReplicated("operando/depth", ctx.depth, shape: [ctx.slabs],
                                   attributes: [("meaning", "slab centres, 0 = current collector, 1 = separator")])
        var combinedFractions: [Double]?
        if results.count == 2 {
            let (fractions, image, plot) = try writeDeadAndSlow(fast: results[0].labels, slow: results[1].labels, ctx)
            combinedFractions = fractions
            if let image { images.append(image) }
            if let plot { plots.append(plot) }
        }
        try output.comm.collectively {
            guard comm.isRoot, let folder = pngFolder else { return }
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            let s = MapRenderer.upscale(forWidth: scan.columns, height: scan.rows)
            for (name, labels, palette) in images.map({ ($0.name, $0.labels, $0.palette) }) {
                let colors = labels.map { palette[min(Int($0), palette.count - 1)] }
                try MapRenderer.rgb(colors, width: scan.columns, height: scan.rows, scale: s).write(to: folder + "/\(name).png")
            }
            for (name, svg) in plots {
                try svg.write(toFile: folder + "/" + name, atomically: true, encoding: .utf8)
            }
        }
        try output.commit()
        let fitted = all.reduce(0) { $0 + $1.source.steps } * scan.count
        return Summary(positions: scan.count, series: summaries, combinedFractions: combinedFractions,
                       seconds: Date().timeIntervalSince(start), profilesFitted: fitted)
    }

    /// Two panels side by side: mean stage fractions over time, and the voltage curve.
    static func stageFractionPlot(name: String, fractions: [Double], steps t: Int, table: ElectrochemistryTable?,
                                  segment: ClosedRange<Int>) -> String {
        let x = table?.time ?? (0 ..< t).map(Double.init)
        let xLabel = table == nil ? "time step" : "time (s)"
        var left = SVGPlot(title: "Stage fractions (\(name) series)", xLabel: xLabel, yLabel: "mean phase fraction")
        let colors = ["#7f7f7f", "#1f77b4", "#2ca02c", "#d62728"]
        let labels = ["graphite", "dilute / stage 3-4", "stage 2 LiC12", "stage 1 LiC6"]
        left.series = (0 ..< 4).map { c in .init(label: labels[c], x: x, y: (0 ..< t).map { fractions[$0 * 4 + c] }, color: colors[c]) }
        left.shadedRegions = [(x[segment.lowerBound], x[segment.upperBound], "segment judged")]
        var right = SVGPlot(title: "Cell voltage (\(name) series)", xLabel: xLabel, yLabel: "voltage (V)")
        if let v = table?.voltage { right.series = [.init(label: "voltage", x: x, y: v, color: "#000000")] }
        let a = left.render(), b = right.render().replacingOccurrences(of: "<svg ", with: "<svg x=\"\(Int(left.width))\" ")
        return "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(left.width + right.width))\" height=\"\(Int(left.height))\">\n"
            + a + b + "</svg>\n"
    }
}
