import Factorization
import Foundation
import HDF5
import STEMCore

/// `stemrun nmf`: NMF clustering of a 4D-STEM dataset and the choice of k (arXiv:2503.06699; methods notes 3).
///
/// Rows of the data matrix (scan positions) stay partitioned as read. The world communicator is split into
/// `groups` sub-communicators; each group reads its own partition of the whole dataset and fits its share of the
/// k values (balanced by cost, `KSweepPlan`), with the group's all-reduce as the solvers' reduction. Per k: the
/// K-component loss (KL fit on 128 x 128 patterns) and the Frobenius relative error of the clustering fit; the
/// knee (Kneedle) picks k, and the chosen fit's weights are assembled on every rank (N x k is small) for labels,
/// overlap maps, representative patterns and image-quality tables, then written by all ranks into one HDF5 file.
/// Several preprocessings (raw, 3 x 3 mean, registered) can be compared in one run.
public enum NMFJob {
    public enum Background: Sendable, Equatable {
        /// Detected: the component with the least intensity outside the direct beam (OverlapAnalysis).
        case auto
        case none
        case component(Int)
    }

    public struct Parameters: Sendable {
        public var ks: [Int] = Array(3 ... 20)
        public var groups = 1
        /// Overrides the knee.
        public var chosenK: Int?
        public var bin = 1
        public var solver: NMFSolver = .hals
        public var maxIterations = 1500
        public var tolerance = 1e-4
        public var stacked = true
        public var componentLoss = true
        public var lossSize = 128
        public var lossIterations = 200
        public var background: Background = .auto
        /// Random restarts of the chosen k for the cluster-stability score (0: none).
        public var restarts = 2
        public var seed: UInt64 = 1
        public var chunkBudgetBytes = ChunkedScan.defaultBudgetBytes
        /// Radius (binned detector pixels) of a disc at the detector centre set to 0 before the factorisation
        /// (the direct beam); 0: no mask.
        public var maskCenterRadius = 0.0
        /// The dataset whose /ground_truth/grain_id (stemrun simulate) scores every variant; nil: the first input.
        public var groundTruthPath: String?
        public init() {}
    }

    /// The outcome of one preprocessing variant, identical on every rank.
    public struct VariantResult: Sendable {
        public var name: String
        public var ks: [Int]
        public var componentLoss: [Double]
        public var frobeniusRelativeError: [Double]
        public var iterations: [Int]
        public var knee: Int?
        public var region: ClosedRange<Int>?
        public var chosenK: Int
        public var background: Int?
        /// Mean adjusted Rand index between the labels of the NNDSVD fit and of `restarts` random restarts.
        public var stability: Double?
        /// Adjusted Rand index of the hard labels against /ground_truth/grain_id when the input has it.
        public var groundTruthARI: Double?
        public var sweepSeconds: Double
        // Chosen fit, assembled on every rank.
        public var weights: [Float]
        public var components: [Float]
        public var labels: [Int32]
        public var overlap: OverlapMaps
        public var representative: [Float]
        public var pairwise: [ComponentAnalysis.PairwiseTable]
        public var versusRaw: [ComponentAnalysis.ComponentVersusRaw]
        public var labelCounts: [Int]
    }

    public struct Summary: Sendable {
        public var variants: [VariantResult]
        public var seconds: Double
        public var detector: DetectorShape
        public var positions: Int
    }

    public static func run(sources: [(String, PatternSource)], parameters: Parameters, comm: Communicator,
                           outputPath: String, pngFolder: String?, provenance: Provenance) throws -> Summary {
        let start = Date()
        guard let first = sources.first?.1 else {
            throw STEMError.invalidParameter(name: "inputs", value: "none", expected: "at least one dataset")
        }
        let scan = first.scan
        let detector = NMFJobData.binnedDetector(first.detector, bin: max(parameters.bin, 1))
        try comm.collectively { try validate(parameters, sources: sources, comm: comm, detector: detector) }
        var results: [VariantResult] = []
        for (name, source) in sources {
            results.append(try runVariant(name: name, source: source, parameters: parameters, comm: comm,
                                          detector: detector, truthPath: parameters.groundTruthPath ?? first.path))
        }
        let output = try OutputFile(path: outputPath, comm: comm, provenance: provenance,
                                    estimatedBytes: results.count * (scan.count * 64 + 8 * detector.pixelCount * 40))
        defer { output.abandon() } // on an error: closed on every rank and removed; no-op after commit
        try NMFJobOutput.write(results, output: output, scan: scan, detector: detector, pngFolder: pngFolder)
        try output.commit()
        return Summary(variants: results, seconds: comm.allreduce(Date().timeIntervalSince(start), .max),
                       detector: detector, positions: scan.count)
    }

