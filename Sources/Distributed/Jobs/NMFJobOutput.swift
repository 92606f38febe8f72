import Factorization
import Foundation
import HDF5
import Imaging
import STEMCore

/// Writes the results of `stemrun nmf` into one HDF5 file (all ranks, each its own scan positions of the
/// per-position maps) and, on rank 0, the k-loss plot (SVG) and PNG maps.
///
/// Layout per preprocessing variant V (raw, mean3x3, registered), group /nmf/V:
///   ks, component_loss, frobenius_relative_error, iterations      per k of the sweep
///   weights (Ny, Nx, k), labels (Ny, Nx), overlap_partner (Ny, Nx; -1 = none), evolution (Ny, Nx; 0 ... 5),
///   overlap_labels (Ny, Nx; labels after the background rule)
///   components (k, Ky, Kx), representative_patterns (k, Ky, Kx)
///   iqa/pairwise_<metric> (k, k), iqa/pairwise_<metric>_column_means (k),
///   iqa/versus_raw_<metric> (k; NaN where no position has the label), label_counts (k)
/// attributes: knee, region, chosen_k, background, stability_ari, ground_truth_ari, metric directions.
enum NMFJobOutput {
    static func write(_ results: [NMFJob.VariantResult], output: OutputFile, scan: ScanGrid, detector: DetectorShape,
                      pngFolder: String?) throws {
        let comm = output.comm
        let range = ScanPartition(total: scan.count, parts: comm.size).range(of: comm.rank)
        let writer = ScanMapWriter(output: output, scan: scan, range: range)
        for v in results {
            let base = "nmf/" + v.name
            let k = v.chosenK
            try comm.collectively {
                let g = try output.root.createGroup(base)
                try g.setAttribute("chosen_k", Int32(k))
                try g.setAttribute("knee", Int32(v.knee ?? -1))
                try g.setAttribute("recommended_region", [Int32(v.region?.lowerBound ?? -1), Int32(v.region?.upperBound ?? -1)])
                try g.setAttribute("background_component", Int32(v.background ?? -1))
                try g.setAttribute("stability_ari", v.stability ?? -1)
                try g.setAttribute("ground_truth_ari", v.groundTruthARI ?? -2)
                try g.setAttribute("sweep_seconds", v.sweepSeconds)
                try g.setAttribute("metric_directions", "psnr, ssim: higher is better; mdsi, gmsd: lower is better")
                _ = try output.root.createGroup(base + "/iqa")
            }
            try writer.writeReplicated(base + "/ks", v.ks.map(Int32.init), shape: [v.ks.count])
            try writer.writeReplicated(base + "/component_loss", v.componentLoss, shape: [v.ks.count])
            try writer.writeReplicated(base + "/frobenius_relative_error", v.frobeniusRelativeError, shape: [v.ks.count])
            try writer.writeReplicated(base + "/iterations", v.iterations.map(Int32.init), shape: [v.ks.count])
            let mine = Array(v.weights[range.lowerBound * k ..< range.upperBound * k])
            try writer.write(base + "/weights", mine, trailing: [k])
            try writer.write(base + "/labels", Array(v.labels[range]))
            try writer.write(base + "/overlap_labels", Array(v.overlap.labels[range]))
            try writer.write(base + "/overlap_partner", Array(v.overlap.overlapPartner[range]))
            try writer.write(base + "/evolution", Array(v.overlap.evolution[range]),
                             attributes: [("thresholds", "level i = overlap up to t = 0.75, 0.80, 0.85, 0.90, 0.95 (i = 1 ... 5)")])
            try writer.writeReplicated(base + "/components", v.components, shape: [k, detector.rows, detector.columns])
            try writer.writeReplicated(base + "/representative_patterns", v.representative,
                                       shape: [k, detector.rows, detector.columns])
            try writer.writeReplicated(base + "/label_counts", v.labelCounts.map(Int32.init), shape: [k])
            for table in v.pairwise {
                try writer.writeReplicated(base + "/iqa/pairwise_" + table.metric.rawValue, table.values, shape: [k, k],
                                           attributes: [("higher_is_better", table.metric.higherIsBetter ? "yes" : "no")])
                try writer.writeReplicated(base + "/iqa/pairwise_" + table.metric.rawValue + "_column_means",
                                           table.columnMeans, shape: [k])
            }
            for row in v.versusRaw {
                try writer.writeReplicated(base + "/iqa/versus_raw_" + row.metric.rawValue, row.values.map { $0 ?? .nan },
                                           shape: [k], attributes: [("mean", String(row.mean)),
                                                                    ("higher_is_better", row.metric.higherIsBetter ? "yes" : "no")])
            }
        }
        try comm.collectively {
            guard comm.isRoot, let folder = pngFolder else { return }
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            for v in results { try images(v, folder: folder, scan: scan, detector: detector) }
        }
    }

    /// Rank 0: the k-loss plot with the knee and the recommended region, and the maps of the chosen k.
    static func images(_ v: NMFJob.VariantResult, folder: String, scan: ScanGrid, detector: DetectorShape) throws {
        let prefix = folder + "/" + v.name + "_"
        var plot = SVGPlot(title: "NMF K-component loss (\(v.name))", xLabel: "k", yLabel: "loss")
        let xs = v.ks.map(Double.init)
        if v.componentLoss.contains(where: { $0 > 0 }) {
            plot.series.append(.init(label: "K-component loss (KL, 128 x 128, mean |X - WH|)", x: xs, y: v.componentLoss))
        }
        let scale = (v.componentLoss.max() ?? 0) > 0 ? v.componentLoss.max()! / max(v.frobeniusRelativeError.max() ?? 1, 1e-30) : 1
        plot.series.append(.init(label: String(format: "Frobenius relative error (x %.3g)", scale), x: xs,
                                 y: v.frobeniusRelativeError.map { $0 * scale }, color: "#d62728"))
        if let knee = v.knee { plot.verticalLines.append((Double(knee), "knee k = \(knee)")) }
        if let r = v.region { plot.shadedRegions.append((Double(r.lowerBound), Double(r.upperBound), "recommended k")) }
        // (SVGPlot.write replaces an existing file only; write directly.)
        try plot.render().write(toFile: prefix + "k_loss.svg", atomically: true, encoding: .utf8)
        let s = MapRenderer.upscale(forWidth: scan.columns, height: scan.rows)
        try MapRenderer.labels(v.labels.map(Int.init), width: scan.columns, height: scan.rows, scale: s)
            .write(to: prefix + "labels.png")
        try MapRenderer.labels(v.overlap.overlapPartner.map { Int($0) + 1 }, width: scan.columns, height: scan.rows, scale: s)
            .write(to: prefix + "overlap.png")
        try MapRenderer.scalar(v.overlap.evolution.map(Float.init), width: scan.columns, height: scan.rows,
                               colormap: .magma, scale: s).write(to: prefix + "evolution.png")
        let k = v.chosenK
        for c in 0 ..< k {
            let map = (0 ..< scan.count).map { v.weights[$0 * k + c] }
            try MapRenderer.scalar(map, width: scan.columns, height: scan.rows, colormap: .viridis, scale: s)
                .write(to: prefix + "weight_\(c).png")
            let p = detector.pixelCount
            try MapRenderer.pattern(Array(v.representative[c * p ..< (c + 1) * p]), width: detector.columns,
                                    height: detector.rows).write(to: prefix + "pattern_\(c).png")
        }
    }
}
