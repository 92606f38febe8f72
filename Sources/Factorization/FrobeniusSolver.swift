/// Frobenius-loss NMF on row-distributed X for one or several k at once ("stacking"), with either update rule.
///
/// Stacking: the factors of M models are held side by side, W = [W_1 | ... | W_M] (n x K) and
/// H = [H_1; ...; H_M] (K x p), K = sum k_m. The two products that touch X, X H^T (n x K) and W^T X (K x p), are
/// then one wide sgemm each instead of M narrow ones: X is streamed once per iteration for all models, which turns
/// the memory-bound narrow products into compute-bound ones. Everything else (H_m H_m^T, W_m^T W_m, the updates)
/// uses only model m's blocks, so each model follows exactly the iterates of its separate fit.
///
/// One iteration of every model (W first, then H, as scikit-learn):
///   1. local XH^T, H_m H_m^T, W_m (H_m H_m^T); the local residual ||X_r - W_r H||^2 of the current iterate;
///   2. W update (rows are local, no communication):
///      MU (Lee & Seung 2001, eq. 4): W <- W * (X H^T) / (W H H^T);
///      HALS (Cichocki & Phan 2009): for t = 1..k, w_t <- max(0, w_t - (W (HH^T)_{:,t} - (XH^T)_{:,t}) / (HH^T)_tt);
///   3. ONE all-reduce of [W^T X | blocks W_m^T W_m | residuals];
///   4. the tolerance test on the residuals (iterate before this iteration's W update, which a converging model
///      takes back from a copy saved at check iterations);
///   5. H update (replicated): MU: H <- H * (W^T X) / (W^T W H); HALS: row-wise Gauss-Seidel as for W.
enum FrobeniusSolver {
    struct Model {
        var k: Int
        var w: [Float]
        var h: [Float]
        var iterations = 0
        var converged = false
        var done = false
        var history: [NMFCheckpoint] = []
        var initialError = 0.0
        var previousError = 0.0
    }

    static func run(_ block: NMFDataBlock, models input: [Model], options: NMFOptions,
                    reduction: Reduction) -> [Model] {
        var models = input
        let n = block.rows, p = block.columns, eps = options.epsilon
        var active = Array(models.indices)
        var iteration = 0
        while !active.isEmpty && iteration < options.maxIterations {
            // Pack the active models into the stack.
            let ks = active.map { models[$0].k }
            var offsets = [0]
            for k in ks { offsets.append(offsets.last! + k) }
            let width = offsets.last!
            var w = [Float](repeating: 0, count: n * width)
            var h = [Float](repeating: 0, count: width * p)
            for (slot, m) in active.enumerated() {
                let k = ks[slot], o = offsets[slot]
                for i in 0 ..< n { for c in 0 ..< k { w[i * width + o + c] = models[m].w[i * k + c] } }
                for r in 0 ..< k { for j in 0 ..< p { h[(o + r) * p + j] = models[m].h[r * p + j] } }
            }
            var blockOffsets = [0]
            for k in ks { blockOffsets.append(blockOffsets.last! + k * k) }
            let state = StackState(n: n, p: p, width: width, ks: ks, offsets: offsets, blockOffsets: blockOffsets)
            let finished = state.iterate(block: block, w: &w, h: &h, models: &models, active: active,
                                         startIteration: iteration, options: options, eps: eps, reduction: reduction)
            iteration = finished.iteration
            // Unpack every active model's factors (a converged model was restored to its checked iterate).
            for (slot, m) in active.enumerated() {
                let k = ks[slot], o = offsets[slot]
                for i in 0 ..< n { for c in 0 ..< k { models[m].w[i * k + c] = w[i * width + o + c] } }
                for r in 0 ..< k { for j in 0 ..< p { models[m].h[r * p + j] = h[(o + r) * p + j] } }
                if !models[m].done { models[m].iterations = iteration }
            }
            active = active.filter { !models[$0].done }
        }
        for m in models.indices where !models[m].done { models[m].iterations = options.maxIterations }
        return models
    }

