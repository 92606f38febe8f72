/// Starting factors W (local rows x k) and H (k x p) for the solvers.
enum Initialization {
    /// Global mean of X (one all-reduce of two doubles).
    static func globalMean(_ block: NMFDataBlock, reduction: Reduction) -> Double {
        var sums = [block.values.withUnsafeBufferPointer { v in v.reduce(0.0) { $0 + Double($1) } },
                    Double(block.rows * block.columns)]
        reduction.sumDouble(&sums)
        return sums[1] > 0 ? sums[0] / sums[1] : 0
    }

    static func factors(for block: NMFDataBlock, k: Int, method: NMFInitialization, svd: TruncatedSVD?,
                        options: NMFOptions, reduction: Reduction) throws -> (w: [Float], h: [Float]) {
        switch method {
        case let .random(seed):
            return random(block, k: k, seed: seed, reduction: reduction)
        case .nndsvd, .nndsvda:
            let decomposition: TruncatedSVD
            if let svd, svd.rank >= k, svd.localRows == block.rows, svd.columns == block.columns {
                decomposition = svd
            } else {
                decomposition = try TruncatedSVD.compute(block, rank: k, oversampling: options.svdOversampling,
                                                         iterations: options.svdIterations, seed: options.svdSeed,
                                                         reduction: reduction)
            }
            let fill: Float? = method == .nndsvda ? Float(globalMean(block, reduction: reduction)) : nil
            return nndsvd(decomposition, k: k, fill: fill, reduction: reduction)
        }
    }

    /// scikit-learn's random start: W, H = |N(0, 1)| * sqrt(mean(X) / k). H from the seed's stream 0;
    /// W row i from stream i + 1 keyed by its global index (partition-independent).
    static func random(_ block: NMFDataBlock, k: Int, seed: UInt64, reduction: Reduction) -> (w: [Float], h: [Float]) {
        let scale = (max(globalMean(block, reduction: reduction), 0) / Double(k)).squareRoot()
        let p = block.columns
        var h = [Float](repeating: 0, count: k * p)
        var rngH = SplitMix64(seed: seed, stream: 0)
        for i in h.indices { h[i] = Float(scale * abs(rngH.normal())) }
        var w = [Float](repeating: 0, count: block.rows * k)
        for r in 0 ..< block.rows {
            var rng = SplitMix64(seed: seed, stream: UInt64(block.firstRow + r + 1))
            for c in 0 ..< k { w[r * k + c] = Float(scale * abs(rng.normal())) }
        }
        return (w, h)
    }

    /// NNDSVD (Boutsidis & Gallopoulos 2008, algorithm 1) from the leading k singular triplets: the first pair is
    /// sqrt(s_1) |u_1|, sqrt(s_1) |v_1|; pair j > 1 keeps the dominant of the positive and negative parts of
    /// (u_j, v_j), scaled by sqrt(s_j * ||u_j^±|| ||v_j^±||). The norms of the positive and negative parts of the
    /// row-distributed u_j take one all-reduce of 2k doubles. `fill` (NNDSVDa) replaces the zeros.
    static func nndsvd(_ svd: TruncatedSVD, k: Int, fill: Float?, reduction: Reduction) -> (w: [Float], h: [Float]) {
        let n = svd.localRows, p = svd.columns, r = svd.rank
        var uNorms = [Double](repeating: 0, count: 2 * k)
        for i in 0 ..< n {
            for j in 0 ..< k {
                let x = Double(svd.leftVectors[i * r + j])
                if x > 0 { uNorms[2 * j] += x * x } else { uNorms[2 * j + 1] += x * x }
            }
        }
        reduction.sumDouble(&uNorms)
        var w = [Float](repeating: 0, count: n * k)
        var h = [Float](repeating: 0, count: k * p)
        for j in 0 ..< k {
            let s = Double(svd.singularValues[j])
            guard s > 0 else { continue }
            var vPos = 0.0, vNeg = 0.0
            for t in 0 ..< p {
                let y = Double(svd.rightVectors[j * p + t])
                if y > 0 { vPos += y * y } else { vNeg += y * y }
            }
            let xp = uNorms[2 * j].squareRoot(), xn = uNorms[2 * j + 1].squareRoot()
            let yp = vPos.squareRoot(), yn = vNeg.squareRoot()
            // j = 0: the leading pair has one sign (Perron-Frobenius); |u|, |v| is sklearn's rule.
            let usePositive: Bool
            let uScale: Double, vScale: Double, lambda: Double
            if j == 0 {
                usePositive = true
                lambda = s.squareRoot()
                uScale = lambda; vScale = lambda
            } else {
                let mp = xp * yp, mn = xn * yn
                usePositive = mp > mn
                let sigma = usePositive ? mp : mn
                lambda = (s * sigma).squareRoot()
                let xNorm = usePositive ? xp : xn, yNorm = usePositive ? yp : yn
                uScale = xNorm > 0 ? lambda / xNorm : 0
                vScale = yNorm > 0 ? lambda / yNorm : 0
            }
            for i in 0 ..< n {
                let x = svd.leftVectors[i * r + j]
                let part: Float = j == 0 ? abs(x) : (usePositive ? max(x, 0) : max(-x, 0))
                w[i * k + j] = Float(Double(part) * uScale)
            }
            for t in 0 ..< p {
                let y = svd.rightVectors[j * p + t]
                let part: Float = j == 0 ? abs(y) : (usePositive ? max(y, 0) : max(-y, 0))
                h[j * p + t] = Float(Double(part) * vScale)
            }
        }
        // sklearn: values below eps are set to 0 (then filled for NNDSVDa).
        let eps = Float(1e-6)
        for i in w.indices where w[i] < eps { w[i] = fill ?? 0 }
        for i in h.indices where h[i] < eps { h[i] = fill ?? 0 }
        return (w, h)
    }
}
