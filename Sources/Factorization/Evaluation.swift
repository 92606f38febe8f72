#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Exact evaluation of a fit: streams X in row chunks, forms W_c H with sgemm and accumulates the residual in
/// double precision.
enum Evaluation {
    /// Rows per chunk so that one chunk of WH holds about 2^19 floats (2 MiB).
    static func chunkRows(columns: Int, rows: Int) -> Int { max(1, min(rows, (1 << 19) / max(columns, 1))) }

    /// Per-rank partial sums [rss, sum|r|, ||X||^2, KL] for factors W (n x k, leading dimension ldw) and H.
    static func partialSums(_ block: NMFDataBlock, w: UnsafePointer<Float>, ldw: Int, h: UnsafePointer<Float>,
                            k: Int, withKL: Bool, epsilon: Float) -> [Double] {
        let n = block.rows, p = block.columns
        guard n > 0 else { return [0, 0, 0, 0] }
        let chunk = chunkRows(columns: p, rows: n)
        var wh = [Float](repeating: 0, count: chunk * p)
        var rss = 0.0, sad = 0.0, xx = 0.0, kl = 0.0
        block.values.withUnsafeBufferPointer { xb in
            wh.withUnsafeMutableBufferPointer { whb in
                let x = xb.base, y = whb.base
                var start = 0
                while start < n {
                    let rows = min(chunk, n - start)
                    BLAS.gemm(m: rows, n: p, k: k, a: w + start * ldw, lda: ldw, b: h, ldb: p, c: y, ldc: p)
                    let xc = x + start * p
                    for i in 0 ..< rows * p {
                        let xv = xc[i], v = y[i]
                        let d = Double(xv - v)
                        rss += d * d
                        sad += abs(d)
                        xx += Double(xv) * Double(xv)
                        if withKL {
                            // sklearn's beta = 1 divergence: X log(X / WH) over X > eps, plus sum(WH) - sum(X).
                            if xv > epsilon { kl += Double(xv) * log(Double(xv) / Double(max(v, epsilon))) }
                            kl += Double(v) - Double(xv)
                        }
                    }
                    start += rows
                }
            }
        }
        return [rss, sad, xx, kl]
    }

    static func quality(from sums: ArraySlice<Double>, loss: NMFLoss, elements: Double) -> NMFQuality {
        let s = Array(sums)
        let rss = max(s[0], 0), sad = s[1], xx = s[2], kl = max(s[3], 0)
        let divergence = loss == .frobenius ? rss / 2 : kl
        return NMFQuality(divergence: divergence, reconstructionError: (2 * divergence).squareRoot(),
                          relativeError: xx > 0 ? (rss / xx).squareRoot() : 0,
                          meanAbsoluteError: elements > 0 ? sad / elements : 0)
    }
}