    /// The layout of one stack; `iterate` runs until a model converges or the iteration budget ends.
    struct StackState {
        let n: Int, p: Int, width: Int
        let ks: [Int], offsets: [Int], blockOffsets: [Int]

        func iterate(block: NMFDataBlock, w: inout [Float], h: inout [Float], models: inout [Model],
                     active: [Int], startIteration: Int, options: NMFOptions, eps: Float,
                     reduction: Reduction) -> (iteration: Int, anyConverged: Bool) {
            let hals = options.solver == .hals
            let gramSize = blockOffsets.last!
            let mCount = ks.count
            var xht = [Float](repeating: 0, count: n * width)
            var whh = [Float](repeating: 0, count: n * width)
            var hht = [Float](repeating: 0, count: gramSize)
            var wtwFull = [Float](repeating: 0, count: width * width)
            var packet = [Float](repeating: 0, count: width * p + gramSize + mCount)
            var savedW = [Float]()
            var hRow = [Float](repeating: 0, count: p)
            var denominator = [Float](repeating: 0, count: hals ? 1 : width * p)
            var iteration = startIteration

            return block.values.withUnsafeBufferPointer { xb -> (Int, Bool) in
                let x = xb.base
                var xx = 0.0
                for i in 0 ..< n * p { xx += Double(x[i]) * Double(x[i]) }
                while iteration < options.maxIterations {
                    let check = iteration % options.checkInterval == 0
                    var residuals = [Double](repeating: 0, count: mCount)
                    w.withUnsafeMutableBufferPointer { wb in
                    h.withUnsafeMutableBufferPointer { hb in
                    xht.withUnsafeMutableBufferPointer { xhtb in
                    whh.withUnsafeMutableBufferPointer { whhb in
                    hht.withUnsafeMutableBufferPointer { hhtb in
                        let W = wb.base, H = hb.base
                        let XHt = xhtb.base, WHH = whhb.base, HHt = hhtb.base
                        // 1. X H^T (one wide product), H_m H_m^T, W_m (H_m H_m^T).
                        if n > 0 {
                            BLAS.gemm(transB: true, m: n, n: width, k: p, a: x, lda: p, b: H, ldb: p,
                                      c: XHt, ldc: width)
                        }
                        for s in 0 ..< mCount {
                            let k = ks[s], o = offsets[s], g = HHt + blockOffsets[s]
                            BLAS.gemm(transB: true, m: k, n: k, k: p, a: H + o * p, lda: p, b: H + o * p, ldb: p,
                                      c: g, ldc: k)
                            if n > 0 {
                                BLAS.gemm(m: n, n: k, k: k, a: W + o, lda: width, b: g, ldb: k, c: WHH + o, ldc: width)
                            }
                        }
                        // Local residual ||X_r - W_r H_m||^2 = ||X_r||^2 - 2 <XH^T, W> + <W HH^T, W>.
                        for s in 0 ..< mCount {
                            let k = ks[s], o = offsets[s]
                            var cross = 0.0, quad = 0.0
                            for i in 0 ..< n {
                                let row = i * width + o
                                for c in 0 ..< k {
                                    cross += Double(XHt[row + c]) * Double(W[row + c])
                                    quad += Double(WHH[row + c]) * Double(W[row + c])
                                }
                            }
                            residuals[s] = max(xx - 2 * cross + quad, 0)
                        }
                        if check { savedW = Array(wb) }
                        // 2. W update.
                        for s in 0 ..< mCount {
                            let k = ks[s], o = offsets[s]
                            if hals {
                                let g = HHt + blockOffsets[s]
                                for i in 0 ..< n {
                                    let wr = W + i * width + o, xr = XHt + i * width + o
                                    for t in 0 ..< k {
                                        let hess = g[t * k + t]
                                        guard hess > 0 else { continue }
                                        var grad = -xr[t]
                                        for r in 0 ..< k { grad += g[t * k + r] * wr[r] }
                                        let step = grad / hess
                                        if step.isFinite { wr[t] = max(wr[t] - step, 0) }
                                    }
                                }
                            } else {
                                for i in 0 ..< n {
                                    let row = i * width + o
                                    for c in 0 ..< k {
                                        W[row + c] *= XHt[row + c] / max(WHH[row + c], eps)
                                    }
                                }
                            }
                        }
                    }}}}}
                    // 3. Partial W^T X, W_m^T W_m and residuals in one buffer; one all-reduce.
                    w.withUnsafeBufferPointer { wb in
                    wtwFull.withUnsafeMutableBufferPointer { wtwb in
                    packet.withUnsafeMutableBufferPointer { pb in
                        let W = wb.base, P = pb.base
                        BLAS.gemm(transA: true, m: width, n: p, k: n, a: W, lda: width, b: x, ldb: p, c: P, ldc: p)
                        BLAS.gemm(transA: true, m: width, n: width, k: n, a: W, lda: width, b: W, ldb: width,
                                  c: wtwb.base, ldc: width)
                        for s in 0 ..< mCount {
                            let k = ks[s], o = offsets[s], dst = P + width * p + blockOffsets[s]
                            for r in 0 ..< k { for c in 0 ..< k { dst[r * k + c] = wtwb[(o + r) * width + o + c] } }
                            P[width * p + gramSize + s] = Float(residuals[s])
                        }
                    }}}
                    reduction.sum(&packet)
                    // 4. Tolerance test (scikit-learn: (e_prev - e) / e_0 < tol, every checkInterval iterations).
                    var anyConverged = false
                    if check {
                        for s in 0 ..< mCount {
                            let m = active[s]
                            let error = Double(max(packet[width * p + gramSize + s], 0)).squareRoot()
                            models[m].history.append(NMFCheckpoint(iteration: iteration, error: error))
                            if iteration == 0 {
                                models[m].initialError = error
                                models[m].previousError = error
                                if error == 0 { models[m].converged = true }
                            } else if options.tolerance > 0 {
                                let decrease = (models[m].previousError - error) / max(models[m].initialError, 1e-300)
                                if decrease < options.tolerance { models[m].converged = true }
                                models[m].previousError = error
                            }
                            if models[m].converged {
                                models[m].done = true
                                models[m].iterations = iteration
                                anyConverged = true
                                let k = ks[s], o = offsets[s]
                                for i in 0 ..< n { for c in 0 ..< k { w[i * width + o + c] = savedW[i * width + o + c] } }
                            }
                        }
                    }
                    // 5. H update of the models still running.
                    packet.withUnsafeBufferPointer { pb in
                    h.withUnsafeMutableBufferPointer { hb in
                    hRow.withUnsafeMutableBufferPointer { rowb in
                    denominator.withUnsafeMutableBufferPointer { db in
                        let P = pb.base, H = hb.base, y = rowb.base, D = db.base
                        for s in 0 ..< mCount where !models[active[s]].done {
                            let k = ks[s], o = offsets[s]
                            let wtx = P + o * p, wtw = P + width * p + blockOffsets[s], hm = H + o * p
                            if hals {
                                for t in 0 ..< k {
                                    let hess = wtw[t * k + t]
                                    guard hess > 0 else { continue }
                                    // y = H_m^T (W^T W)_{t,:}, with rows < t already updated (Gauss-Seidel).
                                    BLAS.gemv(trans: true, m: k, n: p, a: hm, lda: p, x: wtw + t * k, y: y)
                                    let ht = hm + t * p, gt = wtx + t * p
                                    let inv = 1 / hess
                                    if inv.isFinite {
                                        for j in 0 ..< p { ht[j] = max(ht[j] - (y[j] - gt[j]) * inv, 0) }
                                    }
                                }
                            } else {
                                // Jacobi-style MU: the denominator (W^T W) H uses this iteration's H throughout.
                                let d = D + o * p
                                BLAS.gemm(m: k, n: p, k: k, a: wtw, lda: k, b: hm, ldb: p, c: d, ldc: p)
                                for i in 0 ..< k * p { hm[i] *= wtx[i] / max(d[i], eps) }
                            }
                        }
                    }}}}
                    iteration += 1
                    if anyConverged { return (iteration, true) }
                }
                return (iteration, false)
            }
        }
    }
}
