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

        // Per-position outputs, scan-leading (Ny, Nx, T[, 4]).
        var summaries: [SeriesSummary] = []
        let nb = DepthProfile.slabCount(bins: p.depthBins, scan: scan, axis: p.depthAxis)
        let lines = p.depthAxis.lines(scan)
        let depth = (0 ..< nb).map { (Double($0) + 0.5) / Double(nb) }
        func slab(_ global: Int) -> Int { p.depthAxis.line(of: global, in: scan) * nb / lines }
        var images: [(String, [UInt8], [(Float, Float, Float)])] = []
        var plots: [(String, String)] = []
        for (s, r) in zip(all, results) {
            let t = s.source.steps, n = range.count
            var stage = [UInt8](repeating: 0, count: n * t), d = [Float](repeating: 0, count: n * t)
            var fr = [Float](repeating: 0, count: n * t * 4)
            let slots = PhaseSeries.peakSlots, fields = PhaseSeries.peakFields
            var peakFields = [[Float]](repeating: [Float](repeating: 0, count: n * t * slots), count: fields)
            for i in 0 ..< n {
                for k in 0 ..< t {
                    stage[i * t + k] = r.series.stage[k * n + i]
                    d[i * t + k] = r.series.dominantD[k * n + i]
                    for c in 0 ..< 4 { fr[(i * t + k) * 4 + c] = r.series.phaseFractions[(k * n + i) * 4 + c] }
                    for j in 0 ..< slots {
                        for f in 0 ..< fields {
                            peakFields[f][(i * t + k) * slots + j] = r.series.peaks[((k * n + i) * slots + j) * fields + f]
                        }
                    }
                }
            }
            let g = "operando/\(s.name)/"
            try writer.write(g + "stage", stage, trailing: [t],
                             attributes: [("labels", "0 none, 1 graphite, 2 dilute/stage 3-4, 3 stage 2 LiC12, 4 stage 1 LiC6")])
            try writer.write(g + "d_spacing", d, trailing: [t], attributes: [("unit", "angstrom (0 = no peak)")])
            try writer.write(g + "phase_fractions", fr, trailing: [t, 4],
                             attributes: [("order", "graphite, dilute/stage 3-4, stage 2, stage 1")])
            for (f, (name, unit)) in [("d_spacing", "angstrom"), ("height", "profile intensity"),
                                      ("fwhm", "angstrom (in d)"), ("area", "profile intensity x radial unit")].enumerated() {
                try writer.write(g + "peaks/" + name, peakFields[f], trailing: [t, slots],
                                 attributes: [("unit", unit), ("slots", "up to \(slots) peaks sorted by d; 0 = no peak")])
            }
            try writer.write(g + "activity", r.labels.map(\.rawValue),
                             attributes: [("labels", "0 no signal, 1 active, 2 inactive"),
                                          ("segment", "steps \(r.segment.lowerBound) ... \(r.segment.upperBound)")])
            // Stage fractions over time (exact fixed-point sums) and inactivity against depth.
            var sums = [Int](repeating: 0, count: t * 5)
            for k in 0 ..< t {
                for i in 0 ..< n where r.series.stage[k * n + i] != 0 {
                    sums[k * 5 + 4] += 1
                    for c in 0 ..< 4 {
                        sums[k * 5 + c] += Int((Double(r.series.phaseFractions[(k * n + i) * 4 + c]) * fractionScale).rounded())
                    }
                }
            }
            comm.allreduce(&sums, .sum)
            var stageFractions = [Double](repeating: 0, count: t * 4)
            for k in 0 ..< t where sums[k * 5 + 4] > 0 {
                for c in 0 ..< 4 { stageFractions[k * 4 + c] = Double(sums[k * 5 + c]) / fractionScale / Double(sums[k * 5 + 4]) }
            }
            var counts = [Int](repeating: 0, count: nb * 3)
            for (o, l) in r.labels.enumerated() { counts[slab(range.lowerBound + o) * 3 + Int(l.rawValue)] += 1 }
            comm.allreduce(&counts, .sum)
            let profile = DepthProfile(depth: depth, counts: (0 ..< nb).map { Array(counts[$0 * 3 ..< $0 * 3 + 3]) })
            let inactiveByDepth = profile.fraction(of: PixelActivity.inactive.rawValue)
            let totals = (0 ..< 3).map { c in (0 ..< nb).reduce(0) { $0 + counts[$1 * 3 + c] } }
            let inactiveFraction = totals[1] + totals[2] > 0 ? Double(totals[2]) / Double(totals[1] + totals[2]) : 0
            try writer.writeReplicated(g + "stage_fractions", stageFractions, shape: [t, 4],
                                       attributes: [("order", "graphite, dilute/stage 3-4, stage 2, stage 1"),
                                                    ("meaning", "mean phase fractions over positions with a peak")])
            try writer.writeReplicated(g + "inactive_by_depth", inactiveByDepth, shape: [nb],
                                       attributes: [("depth", "slab centres in operando/depth")])
            if let table = s.electrochemistry {
                try writer.writeReplicated(g + "time", table.time, shape: [t])
                if let v = table.voltage { try writer.writeReplicated(g + "voltage", v, shape: [t]) }
            }
            try output.comm.collectively {
                try output.root.group("operando/\(s.name)").setAttribute("inactive_fraction", inactiveFraction)
            }
            summaries.append(SeriesSummary(name: s.name, steps: t, segment: r.segment, inactiveFraction: inactiveFraction,
                                           integrationSeconds: comm.allreduce(r.integrationSeconds, .max),
                                           fitSeconds: comm.allreduce(r.fitSeconds, .max),
                                           fitCPUSeconds: comm.allreduce(r.fitCPUSeconds, .max)))
            if let full = comm.gatherv(r.labels.map(\.rawValue), root: 0) {
                images.append(("activity_\(s.name)", full, [(0, 0, 0), (0.17, 0.63, 0.17), (0.84, 0.15, 0.16)]))
                plots.append(("stage_fractions_\(s.name).svg",
                              stageFractionPlot(name: s.name, fractions: stageFractions, steps: t, table: s.electrochemistry,
                                                segment: r.segment)))
                var dp = SVGPlot(title: "Inactive fraction against depth (\(s.name) series)",
                                 xLabel: "depth (0 = current collector, 1 = separator)", yLabel: "fraction of electrode")
                dp.series = [.init(label: "inactive", x: depth, y: inactiveByDepth, color: "#d62728")]
                plots.append(("inactive_depth_\(s.name).svg", dp.render()))
            }
        }
        try writer.writeReplicated("operando/depth", depth, shape: [nb],
                                   attributes: [("meaning", "slab centres, 0 = current collector, 1 = separator")])

        // Dead / slow from the two rates.
        var combinedFractions: [Double]?
        if results.count == 2 {
            let combined = try ParticleActivity.combine(fast: results[0].labels, slow: results[1].labels)
            try writer.write("operando/activity", combined.map(\.rawValue),
                             attributes: [("labels", "0 no signal, 1 active, 2 slow, 3 dead, 4 inconsistent")])
            let k = ParticleActivity.allCases.count
            var counts = [Int](repeating: 0, count: nb * k)
            for (o, l) in combined.enumerated() { counts[slab(range.lowerBound + o) * k + Int(l.rawValue)] += 1 }
            comm.allreduce(&counts, .sum)
            let profile = DepthProfile(depth: depth, counts: (0 ..< nb).map { Array(counts[$0 * k ..< ($0 + 1) * k]) })
            var totals = [Int](repeating: 0, count: k)
            for b in 0 ..< nb { for c in 0 ..< k { totals[c] += counts[b * k + c] } }
            let material = totals.dropFirst().reduce(0, +)
            let fractions = totals.enumerated().map { c, v in c == 0 || material == 0 ? 0 : Double(v) / Double(material) }
            combinedFractions = fractions
            try writer.writeReplicated("operando/fractions", fractions, shape: [k],
                                       attributes: [("order", "no signal (0), active, slow, dead, inconsistent")])
            var byDepth: [Double] = []
            for b in 0 ..< nb { for c in 0 ..< k { byDepth.append(profile.fraction(of: UInt8(c))[b]) } }
            try writer.writeReplicated("operando/activity_by_depth", byDepth, shape: [nb, k],
                                       attributes: [("order", "no signal, active, slow, dead, inconsistent")])
            if let full = comm.gatherv(combined.map(\.rawValue), root: 0) {
                images.append(("activity", full, [(0, 0, 0), (0.17, 0.63, 0.17), (1.0, 0.5, 0.05), (0.84, 0.15, 0.16), (0.58, 0.4, 0.74)]))
                var dp = SVGPlot(title: "Dead and slow graphite against depth", xLabel: "depth (0 = current collector, 1 = separator)",
                                 yLabel: "fraction of electrode")
                dp.series = [.init(label: "dead", x: depth, y: profile.fraction(of: ParticleActivity.dead.rawValue), color: "#d62728"),
                             .init(label: "slow", x: depth, y: profile.fraction(of: ParticleActivity.slow.rawValue), color: "#ff7f0e"),
                             .init(label: "active", x: depth, y: profile.fraction(of: ParticleActivity.active.rawValue), color: "#2ca02c")]
                plots.append(("activity_depth.svg", dp.render()))
            }
        }
        try output.comm.collectively {
            guard comm.isRoot, let folder = pngFolder else { return }
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            let s = MapRenderer.upscale(forWidth: scan.columns, height: scan.rows)
            for (name, labels, palette) in images {
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