    static func validate(_ p: Parameters, sources: [(String, PatternSource)], comm: Communicator,
                         detector: DetectorShape) throws {
        let scan = sources[0].1.scan
        for (name, s) in sources where s.scan != scan || s.detector != sources[0].1.detector {
            throw STEMError.shapeMismatch(path: s.path, field: "\(name) patterns",
                                          expected: "scan \(scan), detector \(sources[0].1.detector) like the first input",
                                          found: "scan \(s.scan), detector \(s.detector)")
        }
        guard p.bin >= 1, detector.rows >= 1, detector.columns >= 1 else {
            throw STEMError.invalidParameter(name: "--bin", value: "\(p.bin)", expected: "1 ... detector size")
        }
        guard !p.ks.isEmpty, p.ks.allSatisfy({ $0 >= 1 }) else {
            throw STEMError.invalidParameter(name: "k range", value: "\(p.ks)", expected: "k values >= 1")
        }
        let limit = min(scan.count, detector.pixelCount, p.componentLoss ? p.lossSize * p.lossSize : Int.max)
        guard p.ks.max()! <= limit else {
            throw STEMError.invalidParameter(name: "k range", value: "\(p.ks.min()!)-\(p.ks.max()!)",
                                             expected: "k <= min(positions, pixels) = \(limit)")
        }
        if let k = p.chosenK, !p.ks.contains(k) {
            throw STEMError.invalidParameter(name: "--k", value: "\(k)", expected: "a value of the k range \(p.ks.min()!)-\(p.ks.max()!)")
        }
        if p.chosenK == nil && p.ks.count < 3 {
            throw STEMError.invalidParameter(name: "k range", value: "\(p.ks)",
                                             expected: "at least 3 k values for the knee (or choose k with --k)")
        }
        guard p.groups >= 1, p.groups <= comm.size, p.groups <= p.ks.count else {
            throw STEMError.invalidParameter(name: "--groups", value: "\(p.groups)",
                                             expected: "1 ... min(ranks = \(comm.size), number of k values = \(p.ks.count))")
        }
        if case let .component(c) = p.background, !(0 ..< p.ks.min()!).contains(c) {
            throw STEMError.invalidParameter(name: "--background", value: "\(c)", expected: "auto, none or a component index below the smallest k")
        }
    }

