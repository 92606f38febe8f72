import Factorization
import Foundation
import HDF5
import Imaging
import Readers
import STEMCore

/// The `[nmf]` stage: NMF clustering with the k-sweep and the knee of the K-component loss (`NMFJob`,
/// arXiv:2503.06699), committed as `stages/nmf.h5` with one group `/nmf/<preprocessing>` per variant.
public struct NMFStage: PipelineStage {
    public static let kind = StageKind(
        section: "nmf",
        summary: "NMF clustering with the k-sweep, K-component loss and knee, overlap maps and IQA tables.",
        version: 1,
        keys: [
            ConfigKey("k_range", "[min, max] integers", default: "[3, 20]", "The k values fitted (authors: 3-20)."),
            ConfigKey("k", "integer", default: "the knee", "Use this k instead of the knee."),
            ConfigKey("groups", "integer", default: "1", "Groups of ranks sharing the k-sweep."),
            ConfigKey("bin", "integer", default: "1", "Detector binning factor (area average)."),
            ConfigKey("solver", "string", default: "\"cd\"", "cd (HALS, the authors' choice) or mu (multiplicative updates)."),
            ConfigKey("max_iterations", "integer", default: "1500", "Iterations of the clustering fit."),
            ConfigKey("tolerance", "number", default: "1e-4", "Relative tolerance, checked every 10 iterations (0: all iterations)."),
            ConfigKey("stacked", "boolean", default: "true", "Fit a group's k values stacked in one wide product."),
            ConfigKey("component_loss", "boolean", default: "true", "Compute the K-component loss (else the knee uses the Frobenius error)."),
            ConfigKey("loss_iterations", "integer", default: "200", "Iterations of the K-component loss fits."),
            ConfigKey("background", "string or integer", default: "\"auto\"", "Background component: auto, none, or an index."),
            ConfigKey("mask_radius", "number", default: "0",
                      "Radius (binned detector pixels) of the central disc (direct beam) zeroed before the fit; 0: none."),
            ConfigKey("restarts", "integer", default: "2", "Random restarts of the chosen k for the stability score."),
            ConfigKey("seed", "integer", default: "1", "Random seed."),
            ConfigKey("preprocess", "array of strings", default: "[\"raw\"]",
                      "Preprocessings compared: raw, mean3x3, registered (the [register] stage's reconstructions; needs reconstruction = true there)."),
        ],
        make: { try NMFStage(section: $0) })

    public let name = "nmf"
    /// `registered` reads the reconstructions committed by the `[register]` stage.
    public var dependencies: [String] { preprocess.contains("registered") ? ["register"] : [] }
    public var parameters: NMFJob.Parameters
    public var preprocess: [String]

    init(section t: ConfigTable) throws {
        try t.rejectUnknownKeys(Self.kind.keys.map(\.name))
        func bad(_ key: String, _ value: String, _ expected: String) -> ConfigError {
            ConfigError.invalidValue(file: t.file, key: t.qualified(key), value: value, expected: expected)
        }
        func count(_ key: String, min: Int) throws -> Int? {
            guard let v = try t.integer(key) else { return nil }
            guard v >= min else { throw bad(key, "\(v)", "an integer >= \(min)") }
            return v
        }
        var p = NMFJob.Parameters()
        if let r = try t.numbers("k_range") {
            guard r.count == 2, r[0] >= 1, r[1] >= r[0], r.allSatisfy({ $0 == $0.rounded() }) else {
                throw bad("k_range", "\(r)", "[min, max] with 1 <= min <= max")
            }
            p.ks = Array(Int(r[0]) ... Int(r[1]))
        }
        p.chosenK = try count("k", min: 1)
        p.groups = try count("groups", min: 1) ?? p.groups
        p.bin = try count("bin", min: 1) ?? p.bin
        if let s = try t.string("solver") {
            guard let solver = NMFSolver(rawValue: s) else { throw bad("solver", s, "cd or mu") }
            p.solver = solver
        }
        p.maxIterations = try count("max_iterations", min: 1) ?? p.maxIterations
        if let tol = try t.number("tolerance") {
            guard tol >= 0, tol.isFinite else { throw bad("tolerance", "\(tol)", "a number >= 0") }
            p.tolerance = tol
        }
        p.stacked = try t.boolean("stacked") ?? p.stacked
        p.componentLoss = try t.boolean("component_loss") ?? p.componentLoss
        p.lossIterations = try count("loss_iterations", min: 1) ?? p.lossIterations
        switch t.values["background"] {
        case nil: break
        case let .string(s)? where s.lowercased() == "auto": p.background = .auto
        case let .string(s)? where s.lowercased() == "none": p.background = .none
        case let .integer(c)? where c >= 0: p.background = .component(c)
        case let v?: throw bad("background", "\(v)", "\"auto\", \"none\" or a component index")
        }
        if let r = try t.number("mask_radius") {
            guard r >= 0, r.isFinite else { throw bad("mask_radius", "\(r)", "a radius >= 0 in binned pixels") }
            p.maskCenterRadius = r
        }
        p.restarts = try count("restarts", min: 0) ?? p.restarts
        if let s = try count("seed", min: 0) { p.seed = UInt64(s) }
        parameters = p
        if case let .array(items)? = t.values["preprocess"] {
            preprocess = try items.map {
                guard case let .string(s) = $0, ["raw", "mean3x3", "registered"].contains(s) else {
                    throw bad("preprocess", "\($0)", "an array of \"raw\", \"mean3x3\" and \"registered\"")
                }
                return s
            }
            guard !preprocess.isEmpty, Set(preprocess).count == preprocess.count else {
                throw bad("preprocess", "\(preprocess)", "one or more distinct preprocessings")
            }
        } else if let v = t.values["preprocess"] {
            throw ConfigError.wrongType(file: t.file, key: t.qualified("preprocess"), expected: "an array of strings", found: v.typeName)
        } else {
            preprocess = ["raw"]
        }
    }

