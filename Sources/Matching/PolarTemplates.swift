import Foundation

/// A template library laid out for one polar grid: every spot as the offset of its (radius, angle) cell in a polar
/// image (row × stride + angle bin) and its weight, every template's norm √(Σ T_j²). Spots outside the grid's
/// radii are dropped. The same layout on an angular grid 4× coarser serves the pruning pass.
struct PolarTemplates {
    let count: Int
    /// CSR offsets into `offset` / `weight`.
    let start: [Int32]
    let offset: [Int32]
    let weight: [Float]
    let norm: [Float]

    init(library: TemplateLibrary, transform: PolarTransform, angularBins n: Int) {
        let stride = 2 * n
        var start: [Int32] = [0], offset: [Int32] = [], weight: [Float] = [], norm: [Float] = []
        offset.reserveCapacity(library.spotCount); weight.reserveCapacity(library.spotCount)
        let binWidth = 2 * Double.pi / Double(n)
        for t in 0 ..< library.count {
            var ss: Float = 0
            for s in library.spots(of: t) {
                let row = Int(Double(library.spotRadius[s]).rounded()) - transform.minimumRadius
                guard row >= 0, row < transform.radialBins else { continue }
                var a = Int((Double(library.spotAngle[s]) / binWidth).rounded()) % n
                if a < 0 { a += n }
                offset.append(Int32(row * stride + a))
                let w = library.spotIntensity[s]
                weight.append(w)
                ss += w * w
            }
            start.append(Int32(offset.count))
            norm.append(ss.squareRoot())
        }
        count = library.count
        self.start = start; self.offset = offset; self.weight = weight; self.norm = norm
    }
}

/// The correlation kernel: for one template, the numerator Σ_j T_j P(r_j, φ_j + θ_k) and, for the ASTAR
/// normalisation, Σ_j P(r_j, φ_j + θ_k)², for all n in-plane rotations θ_k = 2πk/n at once, each spot adding a
/// contiguous window of its polar row (the row is stored twice, so the window never wraps).
enum PolarCorrelation {
    @inline(__always)
    static func rotationScores(spots: Range<Int>, offset: UnsafePointer<Int32>, weight: UnsafePointer<Float>,
                               polar: UnsafePointer<Float>, n: Int, into score: UnsafeMutablePointer<Float>) {
        // The first spot assigns, the others accumulate.
        let first = polar + Int(offset[spots.lowerBound])
        let w0 = weight[spots.lowerBound]
        for k in 0 ..< n { score[k] = w0 * first[k] }
        for j in spots.dropFirst() {
            let row = polar + Int(offset[j])
            let w = weight[j]
            var k = 0
            while k + 8 <= n {
                let p = UnsafeRawPointer(row + k).loadUnaligned(as: SIMD8<Float>.self)
                let s = UnsafeRawPointer(score + k).loadUnaligned(as: SIMD8<Float>.self)
                UnsafeMutableRawPointer(score + k).storeBytes(of: s + w * p, as: SIMD8<Float>.self)
                k += 8
            }
            while k < n { score[k] += w * row[k]; k += 1 }
        }
    }

    @inline(__always)
    static func squaredSums(spots: Range<Int>, offset: UnsafePointer<Int32>, polarSquared: UnsafePointer<Float>,
                            n: Int, into score: UnsafeMutablePointer<Float>) {
        score.update(repeating: 0, count: n)
        for j in spots {
            let row = polarSquared + Int(offset[j])
            var k = 0
            while k + 8 <= n {
                let p = UnsafeRawPointer(row + k).loadUnaligned(as: SIMD8<Float>.self)
                let s = UnsafeRawPointer(score + k).loadUnaligned(as: SIMD8<Float>.self)
                UnsafeMutableRawPointer(score + k).storeBytes(of: s + p, as: SIMD8<Float>.self)
                k += 8
            }
            while k < n { score[k] += row[k]; k += 1 }
        }
    }

    /// Max of `score[0 ..< n]`, vectorised over 8 lanes (the index is looked up only for the few templates that
    /// enter the candidate list).
    @inline(__always)
    static func maximum(_ score: UnsafePointer<Float>, n: Int) -> Float {
        // Eight independent running maxima (the generic SIMD `pointwiseMax` is not specialised here).
        var m0 = -Float.infinity, m1 = m0, m2 = m0, m3 = m0, m4 = m0, m5 = m0, m6 = m0, m7 = m0
        var k = 0
        while k + 8 <= n {
            let p = score + k
            m0 = p[0] > m0 ? p[0] : m0; m1 = p[1] > m1 ? p[1] : m1
            m2 = p[2] > m2 ? p[2] : m2; m3 = p[3] > m3 ? p[3] : m3
            m4 = p[4] > m4 ? p[4] : m4; m5 = p[5] > m5 ? p[5] : m5
            m6 = p[6] > m6 ? p[6] : m6; m7 = p[7] > m7 ? p[7] : m7
            k += 8
        }
        while k < n { m0 = score[k] > m0 ? score[k] : m0; k += 1 }
        let a = m0 > m1 ? m0 : m1, b = m2 > m3 ? m2 : m3, c = m4 > m5 ? m4 : m5, d = m6 > m7 ? m6 : m7
        let e = a > b ? a : b, f = c > d ? c : d
        return e > f ? e : f
    }

    /// First index of `value` in `score[0 ..< n]`.
    @inline(__always)
    static func index(of value: Float, in score: UnsafePointer<Float>, n: Int) -> Int {
        for k in 0 ..< n where score[k] == value { return k }
        return 0
    }

    /// (max, first index of the max) of `score[0 ..< n]`, vectorised over 8 lanes.
    @inline(__always)
    static func argmax(_ score: UnsafePointer<Float>, n: Int) -> (value: Float, index: Int) {
        var best = SIMD8<Float>(repeating: -.infinity)
        var bestIndex = SIMD8<Int32>(repeating: 0)
        var index = SIMD8<Int32>(0, 1, 2, 3, 4, 5, 6, 7)
        var k = 0
        while k + 8 <= n {
            let v = UnsafeRawPointer(score + k).loadUnaligned(as: SIMD8<Float>.self)
            let better = v .> best
            best.replace(with: v, where: better)
            bestIndex.replace(with: index, where: better)
            index &+= 8
            k += 8
        }
        var value = -Float.infinity, at = 0
        for lane in 0 ..< 8 where best[lane] > value || (best[lane] == value && Int(bestIndex[lane]) < at) {
            value = best[lane]; at = Int(bestIndex[lane])
        }
        while k < n {
            if score[k] > value { value = score[k]; at = k }
            k += 1
        }
        return (value, at)
    }
}