    /// `truthPath`: the main input, whose /ground_truth/grain_id (if any) scores every variant.
    static func runVariant(name: String, source: PatternSource, parameters p: Parameters, comm: Communicator,
                           detector: DetectorShape, truthPath: String) throws -> VariantResult {
        let scan = source.scan, n = scan.count, pixels = detector.pixelCount
        let group = comm.rank * p.groups / comm.size
        let groupComm = p.groups == 1 ? comm : comm.split(color: group, key: comm.rank)
        let reduction = CommunicatorReduction(groupComm).reduction
        let plan = try KSweepPlan.balance(ks: p.ks, groups: p.groups)
        let range = ScanPartition(total: n, parts: groupComm.size).range(of: groupComm.rank)

        // The group's partition of the data matrix, scaled to [0, 1] by the global maximum.
        var x = try comm.collectively {
            try NMFJobData.load(source: source, range: range, bin: p.bin, mean3x3: name == "mean3x3",
                                mask: NMFJobData.centralDisc(detector, radius: p.maskCenterRadius),
                                budgetBytes: p.chunkBudgetBytes)
        }
        var peak = [x.max() ?? 0]
        reduction.maximum(&peak)
        if peak[0] > 0 { let inv = 1 / peak[0]; for i in x.indices { x[i] *= inv } }
        let block = try NMFDataBlock(unchecked: x, rows: range.count, columns: pixels, firstRow: range.lowerBound,
                                     totalRows: n)

        // The group's share of the sweep.
        let sweepStart = Date()
        let myKs = plan.groups[group]
        var fits: [Int: NMFFit] = [:]
        var losses: [Int: Double] = [:]
        if p.componentLoss {
            let side = min(p.lossSize, max(detector.rows, detector.columns))
            let small = try ComponentLoss.prepare(x, count: range.count, detector: detector, size: side,
                                                  firstRow: range.lowerBound, totalRows: n, reduction: reduction)
            for r in try ComponentLoss.losses(small, ks: myKs, reduction: reduction, options: { k in
                var o = NMFOptions.componentLoss(components: k)
                o.maxIterations = p.lossIterations
                return o
            }) { losses[r.k] = r.loss }
        }
        let options = NMFOptions(components: myKs[0], loss: .frobenius, solver: p.solver, initialization: .nndsvd,
                                 maxIterations: p.maxIterations, tolerance: p.tolerance)
        for fit in try NMF.fitSeveral(block, components: myKs, options: options, reduction: reduction,
                                      stacked: p.stacked) {
            fits[fit.components] = fit
        }
        let sweepSeconds = comm.allreduce(Date().timeIntervalSince(sweepStart), .max)

        // Every k's figures on every rank: group roots contribute, the world sums.
        var table = [Double](repeating: 0, count: 3 * p.ks.count)
        if groupComm.rank == 0 {
            for (i, k) in p.ks.enumerated() where myKs.contains(k) {
                table[i] = losses[k] ?? 0
                table[p.ks.count + i] = fits[k]!.quality.relativeError
                table[2 * p.ks.count + i] = Double(fits[k]!.iterations)
            }
        }
        comm.allreduce(&table, .sum)
        let componentLoss = Array(table[0 ..< p.ks.count])
        let relative = Array(table[p.ks.count ..< 2 * p.ks.count])
        let iterations = table[2 * p.ks.count ..< 3 * p.ks.count].map { Int($0.rounded()) }

        var knee: Int?, region: ClosedRange<Int>?
        if p.ks.count >= 3 {
            let curve = p.componentLoss ? componentLoss : relative
            if let r = try Kneedle.recommend(ks: p.ks, losses: curve) { knee = r.knee; region = r.region }
        }
        guard let chosen = p.chosenK ?? knee else {
            throw STEMError.invalidParameter(name: "k range", value: "\(p.ks.min()!)-\(p.ks.max()!)",
                                             expected: "a loss curve with a knee; none was found: choose k with --k")
        }

        // The chosen fit, assembled on every rank.
        let k = chosen
        let owner = plan.group(of: k)!
        var weights = [Float](repeating: 0, count: n * k)
        var components = [Float](repeating: 0, count: k * pixels)
        if group == owner, let fit = fits[k] {
            for i in 0 ..< range.count { for c in 0 ..< k { weights[(range.lowerBound + i) * k + c] = fit.w[i * k + c] } }
            if groupComm.rank == 0 { components = fit.h }
        }
        comm.allreduce(&weights, .sum)
        comm.allreduce(&components, .sum)

        let labels = OverlapAnalysis.hardLabels(weights: weights, components: k)
        let background: Int?
        switch p.background {
        case .none: background = nil
        case let .component(c): background = c
        case .auto:
            background = OverlapAnalysis.detectBackground(components: components, components: k, rows: detector.rows,
                                                          columns: detector.columns,
                                                          beamRadius: max(2, 0.06 * Double(min(detector.rows, detector.columns))))
        }
        let overlap = try OverlapAnalysis.maps(weights: weights, components: k, background: background)
        let maxima = ComponentAnalysis.maximumWeights(w: weights, components: k)
        let representative = ComponentAnalysis.representativePatterns(h: components, components: k, maximumWeights: maxima)

        // Mean pattern per label over group 0's partition (the world root belongs to group 0).
        var rawMeans = [Float](repeating: 0, count: k * pixels)
        var counts = [Int](repeating: 0, count: k)
        if group == 0 {
            let r = try ComponentAnalysis.meanPatternsByLabel(patterns: x, columns: pixels, labels: Array(labels[range]),
                                                              components: k, reduction: reduction)
            rawMeans = r.means
            counts = r.counts
        }
        // Image-quality tables: computed on the world root, shared (attributes must agree on all ranks).
        var pairwise: [ComponentAnalysis.PairwiseTable] = []
        var versus: [ComponentAnalysis.ComponentVersusRaw] = []
        try comm.collectively {
            guard comm.isRoot else { return }
            let reps = ComponentAnalysis.images(representative, count: k, rows: detector.rows, columns: detector.columns)
            let raws = ComponentAnalysis.images(rawMeans, count: k, rows: detector.rows, columns: detector.columns)
            if min(detector.rows, detector.columns) >= 11 {
                pairwise = try ComponentAnalysis.pairwiseTables(reps)
                versus = try ComponentAnalysis.componentVersusRaw(representatives: reps, rawMeans: raws, counts: counts)
            }
        }
        pairwise = shareTables(pairwise, k: k, comm: comm)
        versus = shareVersus(versus, k: k, comm: comm)
        counts = comm.broadcastArray(counts)

        // Cluster stability: random restarts of the chosen k on group 0.
        var stability: Double?
        if p.restarts > 0 {
            var scores = [Double](repeating: 0, count: 1)
            if group == 0 {
                var total = 0.0
                for r in 0 ..< p.restarts {
                    var o = options
                    o.components = k
                    o.initialization = .random(seed: p.seed &+ UInt64(r))
                    let fit = try NMF.fit(block, options: o, reduction: reduction)
                    let local = OverlapAnalysis.hardLabels(weights: fit.w, components: k)
                    let all = groupComm.allgatherv(local)
                    total += try ClusterAgreement.adjustedRandIndex(all, labels)
                }
                if comm.isRoot { scores[0] = total / Double(p.restarts) }
            }
            comm.allreduce(&scores, .sum)
            stability = scores[0]
        }

        // Agreement with simulated grains when the input carries the ground truth.
        var truth = [Double](repeating: .nan, count: 1)
        if comm.isRoot, let grains = groundTruthGrains(truthPath), grains.count == n {
            truth[0] = (try? ClusterAgreement.adjustedRandIndex(grains, labels)) ?? .nan
        }
        truth = comm.broadcastArray(truth)
        return VariantResult(name: name, ks: p.ks, componentLoss: componentLoss, frobeniusRelativeError: relative,
                             iterations: iterations, knee: knee, region: region, chosenK: k, background: background,
                             stability: stability, groundTruthARI: truth[0].isNaN ? nil : truth[0],
                             sweepSeconds: sweepSeconds, weights: weights, components: components, labels: labels,
                             overlap: overlap, representative: representative, pairwise: pairwise, versusRaw: versus,
                             labelCounts: counts)
    }

