/// The leading singular triplets of the row-distributed data matrix, X ~ U diag(S) V^T.
/// `leftVectors` holds this rank's rows of U (localRows x rank, row-major); `rightVectors` holds V^T
/// (rank x columns, row-major), replicated on every rank.
public struct TruncatedSVD: Sendable {
    public let rank: Int
    public let localRows: Int
    public let columns: Int
    public var singularValues: [Float]
    public var leftVectors: [Float]
    public var rightVectors: [Float]

    /// Randomized subspace iteration (Halko, Martinsson & Tropp 2011, algorithm 4.4) distributed over row blocks.
    ///
    /// The p x l basis Q (l = rank + oversampling) is replicated: it starts from a seeded Gaussian block, so
    /// every rank builds the same one. Each of the `iterations` steps computes the local Z = X_r Q and the partial
    /// G_r = X_r^T Z, all-reduces G (one buffer of l x p floats) and re-orthonormalises it. Finally the l x l Gram
    /// B = Z^T Z is all-reduced and diagonalised (Jacobi): B = V_s diag(s^2) V_s^T gives the right singular
    /// vectors Q V_s, the singular values s and this rank's left vectors Z V_s / s. Vectors for zero singular
    /// values (rank-deficient X) are returned as zeros.
    public static func compute(_ block: NMFDataBlock, rank: Int, oversampling: Int = 10, iterations: Int = 7,
                               seed: UInt64 = 0, reduction: Reduction = .identity) throws -> TruncatedSVD {
        let n = block.rows, p = block.columns
        guard rank >= 1, rank <= p, rank <= block.totalRows else {
            throw NMFError.tooManyComponents(k: rank, rows: block.totalRows, columns: p)
        }
        let l = min(rank + max(oversampling, 0), p)
        // Q^T, l x p row-major: basis vectors are contiguous rows.
        var qt = [Float](repeating: 0, count: l * p)
        var rng = SplitMix64(seed: seed)
        for i in qt.indices { qt[i] = Float(rng.normal()) }
        orthonormalizeRows(&qt, rows: l, columns: p)
        var z = [Float](repeating: 0, count: n * l)
        block.values.withUnsafeBufferPointer { x in
            for _ in 0 ..< iterations {
                // Z = X_r Q (n x l); G^T = Z^T X_r (l x p), summed over ranks.
                qt.withUnsafeBufferPointer { q in
                    z.withUnsafeMutableBufferPointer { zz in
                        BLAS.gemm(transB: true, m: n, n: l, k: p, a: x.base, lda: p,
                                  b: q.base, ldb: p, c: zz.base, ldc: l)
                    }
                }
                z.withUnsafeBufferPointer { zz in
                    qt.withUnsafeMutableBufferPointer { q in
                        BLAS.gemm(transA: true, m: l, n: p, k: n, a: zz.base, lda: l,
                                  b: x.base, ldb: p, c: q.base, ldc: p)
                    }
                }
                reduction.sum(&qt)
                orthonormalizeRows(&qt, rows: l, columns: p)
            }
            qt.withUnsafeBufferPointer { q in
                z.withUnsafeMutableBufferPointer { zz in
                    BLAS.gemm(transB: true, m: n, n: l, k: p, a: x.base, lda: p,
                              b: q.base, ldb: p, c: zz.base, ldc: l)
                }
            }
        }
        // B = Z^T Z in double precision (l x l), summed over ranks.
        var gram = [Double](repeating: 0, count: l * l)
        z.withUnsafeBufferPointer { zz in
            for r in 0 ..< n {
                let row = zz.base + r * l
                for i in 0 ..< l {
                    let zi = Double(row[i])
                    if zi == 0 { continue }
                    for j in i ..< l { gram[i * l + j] += zi * Double(row[j]) }
                }
            }
        }
        for i in 0 ..< l { for j in 0 ..< i { gram[i * l + j] = gram[j * l + i] } }
        reduction.sumDouble(&gram)
        let (values, vectors) = SymmetricEigen.decompose(gram, n: l)
        let largest = max(values.first ?? 0, 0)
        var sigma = [Float](repeating: 0, count: rank)
        var u = [Float](repeating: 0, count: n * rank)
        var vt = [Float](repeating: 0, count: rank * p)
        for c in 0 ..< rank {
            let lambda = values[c]
            // Eigenvalues below the float noise floor of B are treated as zero singular values.
            guard lambda > 1e-10 * largest, lambda > 0 else { continue }
            let s = lambda.squareRoot()
            sigma[c] = Float(s)
            // v_c = Q V_s[:, c]
            for j in 0 ..< l {
                let coefficient = Float(vectors[j * l + c])
                if coefficient == 0 { continue }
                qt.withUnsafeBufferPointer { q in
                    vt.withUnsafeMutableBufferPointer { v in
                        let src = q.base + j * p, dst = v.base + c * p
                        for i in 0 ..< p { dst[i] += coefficient * src[i] }
                    }
                }
            }
            // u_c = Z V_s[:, c] / s
            for r in 0 ..< n {
                var acc = 0.0
                for j in 0 ..< l { acc += Double(z[r * l + j]) * vectors[j * l + c] }
                u[r * rank + c] = Float(acc / s)
            }
        }
        return TruncatedSVD(rank: rank, localRows: n, columns: p, singularValues: sigma, leftVectors: u,
                            rightVectors: vt)
    }

    /// Modified Gram-Schmidt, twice ("twice is enough", Giraud et al. 2005), on the rows of a row-major matrix,
    /// with double accumulators. Rows that become numerically zero (rank deficiency) are set to zero.
    static func orthonormalizeRows(_ a: inout [Float], rows: Int, columns p: Int) {
        a.withUnsafeMutableBufferPointer { buffer in
            let base = buffer.base
            var originalNorm = [Double](repeating: 0, count: rows)
            for i in 0 ..< rows {
                var s = 0.0
                for t in 0 ..< p { s += Double(base[i * p + t]) * Double(base[i * p + t]) }
                originalNorm[i] = s.squareRoot()
            }
            for _ in 0 ..< 2 {
                for i in 0 ..< rows {
                    let ri = base + i * p
                    for j in 0 ..< i {
                        let rj = base + j * p
                        var dot = 0.0
                        for t in 0 ..< p { dot += Double(ri[t]) * Double(rj[t]) }
                        let d = Float(dot)
                        if d != 0 { for t in 0 ..< p { ri[t] -= d * rj[t] } }
                    }
                    var s = 0.0
                    for t in 0 ..< p { s += Double(ri[t]) * Double(ri[t]) }
                    let norm = s.squareRoot()
                    if norm <= 1e-6 * max(originalNorm[i], 1e-300) || norm == 0 {
                        for t in 0 ..< p { ri[t] = 0 }
                        originalNorm[i] = 0
                    } else {
                        let inv = Float(1 / norm)
                        for t in 0 ..< p { ri[t] *= inv }
                        originalNorm[i] = 1
                    }
                }
            }
        }
    }
}
