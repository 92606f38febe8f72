import HDF5
import Imaging
import Operando
import STEMCore

/// The output half of `operando analyse`: per-position datasets (scan-leading, (Ny, Nx, T[, k])), exact
/// integer reductions behind fractions and depth profiles, and what rank 0 renders.
extension OperandoAnalyseJob {
    /// Where and how this rank writes.
    struct OutputContext {
        let writer: ScanMapWriter
        let comm: Communicator
        let scan: ScanGrid
        let range: Range<Int>
        let depthAxis: DepthAxis
        let slabs: Int
        /// Slab centres, 0 = current collector, 1 = separator.
        let depth: [Double]

        init(writer: ScanMapWriter, comm: Communicator, scan: ScanGrid, range: Range<Int>, depthAxis: DepthAxis,
             depthBins: Int?) {
            self.writer = writer
            self.comm = comm
            self.scan = scan
            self.range = range
            self.depthAxis = depthAxis
            let n = DepthProfile.slabCount(bins: depthBins, scan: scan, axis: depthAxis)
            slabs = n
            depth = (0 ..< n).map { (Double($0) + 0.5) / Double(n) }
        }

        /// Depth profile of this rank's labels summed over all ranks (integer counts: rank-count independent).
        func depthProfile(_ labels: [UInt8], classes: Int) -> DepthProfile {
            let lines = depthAxis.lines(scan)
            var counts = [Int](repeating: 0, count: slabs * classes)
            for (o, l) in labels.enumerated() where Int(l) < classes {
                let slab = depthAxis.line(of: range.lowerBound + o, in: scan) * slabs / lines
                counts[slab * classes + Int(l)] += 1
            }
            comm.allreduce(&counts, .sum)
            return DepthProfile(depth: depth, counts: (0 ..< slabs).map { Array(counts[$0 * classes ..< ($0 + 1) * classes]) })
        }
    }

    /// A label map rank 0 renders with a fixed palette (index = label).
    struct LabelImage {
        var name: String
        var labels: [UInt8]
        var palette: [(Float, Float, Float)]
    }

    static let activityPalette: [(Float, Float, Float)] = [(0, 0, 0), (0.17, 0.63, 0.17), (0.84, 0.15, 0.16)]
    static let deadSlowPalette: [(Float, Float, Float)] = [(0, 0, 0), (0.17, 0.63, 0.17), (1.0, 0.5, 0.05),
                                                           (0.84, 0.15, 0.16), (0.58, 0.4, 0.74)]

