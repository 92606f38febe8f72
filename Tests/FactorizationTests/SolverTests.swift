import Testing
import Factorization

@Suite("NMF solvers")
struct SolverTests {
    @Test("HALS recovers a planted rank-4 non-negative factorisation to relative error < 1e-3")
    func plantedRecovery() throws {
        let (x, _, _) = plantedMatrix(n: 80, p: 60, k: 4, seed: 1)
        let block = try NMFDataBlock(values: x, rows: 80, columns: 60)
        var options = NMFOptions(components: 4, solver: .hals, initialization: .nndsvd, maxIterations: 3000,
                                 tolerance: 0)
        options.checkInterval = 50
        let fit = try NMF.fit(block, options: options)
        #expect(fit.quality.relativeError < 1e-3)
        #expect(fit.w.allSatisfy { $0 >= 0 && $0.isFinite } && fit.h.allSatisfy { $0 >= 0 && $0.isFinite })
    }

    @Test("Multiplicative updates never increase the objective", arguments: [NMFLoss.frobenius, .kullbackLeibler])
    func monotone(loss: NMFLoss) throws {
        var rng = TestRandom(7)
        let n = 40, p = 35
        let x = (0 ..< n * p).map { _ in rng.uniform() * rng.uniform() * 3 }
        let block = try NMFDataBlock(values: x, rows: n, columns: p)
        var options = NMFOptions(components: 5, loss: loss, solver: .multiplicative,
                                 initialization: .random(seed: 3), maxIterations: 150, tolerance: 0)
        options.checkInterval = 1
        let fit = try NMF.fit(block, options: options)
        #expect(fit.history.count == 150)
        for (a, b) in zip(fit.history, fit.history.dropFirst()) {
            #expect(b.error <= a.error * (1 + 2e-6), "iteration \(b.iteration): \(b.error) > \(a.error)")
        }
        #expect(fit.history.last!.error < 0.8 * fit.history.first!.error)
    }

    @Test("1, 2 and 4 emulated ranks give the same factors", arguments: [NMFSolver.hals, .multiplicative])
    func rankInvariance(solver: NMFSolver) throws {
        let (x, _, _) = plantedMatrix(n: 37, p: 30, k: 3, seed: 5)
        var options = NMFOptions(components: 3, solver: solver, initialization: .nndsvda, maxIterations: 60,
                                 tolerance: 0)
        options.svdSeed = 11
        let fixed = options
        var reference: [Float] = [], referenceH: [Float] = []
        for ranks in [1, 2, 4] {
            let blocks = try NMFDataBlock.partition(x, rows: 37, columns: 30, parts: ranks)
            let fits = try InProcessRanks.run(ranks: ranks) { rank, reduction in
                try NMF.fit(blocks[rank], options: fixed, reduction: reduction)
            }
            let w = fits.flatMap(\.w)
            for f in fits { #expect(f.h == fits[0].h) }
            if ranks == 1 { reference = w; referenceH = fits[0].h } else {
                #expect(maxRelativeDifference(w, reference) < 1e-3)
                #expect(maxRelativeDifference(fits[0].h, referenceH) < 1e-3)
            }
        }
    }

    @Test("KL and random start are partition-independent too")
    func rankInvarianceKL() throws {
        let (x, _, _) = plantedMatrix(n: 30, p: 24, k: 3, seed: 9)
        let options = NMFOptions(components: 3, loss: .kullbackLeibler, initialization: .random(seed: 4),
                                 maxIterations: 40, tolerance: 0)
        let one = try NMF.fit(try NMFDataBlock(values: x, rows: 30, columns: 24), options: options)
        let blocks = try NMFDataBlock.partition(x, rows: 30, columns: 24, parts: 4)
        let fits = try InProcessRanks.run(ranks: 4) { rank, reduction in
            try NMF.fit(blocks[rank], options: options, reduction: reduction)
        }
        #expect(maxRelativeDifference(fits.flatMap(\.w), one.w) < 1e-3)
        #expect(maxRelativeDifference(fits[0].h, one.h) < 1e-3)
        #expect(abs(fits[0].quality.divergence - one.quality.divergence) <= 1e-4 * one.quality.divergence)
    }

    /// The stacked fits do the same arithmetic as separate fits up to the order of the sums inside the
    /// matrix products: with a fixed number of iterations they agree to float precision; with a tolerance, the
    /// stopping test (every `checkInterval` iterations) may fire one check apart when the relative decrease is
    /// within rounding of the tolerance, and the fits then agree to the size of one check's progress.
    @Test("Stacked k-sweep equals separate fits", arguments: [NMFSolver.hals, .multiplicative])
    func stackedEqualsSeparate(solver: NMFSolver) throws {
        let (x, _, _) = plantedMatrix(n: 50, p: 40, k: 5, seed: 3)
        let block = try NMFDataBlock(values: x, rows: 50, columns: 40)
        let svd = try TruncatedSVD.compute(block, rank: 6)
        let ks = [2, 3, 4, 6]
        for tolerance in [0.0, 1e-4] {
            let options = NMFOptions(components: 2, solver: solver, initialization: .nndsvd,
                                     maxIterations: tolerance == 0 ? 60 : 120, tolerance: tolerance)
            let stacked = try NMF.fitSeveral(block, components: ks, options: options, stacked: true, svd: svd)
            for (index, k) in ks.enumerated() {
                var o = options
                o.components = k
                let single = try NMF.fit(block, options: o, svd: svd)
                #expect(stacked[index].components == k)
                if tolerance == 0 {
                    #expect(stacked[index].iterations == single.iterations)
                    #expect(maxRelativeDifference(stacked[index].w, single.w) < 1e-3)
                    #expect(maxRelativeDifference(stacked[index].h, single.h) < 1e-3)
                    #expect(abs(stacked[index].quality.relativeError - single.quality.relativeError) < 1e-5)
                } else {
                    #expect(abs(stacked[index].iterations - single.iterations) <= options.checkInterval)
                    #expect(abs(stacked[index].quality.relativeError - single.quality.relativeError) < 1e-4)
                }
            }
        }
    }

    @Test("All-zero rows and columns and negative input give no NaN", arguments: [NMFSolver.hals, .multiplicative])
    func degenerateInput(solver: NMFSolver) throws {
        var rng = TestRandom(2)
        let n = 20, p = 16
        var x = (0 ..< n * p).map { _ in rng.uniform() - 0.2 }
        for j in 0 ..< p { x[3 * p + j] = 0; x[11 * p + j] = 0 }
        for i in 0 ..< n { x[i * p + 5] = 0 }
        #expect(throws: NMFError.self) { try NMFDataBlock(values: x, rows: n, columns: p, negatives: .reject) }
        let block = try NMFDataBlock(values: x, rows: n, columns: p)
        #expect(block.clippedCount > 0 && block.values.allSatisfy { $0 >= 0 })
        for loss in solver == .hals ? [NMFLoss.frobenius] : [.frobenius, .kullbackLeibler] {
            for initialization in [NMFInitialization.nndsvd, .nndsvda, .random(seed: 1)] {
                let fit = try NMF.fit(block, options: NMFOptions(components: 6, loss: loss, solver: solver,
                                                                 initialization: initialization, maxIterations: 50))
                #expect(fit.w.allSatisfy { $0.isFinite && $0 >= 0 } && fit.h.allSatisfy { $0.isFinite && $0 >= 0 })
                #expect(fit.quality.relativeError.isFinite && fit.quality.divergence.isFinite)
                for j in 0 ..< 6 { #expect(fit.w[3 * 6 + j] == 0 && fit.w[11 * 6 + j] == 0) }
            }
        }
        // An all-zero matrix.
        let zero = try NMFDataBlock(values: [Float](repeating: 0, count: n * p), rows: n, columns: p)
        let fit = try NMF.fit(zero, options: NMFOptions(components: 2, solver: solver, initialization: .nndsvda))
        #expect(fit.w.allSatisfy { $0 == 0 } || fit.h.allSatisfy { $0 == 0 })
        #expect(fit.quality.relativeError == 0)
    }

    @Test("Bad parameters are typed errors")
    func badParameters() throws {
        let block = try NMFDataBlock(values: [Float](repeating: 1, count: 12), rows: 3, columns: 4)
        #expect(throws: NMFError.tooManyComponents(k: 4, rows: 3, columns: 4)) {
            try NMF.fit(block, options: NMFOptions(components: 4))
        }
        #expect(throws: NMFError.self) { try NMF.fit(block, options: NMFOptions(components: 0)) }
        #expect(throws: NMFError.self) {
            try NMF.fit(block, options: NMFOptions(components: 2, loss: .kullbackLeibler, solver: .hals))
        }
        #expect(throws: NMFError.self) { try NMFDataBlock(values: [1, .nan, 2, 3], rows: 2, columns: 2) }
        #expect(throws: NMFError.self) { try NMFDataBlock(values: [1, 2, 3], rows: 2, columns: 2) }
    }

