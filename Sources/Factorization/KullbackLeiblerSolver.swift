#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Multiplicative updates for the generalised Kullback-Leibler divergence (Lee & Seung 2001, eq. 5), on
/// row-distributed X, streaming X in row chunks so no n x p temporary is ever held:
///
///   W <- W * ((X / WH) H^T) / (1 h^T),  h_t = sum_j H_tj        (local: each row of W needs only its rows of X)
///   H <- H * (W^T (X / WH)) / (w 1^T),  w_t = sum_i W_it        (W^T (X/WH) and w summed over ranks)
///
/// Per chunk: WH with the old W, the ratio X / max(WH, eps), the W update of the chunk's rows, WH again with the
/// new rows, and the accumulation of W_c^T (X_c / W_c H) into the packet. One all-reduce per iteration of
/// [W^T (X/WH) | column sums of W | local divergence]. The divergence (with logarithms) is only evaluated at check
/// iterations. As scikit-learn (beta <= 1), H entries below double epsilon are set to 0 after each update.
enum KullbackLeiblerSolver {
    static func run(_ block: NMFDataBlock, model input: FrobeniusSolver.Model, options: NMFOptions,
                    reduction: Reduction) -> FrobeniusSolver.Model {
        var model = input
        let n = block.rows, p = block.columns, k = model.k, eps = options.epsilon
        let chunk = Evaluation.chunkRows(columns: p, rows: max(n, 1))
        var wh = [Float](repeating: 0, count: chunk * p)
        var numerator = [Float](repeating: 0, count: chunk * k)
        var packet = [Float](repeating: 0, count: k * p + k + 1)
        var hSums = [Float](repeating: 0, count: k)
        var savedW = [Float]()
        var iteration = 0
        block.values.withUnsafeBufferPointer { xb in
            let x = xb.base
            while iteration < options.maxIterations {
                let check = iteration % options.checkInterval == 0
                if check { savedW = model.w }
                var divergence = 0.0
                for t in 0 ..< k {
                    var s: Float = 0
                    for j in 0 ..< p { s += model.h[t * p + j] }
                    hSums[t] = max(s, eps)
                }
                for i in packet.indices { packet[i] = 0 }
                model.w.withUnsafeMutableBufferPointer { wb in
                model.h.withUnsafeBufferPointer { hb in
                wh.withUnsafeMutableBufferPointer { whb in
                numerator.withUnsafeMutableBufferPointer { nb in
                packet.withUnsafeMutableBufferPointer { pb in
                    let W = wb.base, H = hb.base, Y = whb.base, N = nb.base
                    let P = pb.base
                    var start = 0
                    while start < n {
                        let rows = min(chunk, n - start)
                        let xc = x + start * p, wc = W + start * k
                        BLAS.gemm(m: rows, n: p, k: k, a: wc, lda: k, b: H, ldb: p, c: Y, ldc: p)
                        if check { divergence += localDivergence(x: xc, wh: Y, count: rows * p, eps: eps) }
                        for i in 0 ..< rows * p { Y[i] = xc[i] / max(Y[i], eps) }
                        BLAS.gemm(transB: true, m: rows, n: k, k: p, a: Y, lda: p, b: H, ldb: p, c: N, ldc: k)
                        for i in 0 ..< rows {
                            for t in 0 ..< k { wc[i * k + t] *= N[i * k + t] / hSums[t] }
                        }
                        BLAS.gemm(m: rows, n: p, k: k, a: wc, lda: k, b: H, ldb: p, c: Y, ldc: p)
                        for i in 0 ..< rows * p { Y[i] = xc[i] / max(Y[i], eps) }
                        BLAS.gemm(transA: true, m: k, n: p, k: rows, a: wc, lda: k, b: Y, ldb: p, beta: 1,
                                  c: P, ldc: p)
                        for i in 0 ..< rows { for t in 0 ..< k { P[k * p + t] += wc[i * k + t] } }
                        start += rows
                    }
                    P[k * p + k] = Float(divergence)
                }}}}}
                reduction.sum(&packet)
                if check {
                    let error = (2 * Double(max(packet[k * p + k], 0))).squareRoot()
                    model.history.append(NMFCheckpoint(iteration: iteration, error: error))
                    var stop = false
                    if iteration == 0 {
                        model.initialError = error
                        model.previousError = error
                        stop = error == 0
                    } else if options.tolerance > 0 {
                        stop = (model.previousError - error) / max(model.initialError, 1e-300) < options.tolerance
                        model.previousError = error
                    }
                    if stop {
                        model.w = savedW
                        model.converged = true
                        model.iterations = iteration
                        model.done = true
                        return
                    }
                }
                packet.withUnsafeBufferPointer { pb in
                    model.h.withUnsafeMutableBufferPointer { hb in
                        let P = pb.base, H = hb.base
                        for t in 0 ..< k {
                            let denominator = max(P[k * p + t], eps)
                            for j in 0 ..< p {
                                let v = H[t * p + j] * (P[t * p + j] / denominator)
                                H[t * p + j] = v < Float(Double.ulpOfOne) ? 0 : v
                            }
                        }
                    }
                }
                iteration += 1
            }
            model.iterations = iteration
        }
        return model
    }

    /// sum over a chunk of X log(X / WH) (X > eps) + WH - X.
    @inline(__always)
    static func localDivergence(x: UnsafePointer<Float>, wh: UnsafePointer<Float>, count: Int, eps: Float) -> Double {
        var s = 0.0
        for i in 0 ..< count {
            let xv = x[i], v = wh[i]
            if xv > eps { s += Double(xv) * log(Double(xv) / Double(max(v, eps))) }
            s += Double(v) - Double(xv)
        }
        return s
    }
}