    public var parameterText: String {
        let p = parameters
        let bg: String
        switch p.background {
        case .auto: bg = "auto"
        case .none: bg = "none"
        case let .component(c): bg = "\(c)"
        }
        return "ks=\(p.ks.first ?? 0)-\(p.ks.last ?? 0) k=\(p.chosenK.map(String.init) ?? "knee") groups=\(p.groups) "
            + "bin=\(p.bin) solver=\(p.solver.rawValue) max_iterations=\(p.maxIterations) tolerance=\(p.tolerance) "
            + "stacked=\(p.stacked) component_loss=\(p.componentLoss) loss_iterations=\(p.lossIterations) "
            + "background=\(bg) mask_radius=\(p.maskCenterRadius) restarts=\(p.restarts) seed=\(p.seed) preprocess=\(preprocess.joined(separator: ","))"
    }

    public func estimatedBytes(scan: ScanGrid, detector: DetectorShape) -> Int {
        let k = parameters.ks.last ?? 20
        let pixels = detector.pixelCount / max(1, parameters.bin * parameters.bin)
        return preprocess.count * (scan.count * (16 + 4 * k) + 8 * pixels * 2 * k + 64 * k * k)
    }

    public func run(comm: Communicator, context: StageContext) throws {
        var p = parameters
        p.chunkBudgetBytes = context.chunkBudgetBytes
        p.groundTruthPath = context.source.path   // the registered variant reads another file
        let sources: [(String, PatternSource)] = try preprocess.map { name in
            guard name == "registered" else { return (name, context.source) }
            let file = context.upstreamFiles["register"] ?? context.stageFile("register")
            do {
                return (name, try HDF5PatternSource(path: file, datasetPath: "registration/reconstruction"))
            } catch {
                throw STEMError.missingField(path: file, field: "registration/reconstruction",
                                             hint: "[nmf] preprocess = \"registered\" needs reconstruction = true in [register]")
            }
        }
        _ = try NMFJob.run(sources: sources, parameters: p, comm: comm, outputPath: context.stageFile(name),
                           pngFolder: nil, provenance: context.provenance)
    }

