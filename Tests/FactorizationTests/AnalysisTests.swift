import Testing
import STEMCore
import Factorization

@Suite("Overlap maps, labels, agreement, planning, K-component loss")
struct AnalysisTests {
    /// Hand-made weights (7 positions x 4 components, global range 0 ... 1), component 0 = background.
    static let weights: [Float] = [
        1.0, 0.2, 0.1, 0.0,   // background, w2/w1 = 0.2 < 0.65: stays background
        1.0, 0.7, 0.6, 0.0,   // background, 0.7 >= 0.65: relabel 1; overlap 1-2 at 0.6/0.7 = 0.857
        0.0, 1.0, 0.8, 0.0,   // label 1, overlap with 2 at 0.8
        0.9, 1.0, 0.0, 0.0,   // label 1, second is the background: no overlap
        0.0, 0.0, 1.0, 0.96,  // label 2, overlap with 3 at 0.96
        0.0, 0.5, 0.0, 0.3,   // label 1, 0.6 < 0.75: no overlap
        0.8, 0.5, 0.0, 0.0,   // background, 0.625 < 0.65: stays background
    ]

    @Test("Background relabel (0.65), overlap (0.75) and evolution (0.75 ... 0.95) rules")
    func overlapRules() throws {
        let maps = try OverlapAnalysis.maps(weights: Self.weights, components: 4, background: 0)
        #expect(maps.labels == [0, 1, 1, 1, 2, 1, 0])
        #expect(maps.overlapPartner == [-1, 2, 2, -1, 3, -1, -1])
        #expect(maps.evolution == [0, 3, 2, 0, 5, 0, 0])
        // Global min-max normalisation: scaling all weights changes nothing.
        let scaled = try OverlapAnalysis.maps(weights: Self.weights.map { $0 * 4 }, components: 4, background: 0)
        #expect(scaled == maps)
        // A range given from other ranks is used as is: with max 2 every ratio is unchanged but computed on w / 2.
        let ranged = try OverlapAnalysis.maps(weights: Self.weights, components: 4, background: 0, range: 0 ... 2)
        #expect(ranged == maps)
        // Without a background component, position 3 overlaps 1-0 at 0.9, position 1 (0.7) does not overlap.
        let plain = try OverlapAnalysis.maps(weights: Self.weights, components: 4, background: nil)
        #expect(plain.labels == [0, 0, 1, 1, 2, 1, 0])
        #expect(plain.overlapPartner == [-1, -1, 2, 0, 3, -1, -1])
        #expect(OverlapAnalysis.hardLabels(weights: Self.weights, components: 4) == [0, 0, 1, 1, 2, 1, 0])
        #expect(throws: NMFError.self) { try OverlapAnalysis.maps(weights: Self.weights, components: 4, background: 4) }
        // All-zero weights: no NaN, no overlap.
        let zero = try OverlapAnalysis.maps(weights: [Float](repeating: 0, count: 8), components: 4, background: 0)
        #expect(zero.overlapPartner == [-1, -1] && zero.evolution == [0, 0])
    }

    @Test("Background detection picks the pattern with the least intensity outside the direct beam")
    func backgroundDetection() {
        // Component 0: beam plus two strong spots; component 1: beam only (vacuum); 9 x 9 patterns.
        var h = [Float](repeating: 0, count: 2 * 81)
        h[40] = 5; h[10] = 2; h[70] = 2
        h[81 + 40] = 5; h[81 + 41] = 1
        #expect(OverlapAnalysis.detectBackground(components: h, components: 2, rows: 9, columns: 9, beamRadius: 1.5) == 1)
    }

    @Test("Adjusted Rand index against hand-computed values")
    func adjustedRand() throws {
        // Contingency {2, 1, 1}: index 1, row pairs 2, column pairs 1, C(4, 2) = 6: (1 - 1/3) / (1.5 - 1/3) = 4/7.
        #expect(abs(try ClusterAgreement.adjustedRandIndex([0, 0, 1, 1], [0, 0, 1, 2]) - 4.0 / 7.0) < 1e-12)
        // Contingency [[2, 1], [1, 2]]: index 2, expected 36/15, max 6: (2 - 2.4) / (6 - 2.4) = -1/9.
        #expect(abs(try ClusterAgreement.adjustedRandIndex([0, 0, 0, 1, 1, 1], [0, 1, 0, 1, 0, 1]) + 1.0 / 9.0) < 1e-12)
        #expect(try ClusterAgreement.adjustedRandIndex([3, 3, 1, 1, 2], [0, 0, 5, 5, 7]) == 1)
        #expect(try ClusterAgreement.adjustedRandIndex([1, 1, 1], [2, 2, 2]) == 1)
        #expect(throws: NMFError.self) { try ClusterAgreement.adjustedRandIndex([1, 2], [1]) }
    }

    @Test("k values are balanced over groups by cost (LPT)")
    func sweepPlan() throws {
        let plan = try KSweepPlan.balance(ks: Array(2 ... 10), groups: 2)
        #expect(plan.groups == [[2, 3, 6, 7, 10], [4, 5, 8, 9]])
        #expect(plan.loads == [28, 26])
        #expect(plan.group(of: 8) == 1)
        let one = try KSweepPlan.balance(ks: [3, 4, 5], groups: 1)
        #expect(one.groups == [[3, 4, 5]])
        let affine = try KSweepPlan.balance(ks: Array(2 ... 10), groups: 3, cost: { 10 + Double($0) })
        #expect(affine.groups.map(\.count) == [3, 3, 3])
        #expect(throws: NMFError.self) { try KSweepPlan.balance(ks: [2, 2], groups: 2) }
        #expect(throws: NMFError.self) { try KSweepPlan.balance(ks: [2], groups: 0) }
    }

