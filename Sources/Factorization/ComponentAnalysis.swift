/// What the authors read off a clustering fit (arXiv:2503.06699; methods notes section 3): representative
/// patterns, hard labels, and image-quality tables (a) between representative patterns and (b) of each
/// representative pattern against the mean raw pattern of its positions.
public enum ComponentAnalysis {
    /// Largest weight of each component over all ranks' positions (one max all-reduce of k values).
    public static func maximumWeights(w: [Float], components k: Int, reduction: Reduction = .identity) -> [Float] {
        var best = [Float](repeating: 0, count: k)
        for i in 0 ..< (k > 0 ? w.count / k : 0) { for c in 0 ..< k { best[c] = max(best[c], w[i * k + c]) } }
        reduction.maximum(&best)
        return best
    }

    /// Representative pattern of component i = H_i times its largest weight (k x p, row-major).
    public static func representativePatterns(h: [Float], components k: Int, maximumWeights: [Float]) -> [Float] {
        let p = k > 0 ? h.count / k : 0
        var out = h
        for c in 0 ..< k { for j in 0 ..< p { out[c * p + j] *= maximumWeights[c] } }
        return out
    }

    /// Sums and counts of the raw patterns per label, summed over ranks (one all-reduce of k x p + k values);
    /// the mean raw pattern of label i is sums[i] / counts[i]. `patterns` is this rank's block (rows x p).
    public static func meanPatternsByLabel(patterns: [Float], columns p: Int, labels: [Int32], components k: Int,
                                           reduction: Reduction = .identity) throws -> (means: [Float], counts: [Int]) {
        guard patterns.count == labels.count * p else {
            throw NMFError.shapeMismatch(what: "patterns for labels", expected: "\(labels.count) x \(p) values",
                                         found: "\(patterns.count)")
        }
        var buffer = [Float](repeating: 0, count: k * p + k)
        patterns.withUnsafeBufferPointer { x in
            buffer.withUnsafeMutableBufferPointer { b in
                for (i, label) in labels.enumerated() where label >= 0 && Int(label) < k {
                    let dst = b.base + Int(label) * p, src = x.base + i * p
                    for j in 0 ..< p { dst[j] += src[j] }
                    b[k * p + Int(label)] += 1
                }
            }
        }
        reduction.sum(&buffer)
        var means = [Float](repeating: 0, count: k * p)
        var counts = [Int](repeating: 0, count: k)
        for c in 0 ..< k {
            let count = buffer[k * p + c]
            counts[c] = Int(count.rounded())
            guard count > 0 else { continue }
            for j in 0 ..< p { means[c * p + j] = buffer[c * p + j] / count }
        }
        return (means, counts)
    }

    /// A metric over pairs of components: the k x k matrix and the mean of each column over the other
    /// components (the diagonal, a pattern against itself, is excluded from the means).
    public struct PairwiseTable: Sendable, Equatable {
        public var metric: ImageQualityMetric
        public var values: [Double]
        public var columnMeans: [Double]

        public init(metric: ImageQualityMetric, values: [Double], columnMeans: [Double]) {
            self.metric = metric
            self.values = values
            self.columnMeans = columnMeans
        }
    }

    /// Images of component patterns for the metrics: clipped to [0, 1] (the data were scaled to [0, 1] before
    /// the fit, so only reconstruction overshoot is clipped).
    public static func images(_ patterns: [Float], count k: Int, rows: Int, columns: Int) -> [GrayImage] {
        let p = rows * columns
        return (0 ..< k).map { c in
            GrayImage(rows: rows, columns: columns, pixels: patterns[c * p ..< (c + 1) * p].map { Double(min(max($0, 0), 1)) })
        }
    }

    /// (a) Pairwise tables between representative patterns, one per metric.
    public static func pairwiseTables(_ images: [GrayImage],
                                      metrics: [ImageQualityMetric] = ImageQualityMetric.allCases) throws -> [PairwiseTable] {
        let k = images.count
        return try metrics.map { metric in
            var values = [Double](repeating: 0, count: k * k)
            for i in 0 ..< k { for j in 0 ..< k { values[i * k + j] = try metric.evaluate(images[i], images[j]) } }
            let means = (0 ..< k).map { j -> Double in
                let others = (0 ..< k).filter { $0 != j }.map { values[$0 * k + j] }
                return others.isEmpty ? values[j * k + j] : others.reduce(0, +) / Double(others.count)
            }
            return PairwiseTable(metric: metric, values: values, columnMeans: means)
        }
    }

    /// (b) Each component's representative pattern against the mean raw pattern of the positions labelled with it.
    public struct ComponentVersusRaw: Sendable, Equatable {
        public var metric: ImageQualityMetric
        /// Per component; nil where no position carries the label.
        public var values: [Double?]
        /// Mean over the components that have positions.
        public var mean: Double

        public init(metric: ImageQualityMetric, values: [Double?], mean: Double) {
            self.metric = metric
            self.values = values
            self.mean = mean
        }
    }

    public static func componentVersusRaw(representatives: [GrayImage], rawMeans: [GrayImage], counts: [Int],
                                          metrics: [ImageQualityMetric] = ImageQualityMetric.allCases) throws -> [ComponentVersusRaw] {
        try metrics.map { metric in
            var values: [Double?] = []
            for c in representatives.indices {
                values.append(counts[c] > 0 ? try metric.evaluate(representatives[c], rawMeans[c]) : nil)
            }
            let present = values.compactMap { $0 }
            return ComponentVersusRaw(metric: metric, values: values,
                                      mean: present.isEmpty ? 0 : present.reduce(0, +) / Double(present.count))
        }
    }
}