    public func report(stageFile: String, context: ReportContext) throws -> [ReportBlock] {
        let f = try H5File.open(stageFile)
        let root = try f.group("nmf")
        var blocks: [ReportBlock] = []
        let scan = context.scan
        for variant in root.memberNames().sorted() {
            let base = "nmf/" + variant
            let g = try f.group(base)
            let ks = try f.dataset(base + "/ks").readAll(as: Int32.self).map(Double.init)
            let loss = try f.dataset(base + "/component_loss").readAll(as: Double.self)
            let frob = try f.dataset(base + "/frobenius_relative_error").readAll(as: Double.self)
            let iterations = try f.dataset(base + "/iterations").readAll(as: Int32.self)
            let knee = Int(g.numericAttribute("knee")?.first ?? -1)
            let region = g.numericAttribute("recommended_region") ?? []
            let k = Int(g.numericAttribute("chosen_k")?.first ?? 0)

            var plot = SVGPlot(title: "K-component loss (\(variant))", xLabel: "k", yLabel: "loss")
            if loss.contains(where: { $0 > 0 }) { plot.series.append(.init(label: "K-component loss", x: ks, y: loss)) }
            let scale = (loss.max() ?? 0) > 0 ? loss.max()! / max(frob.max() ?? 1, 1e-30) : 1
            plot.series.append(.init(label: String(format: "Frobenius rel. error (x %.3g)", scale), x: ks,
                                     y: frob.map { $0 * scale }, color: "#d62728"))
            if knee > 0 { plot.verticalLines.append((Double(knee), "knee k = \(knee)")) }
            if region.count == 2, region[0] > 0 { plot.shadedRegions.append((region[0], region[1], "recommended k")) }
            blocks.append(.svg(title: "k-loss curve (\(variant))", svg: plot.render(),
                               caption: knee > 0 ? "knee at k = \(knee); chosen k = \(k)" : "no knee found; chosen k = \(k)"))

            let labels = try f.dataset(base + "/labels").readAll(as: Int32.self).map(Int.init)
            let s = MapRenderer.upscale(forWidth: scan.columns, height: scan.rows)
            let counts = (try? f.dataset(base + "/label_counts").readAll(as: Int32.self)) ?? []
            let key = ColorKey.categories((0 ..< k).map { c in
                (label: "component \(c)" + (c < counts.count ? " (\(counts[c]))" : ""), rgb: CategoricalPalette.color(c))
            })
            blocks.append(.image(title: "Cluster labels, k = \(k) (\(variant))",
                                 png: try ReportImages.pngData(MapRenderer.labels(labels, width: scan.columns, height: scan.rows, scale: s),
                                                               scratch: context.scratchFolder),
                                 caption: "strongest component per position (positions per component)", key: key))
            let partner = try f.dataset(base + "/overlap_partner").readAll(as: Int32.self).map { Int($0) }
            blocks.append(.image(title: "Overlap map (\(variant))",
                                 png: try ReportImages.pngData(MapRenderer.labels(partner, width: scan.columns, height: scan.rows, scale: s),
                                                               scratch: context.scratchFolder),
                                 caption: "colour = second component overlapping the first (black: none)",
                                 key: .categories([(label: "none", rgb: CategoricalPalette.color(-1))]
                                                  + (0 ..< k).map { (label: "with \($0)", rgb: CategoricalPalette.color($0)) })))
            let evolution = try f.dataset(base + "/evolution").readAll(as: Float.self)
            blocks.append(try ReportImages.scalarMap(title: "Overlap evolution (\(variant))", evolution, scan: scan,
                                                     colormap: .magma, caption: "overlap level 1 ... 5 (t = 0.75 ... 0.95)",
                                                     scratch: context.scratchFolder))
            let weights = try f.dataset(base + "/weights").readAll(as: Float.self)
            let reps = try f.dataset(base + "/representative_patterns").readAll(as: Float.self)
            let shape = try f.dataset(base + "/representative_patterns").shape
            let det = DetectorShape(rows: shape.count == 3 ? shape[1] : context.detector.rows,
                                    columns: shape.count == 3 ? shape[2] : context.detector.columns)
            for c in 0 ..< k where weights.count == scan.count * k {
                let map = (0 ..< scan.count).map { weights[$0 * k + c] }
                blocks.append(try ReportImages.scalarMap(title: "Weight of component \(c) (\(variant))", map, scan: scan,
                                                         scratch: context.scratchFolder))
                if reps.count >= (c + 1) * det.pixelCount {
                    blocks.append(try ReportImages.pattern(title: "Representative pattern \(c) (\(variant))",
                                                           Array(reps[c * det.pixelCount ..< (c + 1) * det.pixelCount]),
                                                           detector: det, scratch: context.scratchFolder))
                }
            }
            blocks.append(.table(title: "k-sweep (\(variant))", header: ["k", "K-component loss", "Frobenius rel. error", "iterations"],
                                 rows: ks.indices.map { i in
                                     ["\(Int(ks[i]))", String(format: "%.5g", loss[i]), String(format: "%.5g", frob[i]), "\(iterations[i])"]
                                 }))
            // IQA: each component's representative pattern against the raw mean of its positions.
            var iqaRows: [[String]] = (0 ..< k).map { ["\($0)"] }
            var header = ["component"]
            for metric in ImageQualityMetric.allCases {
                guard let values = try? f.dataset(base + "/iqa/versus_raw_" + metric.rawValue).readAll(as: Double.self) else { continue }
                header.append(metric.rawValue.uppercased() + (metric.higherIsBetter ? " (higher better)" : " (lower better)"))
                for c in 0 ..< min(k, values.count) { iqaRows[c].append(values[c].isFinite ? String(format: "%.4g", values[c]) : "-") }
            }
            if header.count > 1 {
                blocks.append(.table(title: "IQA: representative vs raw mean (\(variant))", header: header, rows: iqaRows))
            }
            let stability = g.numericAttribute("stability_ari")?.first ?? -1
            let truth = g.numericAttribute("ground_truth_ari")?.first ?? -2
            blocks.append(.table(title: "Choice of k (\(variant))", header: ["quantity", "value"], rows: [
                ["knee", knee > 0 ? "\(knee)" : "none"], ["chosen k", "\(k)"],
                ["recommended region", region.count == 2 && region[0] > 0 ? "\(Int(region[0]))-\(Int(region[1]))" : "-"],
                ["stability (ARI over restarts)", stability >= 0 ? String(format: "%.3f", stability) : "-"],
                ["ground-truth ARI", truth > -2 ? String(format: "%.3f", truth) : "-"],
            ]))
        }
        return blocks
    }
}