    @Test("Area-average downsampling: exact block means and fractional footprints")
    func downsampling() {
        let detector = DetectorShape(rows: 3, columns: 3)
        let out = ComponentLoss.downsample([1, 2, 3, 4, 5, 6, 7, 8, 9], count: 1, detector: detector, size: 2)
        // Output (0, 0) covers rows 0 ... 1.5 and columns 0 ... 1.5: (4*1 + 2*2 + 2*4 + 5) / 9.
        #expect(abs(out[0] - 21.0 / 9.0) < 1e-5)
        #expect(abs(out.reduce(0, +) / 4 - 5) < 1e-5)
        var big = [Float](repeating: 0, count: 2 * 256 * 256)
        for i in big.indices { big[i] = Float(i % 977) }
        let small = ComponentLoss.downsample(big, count: 2, detector: DetectorShape(rows: 256, columns: 256), size: 128)
        for (n, r, c) in [(0, 0, 0), (1, 77, 5), (1, 127, 127)] {
            var s: Float = 0
            for i in 0 ..< 2 { for j in 0 ..< 2 { s += big[n * 65536 + (2 * r + i) * 256 + 2 * c + j] } }
            #expect(abs(small[n * 16384 + r * 128 + c] - s / 4) < 1e-3)
        }
    }

    @Test("K-component loss is the KL fit's mean absolute error on [0, 1]-scaled 128 x 128 data")
    func componentLoss() throws {
        let (x, _, _) = plantedMatrix(n: 24, p: 256 * 256 / 64, k: 3, seed: 8)
        // 24 patterns of 32 x 32, area-averaged to 16 x 16 for speed.
        let block = try ComponentLoss.prepare(x, count: 24, detector: DetectorShape(rows: 32, columns: 32), size: 16)
        #expect(block.values.max() == 1 && block.values.min()! >= 0)
        let results = try ComponentLoss.losses(block, ks: [1, 2, 3, 4])
        for r in results {
            var mae = 0.0
            for i in 0 ..< 24 {
                for j in 0 ..< 256 {
                    var v: Float = 0
                    for t in 0 ..< r.k { v += r.fit.w[i * r.k + t] * r.fit.h[t * 256 + j] }
                    mae += Double(abs(block.values[i * 256 + j] - v))
                }
            }
            #expect(abs(r.loss - mae / Double(24 * 256)) < 1e-6)
            #expect(r.fit.iterations <= 200)
        }
        #expect(results[2].loss < 0.2 * results[0].loss)
    }

    @Test("Representative patterns, per-label raw means over emulated ranks, pairwise tables")
    func componentAnalysis() throws {
        let k = 3, p = 16 * 16, n = 12
        var rng = TestRandom(12)
        let h = (0 ..< k * p).map { _ in rng.uniform() * 0.5 }
        let w = (0 ..< n * k).map { _ in rng.uniform() * 2 }
        let raw = (0 ..< n * p).map { _ in rng.uniform() }
        let labels = OverlapAnalysis.hardLabels(weights: w, components: k)
        let maxima = ComponentAnalysis.maximumWeights(w: w, components: k)
        let representative = ComponentAnalysis.representativePatterns(h: h, components: k, maximumWeights: maxima)
        for c in 0 ..< k { #expect(representative[c * p + 7] == h[c * p + 7] * maxima[c]) }
        let whole = try ComponentAnalysis.meanPatternsByLabel(patterns: raw, columns: p, labels: labels, components: k)
        let split = try InProcessRanks.run(ranks: 2) { rank, reduction in
            let rows = rank * 6 ..< rank * 6 + 6
            let maxima2 = ComponentAnalysis.maximumWeights(w: Array(w[rows.lowerBound * k ..< rows.upperBound * k]),
                                                           components: k, reduction: reduction)
            let means = try ComponentAnalysis.meanPatternsByLabel(patterns: Array(raw[rows.lowerBound * p ..< rows.upperBound * p]),
                                                                  columns: p, labels: Array(labels[rows]), components: k,
                                                                  reduction: reduction)
            return (maxima2, means)
        }
        #expect(split[0].0 == maxima && split[1].0 == maxima)
        #expect(split[0].1.counts == whole.counts && whole.counts.reduce(0, +) == n)
        #expect(maxRelativeDifference(split[1].1.means, whole.means) < 1e-6)
        let images = ComponentAnalysis.images(representative, count: k, rows: 16, columns: 16)
        let tables = try ComponentAnalysis.pairwiseTables(images)
        #expect(tables.map(\.metric) == ImageQualityMetric.allCases)
        let psnr = tables[0]
        for j in 0 ..< k {
            let others = (0 ..< k).filter { $0 != j }.map { psnr.values[$0 * k + j] }
            #expect(abs(psnr.columnMeans[j] - others.reduce(0, +) / Double(k - 1)) < 1e-12)
            #expect(psnr.values[j * k + j] == 80)
        }
        let rawImages = ComponentAnalysis.images(whole.means, count: k, rows: 16, columns: 16)
        let versus = try ComponentAnalysis.componentVersusRaw(representatives: images, rawMeans: rawImages,
                                                              counts: whole.counts)
        let ssim = versus[1]
        let present = ssim.values.compactMap { $0 }
        #expect(abs(ssim.mean - present.reduce(0, +) / Double(present.count)) < 1e-12)
    }
}
