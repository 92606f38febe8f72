/// Agreement of two labelings of the same positions.
public enum ClusterAgreement {
    /// Adjusted Rand index (Hubert & Arabie 1985) from the pair confusion counts, as scikit-learn's
    /// `adjusted_rand_score`: ARI = 2 (TP TN - FN FP) / ((TP + FN)(FN + TN) + (TP + FP)(FP + TN)); 1 for identical
    /// partitions (up to renaming, also when both are trivial), about 0 for independent ones, negative below chance.
    public static func adjustedRandIndex(_ a: [Int32], _ b: [Int32]) throws -> Double {
        guard a.count == b.count else {
            throw NMFError.shapeMismatch(what: "label maps", expected: "\(a.count) labels", found: "\(b.count)")
        }
        let n = Double(a.count)
        var joint: [Int64: Double] = [:], rowCounts: [Int32: Double] = [:], columnCounts: [Int32: Double] = [:]
        for i in a.indices {
            joint[Int64(a[i]) << 32 | Int64(UInt32(bitPattern: b[i])), default: 0] += 1
            rowCounts[a[i], default: 0] += 1
            columnCounts[b[i], default: 0] += 1
        }
        let sumSquares = joint.values.reduce(0) { $0 + $1 * $1 }
        let rowSquares = rowCounts.values.reduce(0) { $0 + $1 * $1 }
        let columnSquares = columnCounts.values.reduce(0) { $0 + $1 * $1 }
        // Ordered pair counts (scikit-learn's pair_confusion_matrix, which counts each pair twice).
        let tp = sumSquares - n
        let fp = rowSquares - sumSquares
        let fn = columnSquares - sumSquares
        let tn = n * n - fp - fn - sumSquares
        if fn == 0 && fp == 0 { return 1 }
        let denominator = (tp + fn) * (fn + tn) + (tp + fp) * (fp + tn)
        return denominator != 0 ? 2 * (tp * tn - fn * fp) / denominator : 0
    }
}
