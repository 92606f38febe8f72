import STEMCore

/// The authors' K-component loss (arXiv:2503.06699; methods notes section 3): patterns area-averaged to
/// 128 x 128 and scaled to [0, 1], a KL multiplicative-update fit per k (<= 200 iterations, tol 1e-4), and
/// loss(k) = mean |X - WH| over all elements.
public enum ComponentLoss {
    /// Area-average resampling of row-major patterns from `detector` to `size` x `size`: each output pixel is the
    /// mean of the input over its footprint, fractional pixels weighted by overlap (exact block means when the
    /// detector side is a multiple of `size`). Separable: rows, then columns.
    public static func downsample(_ patterns: [Float], count: Int, detector: DetectorShape, size: Int = 128) -> [Float] {
        let rowWeights = areaWeights(input: detector.rows, output: size)
        let columnWeights = areaWeights(input: detector.columns, output: size)
        let p = detector.pixelCount
        var out = [Float](repeating: 0, count: count * size * size)
        var temp = [Float](repeating: 0, count: size * detector.columns)
        patterns.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for n in 0 ..< count {
                    let pattern = src.base + n * p
                    for i in temp.indices { temp[i] = 0 }
                    for (o, weights) in rowWeights.enumerated() {
                        for (r, weight) in weights {
                            let row = pattern + r * detector.columns
                            for c in 0 ..< detector.columns { temp[o * detector.columns + c] += weight * row[c] }
                        }
                    }
                    let target = dst.base + n * size * size
                    for o in 0 ..< size {
                        for (oc, weights) in columnWeights.enumerated() {
                            var s: Float = 0
                            for (c, weight) in weights { s += weight * temp[o * detector.columns + c] }
                            target[o * size + oc] = s
                        }
                    }
                }
            }
        }
        return out
    }

    /// For each output index, the input indices it covers and their normalised overlap weights.
    static func areaWeights(input: Int, output: Int) -> [[(Int, Float)]] {
        let scale = Double(input) / Double(output)
        return (0 ..< output).map { o in
            let start = Double(o) * scale, end = Double(o + 1) * scale
            var list: [(Int, Float)] = []
            var i = Int(start.rounded(.down))
            while Double(i) < end && i < input {
                let overlap = min(end, Double(i + 1)) - max(start, Double(i))
                if overlap > 1e-12 { list.append((i, Float(overlap / scale))) }
                i += 1
            }
            return list
        }
    }

    /// Downsampled, non-negative (negatives clipped) and divided by the global maximum over all ranks, so the
    /// data lie in [0, 1] with zero kept at zero. An all-zero dataset stays zero.
    public static func prepare(_ patterns: [Float], count: Int, detector: DetectorShape, size: Int = 128,
                               firstRow: Int = 0, totalRows: Int? = nil,
                               reduction: Reduction = .identity) throws -> NMFDataBlock {
        guard patterns.count == count * detector.pixelCount else {
            throw NMFError.shapeMismatch(what: "pattern block", expected: "\(count) x \(detector.pixelCount) values",
                                         found: "\(patterns.count)")
        }
        guard size >= 1 else { throw NMFError.invalidParameter(name: "size", value: "\(size)", expected: ">= 1") }
        if patterns.contains(where: { !$0.isFinite }) {
            throw NMFError.nonFiniteInput(count: patterns.lazy.filter { !$0.isFinite }.count)
        }
        var small = downsample(patterns, count: count, detector: detector, size: size)
        var peak = [small.max() ?? 0]
        reduction.maximum(&peak)
        let scale: Float = peak[0] > 0 ? 1 / peak[0] : 0
        for i in small.indices { small[i] = max(small[i], 0) * scale }
        return try NMFDataBlock(unchecked: small, rows: count, columns: size * size, firstRow: firstRow,
                                totalRows: totalRows)
    }

    /// loss(k) for every k: the mean absolute reconstruction error of a KL multiplicative-update fit
    /// (`NMFOptions.componentLoss`), together with the fits.
    public static func losses(_ block: NMFDataBlock, ks: [Int], reduction: Reduction = .identity,
                              options: (Int) -> NMFOptions = NMFOptions.componentLoss) throws -> [(k: Int, loss: Double, fit: NMFFit)] {
        try ks.map { k in
            let fit = try NMF.fit(block, options: options(k), reduction: reduction)
            return (k, fit.quality.meanAbsoluteError, fit)
        }
    }
}
