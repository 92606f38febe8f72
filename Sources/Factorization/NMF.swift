/// Non-negative matrix factorisation X ~ W H of a row-distributed data matrix.
///
/// Every rank calls the same function with its own `NMFDataBlock` and a `Reduction` that sums buffers over the
/// ranks; W stays local (the rank's scan positions), H is replicated. Each solver iteration makes exactly one
/// all-reduce (W^T X and W^T W, or W^T (X/WH) and the column sums of W, packed with the scalars of the stopping
/// test); initialisation and the final exact evaluation add a few more, once per fit.
public enum NMF {
    /// Fits one k. `svd` may carry a precomputed truncated SVD of rank >= k (shared across a k-sweep) for NNDSVD.
    public static func fit(_ block: NMFDataBlock, options: NMFOptions, reduction: Reduction = .identity,
                           svd: TruncatedSVD? = nil) throws -> NMFFit {
        try fitSeveral(block, components: [options.components], options: options, reduction: reduction,
                       stacked: false, svd: svd)[0]
    }

    /// Fits several k on the same data. With `stacked` (Frobenius loss only; KL fits run one after another) the
    /// models advance together and share one wide sgemm per product over X: see `FrobeniusSolver`. Results equal
    /// those of separate `fit` calls with the same options (to float rounding). The NNDSVD starts come from one
    /// truncated SVD of rank max(k) unless `svd` is given.
    public static func fitSeveral(_ block: NMFDataBlock, components: [Int], options: NMFOptions,
                                  reduction: Reduction = .identity, stacked: Bool = true,
                                  svd: TruncatedSVD? = nil) throws -> [NMFFit] {
        guard !components.isEmpty else {
            throw NMFError.invalidParameter(name: "components", value: "[]", expected: "at least one k")
        }
        for k in components {
            var o = options
            o.components = k
            try o.validate(rows: block.totalRows, columns: block.columns)
        }
        var decomposition = svd
        let needsSVD = options.initialization == .nndsvd || options.initialization == .nndsvda
        if needsSVD, decomposition == nil || decomposition!.rank < components.max()! {
            if stacked || components.count > 1 {
                decomposition = try TruncatedSVD.compute(block, rank: components.max()!,
                                                         oversampling: options.svdOversampling,
                                                         iterations: options.svdIterations,
                                                         seed: options.svdSeed, reduction: reduction)
            }
        }
        var models: [FrobeniusSolver.Model] = []
        for k in components {
            let start = try Initialization.factors(for: block, k: k, method: options.initialization,
                                                   svd: decomposition, options: options, reduction: reduction)
            models.append(FrobeniusSolver.Model(k: k, w: start.w, h: start.h))
        }
        switch options.loss {
        case .frobenius:
            if stacked {
                models = FrobeniusSolver.run(block, models: models, options: options, reduction: reduction)
            } else {
                models = models.map { FrobeniusSolver.run(block, models: [$0], options: options, reduction: reduction)[0] }
            }
        case .kullbackLeibler:
            models = models.map { KullbackLeiblerSolver.run(block, model: $0, options: options, reduction: reduction) }
        }
        // Exact quality of every model: one all-reduce of 4 doubles per model.
        var sums: [Double] = []
        for model in models {
            let partial = model.w.withUnsafeBufferPointer { w in
                model.h.withUnsafeBufferPointer { h in
                    Evaluation.partialSums(block, w: w.base, ldw: model.k, h: h.base, k: model.k,
                                           withKL: options.loss == .kullbackLeibler, epsilon: options.epsilon)
                }
            }
            sums.append(contentsOf: partial)
        }
        reduction.sumDouble(&sums)
        let elements = Double(block.totalRows) * Double(block.columns)
        return models.enumerated().map { index, model in
            NMFFit(components: model.k, localRows: block.rows, columns: block.columns, w: model.w, h: model.h,
                   iterations: model.iterations, converged: model.converged, history: model.history,
                   quality: Evaluation.quality(from: sums[4 * index ..< 4 * index + 4], loss: options.loss,
                                               elements: elements))
        }
    }
}