    /// Writes one series' results; returns its summary and, on rank 0, its activity map and plots.
    static func writeSeries(_ s: Series, _ r: LocalResult, _ ctx: OutputContext) throws
        -> (SeriesSummary, LabelImage?, [(String, String)]) {
        let writer = ctx.writer, comm = ctx.comm
        let t = s.source.steps, n = ctx.range.count
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
        let labels = r.labels.map(\.rawValue)
        try writer.write(g + "activity", labels,
                         attributes: [("labels", "0 no signal, 1 active, 2 inactive"),
                                      ("segment", "steps \(r.segment.lowerBound) ... \(r.segment.upperBound)")])

        // Stage fractions over time: fixed-point integer sums of the phase fractions of positions with a peak.
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
        let profile = ctx.depthProfile(labels, classes: 3)
        let inactiveByDepth = profile.fraction(of: PixelActivity.inactive.rawValue)
        let active = profile.counts.reduce(0) { $0 + $1[1] }, inactive = profile.counts.reduce(0) { $0 + $1[2] }
        let inactiveFraction = active + inactive > 0 ? Double(inactive) / Double(active + inactive) : 0
        try writer.writeReplicated(g + "stage_fractions", stageFractions, shape: [t, 4],
                                   attributes: [("order", "graphite, dilute/stage 3-4, stage 2, stage 1"),
                                                ("meaning", "mean phase fractions over positions with a peak")])
        try writer.writeReplicated(g + "inactive_by_depth", inactiveByDepth, shape: [ctx.slabs],
                                   attributes: [("depth", "slab centres in operando/depth")])
        if let table = s.electrochemistry {
            try writer.writeReplicated(g + "time", table.time, shape: [t])
            if let v = table.voltage { try writer.writeReplicated(g + "voltage", v, shape: [t]) }
        }
        try comm.collectively {
            try writer.output.root.group("operando/\(s.name)").setAttribute("inactive_fraction", inactiveFraction)
        }
        let summary = SeriesSummary(name: s.name, steps: t, segment: r.segment, inactiveFraction: inactiveFraction,
                                    integrationSeconds: comm.allreduce(r.integrationSeconds, .max),
                                    fitSeconds: comm.allreduce(r.fitSeconds, .max),
                                    fitCPUSeconds: comm.allreduce(r.fitCPUSeconds, .max))
        guard let full = comm.gatherv(labels, root: 0) else { return (summary, nil, []) }
        var depthPlot = SVGPlot(title: "Inactive fraction against depth (\(s.name) series)",
                                xLabel: "depth (0 = current collector, 1 = separator)", yLabel: "fraction of electrode")
        depthPlot.series = [.init(label: "inactive", x: ctx.depth, y: inactiveByDepth, color: "#d62728")]
        let plots = [("stage_fractions_\(s.name).svg",
                      stageFractionPlot(name: s.name, fractions: stageFractions, steps: t, table: s.electrochemistry,
                                        segment: r.segment)),
                     ("inactive_depth_\(s.name).svg", depthPlot.render())]
        return (summary, LabelImage(name: "activity_\(s.name)", labels: full, palette: activityPalette), plots)
    }

    /// Dead / slow / active from the fast and slow classifications: map, fractions, profile against depth.
    static func writeDeadAndSlow(fast: [PixelActivity], slow: [PixelActivity], _ ctx: OutputContext) throws
        -> ([Double], LabelImage?, (String, String)?) {
        let writer = ctx.writer
        let combined = try ParticleActivity.combine(fast: fast, slow: slow).map(\.rawValue)
        try writer.write("operando/activity", combined,
                         attributes: [("labels", "0 no signal, 1 active, 2 slow, 3 dead, 4 inconsistent")])
        let k = ParticleActivity.allCases.count
        let profile = ctx.depthProfile(combined, classes: k)
        let totals = (0 ..< k).map { c in profile.counts.reduce(0) { $0 + $1[c] } }
        let material = totals.dropFirst().reduce(0, +)
        let fractions = totals.enumerated().map { c, v in c == 0 || material == 0 ? 0 : Double(v) / Double(material) }
        try writer.writeReplicated("operando/fractions", fractions, shape: [k],
                                   attributes: [("order", "no signal (0), active, slow, dead, inconsistent")])
        let perClass = (0 ..< k).map { profile.fraction(of: UInt8($0)) }
        let byDepth = (0 ..< ctx.slabs).flatMap { b in (0 ..< k).map { perClass[$0][b] } }
        try writer.writeReplicated("operando/activity_by_depth", byDepth, shape: [ctx.slabs, k],
                                   attributes: [("order", "no signal, active, slow, dead, inconsistent")])
        guard let full = ctx.comm.gatherv(combined, root: 0) else { return (fractions, nil, nil) }
        var plot = SVGPlot(title: "Dead and slow graphite against depth", xLabel: "depth (0 = current collector, 1 = separator)",
                           yLabel: "fraction of electrode")
        plot.series = [.init(label: "dead", x: ctx.depth, y: perClass[Int(ParticleActivity.dead.rawValue)], color: "#d62728"),
                       .init(label: "slow", x: ctx.depth, y: perClass[Int(ParticleActivity.slow.rawValue)], color: "#ff7f0e"),
                       .init(label: "active", x: ctx.depth, y: perClass[Int(ParticleActivity.active.rawValue)], color: "#2ca02c")]
        return (fractions, LabelImage(name: "activity", labels: full, palette: deadSlowPalette), ("activity_depth.svg", plot.render()))
    }
}