    @Test("Distributed randomized SVD matches the planted singular values")
    func truncatedSVD() throws {
        // X = U diag(s) V^T with orthonormal U (40 x 5), V (30 x 5) from Gram-Schmidt of random vectors.
        let n = 40, p = 30, r = 5
        var rng = TestRandom(4)
        func orthonormal(_ rows: Int) -> [[Double]] {
            var basis: [[Double]] = []
            while basis.count < r {
                var v = (0 ..< rows).map { _ in Double(rng.uniform()) - 0.5 }
                for b in basis { let d = zip(v, b).reduce(0) { $0 + $1.0 * $1.1 }; v = zip(v, b).map { $0 - d * $1 } }
                let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
                basis.append(v.map { $0 / norm })
            }
            return basis
        }
        let u = orthonormal(n), v = orthonormal(p)
        let s: [Double] = [9, 5, 3, 1.5, 0.7]
        var x = [Float](repeating: 0, count: n * p)
        for i in 0 ..< n { for j in 0 ..< p { x[i * p + j] = Float((0 ..< r).reduce(0.0) { $0 + s[$1] * u[$1][i] * v[$1][j] }) } }
        let blocks = (0 ..< 2).map { part -> [Float] in Array(x[part * 20 * p ..< (part + 1) * 20 * p]) }
        let results = try InProcessRanks.run(ranks: 2) { rank, reduction in
            let block = try NMFDataBlock(unchecked: blocks[rank], rows: 20, columns: p, firstRow: rank * 20, totalRows: n)
            return try TruncatedSVD.compute(block, rank: 4, reduction: reduction)
        }
        for c in 0 ..< 4 {
            #expect(abs(Double(results[0].singularValues[c]) - s[c]) < 1e-4 * s[0])
            // |<v_c, v_true>| = 1 and |<u_c, u_true>| = 1.
            let dv = (0 ..< p).reduce(0.0) { $0 + Double(results[0].rightVectors[c * p + $1]) * v[c][$1] }
            var du = 0.0
            for rank in 0 ..< 2 { for i in 0 ..< 20 { du += Double(results[rank].leftVectors[i * 4 + c]) * u[c][rank * 20 + i] } }
            #expect(abs(abs(dv) - 1) < 1e-4 && abs(abs(du) - 1) < 1e-4)
        }
    }
}