    /// /ground_truth/grain_id of a simulated dataset (stemrun simulate), read on one rank.
    static func groundTruthGrains(_ path: String) -> [Int32]? {
        // The HDF5 signature at offset 0 (raw inputs are not opened with HDF5, which would print an error stack).
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        let signature = handle.readData(ofLength: 8)
        try? handle.close()
        guard signature == Data([0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A]), let file = try? H5File.open(path),
              file.exists("ground_truth/grain_id"), let ds = try? file.dataset("ground_truth/grain_id") else { return nil }
        return try? ds.readAll(as: Int32.self)
    }

    static func shareTables(_ tables: [ComponentAnalysis.PairwiseTable], k: Int,
                            comm: Communicator) -> [ComponentAnalysis.PairwiseTable] {
        var flat = tables.flatMap { $0.values + $0.columnMeans }
        flat = comm.broadcastArray(flat)
        let per = k * k + k
        return ImageQualityMetric.allCases.enumerated().compactMap { i, metric in
            guard flat.count >= (i + 1) * per else { return nil }
            let chunk = Array(flat[i * per ..< (i + 1) * per])
            return ComponentAnalysis.PairwiseTable(metric: metric, values: Array(chunk[0 ..< k * k]),
                                                   columnMeans: Array(chunk[k * k ..< per]))
        }
    }

    static func shareVersus(_ rows: [ComponentAnalysis.ComponentVersusRaw], k: Int,
                            comm: Communicator) -> [ComponentAnalysis.ComponentVersusRaw] {
        var flat = rows.flatMap { $0.values.map { $0 ?? .nan } + [$0.mean] }
        flat = comm.broadcastArray(flat)
        let per = k + 1
        return ImageQualityMetric.allCases.enumerated().compactMap { i, metric in
            guard flat.count >= (i + 1) * per else { return nil }
            let chunk = Array(flat[i * per ..< (i + 1) * per])
            return ComponentAnalysis.ComponentVersusRaw(metric: metric, values: chunk[0 ..< k].map { $0.isNaN ? nil : $0 },
                                                        mean: chunk[k])
        }
    }
}
