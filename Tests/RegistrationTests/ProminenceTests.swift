import Testing
import Registration

@Suite struct ProminenceTests {
    func peaks(_ values: [Float], width: Int) -> [Int: Float] {
        let tp = TopographicProminence(pixelCapacity: values.count)
        let found = values.withUnsafeBufferPointer { tp.compute($0, width: width, height: values.count / width) }
        return Dictionary(uniqueKeysWithValues: found.map { ($0.index, $0.prominence) })
    }

    /// 1D landscape 0 3 1 5 2 4 0 6 0: peaks 6 (prominence 6, above the lowest point), 5 (saddle 0 -> 5),
    /// 4 (saddle 2 -> 2), 3 (saddle 1 -> 2).
    @Test func oneDimensionalLandscape() {
        let p = peaks([0, 3, 1, 5, 2, 4, 0, 6, 0], width: 9)
        #expect(p == [7: 6, 3: 5, 5: 2, 1: 2])
    }

    /// 2D: two peaks joined through a saddle of 4; diagonal (8-connected) saddles; a plateau is one peak.
    @Test func twoDimensionalLandscapes() {
        let a: [Float] = [0, 0, 0, 0, 0,
                          0, 9, 4, 7, 0,
                          0, 4, 2, 4, 0,
                          0, 0, 0, 0, 0]
        #expect(peaks(a, width: 5) == [6: 9, 8: 3])
        let diagonal: [Float] = [5, 0, 0,
                                 0, 1, 0,
                                 0, 0, 8]
        #expect(peaks(diagonal, width: 3) == [8: 8, 0: 4])
        let plateau: [Float] = [3, 3, 0, 2]
        #expect(peaks(plateau, width: 4) == [0: 3, 3: 2])
        // A ring-shaped ridge around a pit with one summit: the summit alone has a positive prominence (the
        // ridge pixel visited first is reported with prominence 0, which the detector drops).
        let ring: [Float] = [1, 1, 1,
                             1, 0, 2,
                             1, 1, 1]
        #expect(peaks(ring, width: 3).filter { $0.value > 0 } == [5: 2])
    }

    /// Against a brute-force definition on random images: prominence(p) = v(p) - max over paths to a higher
    /// pixel of the path minimum, computed by repeated flood fill.
    @Test func matchesBruteForceOnRandomImages() {
        var rng = SplitMix64(seed: 42)
        for _ in 0 ..< 20 {
            let w = 9, h = 7
            let img: [Float] = (0 ..< w * h).map { _ in Float(Int(rng.uniform() * 20)) }
            // Pixels of a plateau reached from two sides are reported as peaks of prominence 0 (then dropped by
            // the detector's `prominence > 0`); compare the others.
            let fast = peaks(img, width: w).filter { $0.value > 0 }
            let minimum = img.min()!
            // Brute force: for each local max (ties broken by index, as the watershed does), lower the level
            // from its value until its flood region contains a higher pixel.
            var expected = [Int: Float]()
            for p in 0 ..< w * h {
                func higher(_ q: Int) -> Bool { img[q] > img[p] || (img[q] == img[p] && q < p) }
                let levels = Set(img).filter { $0 <= img[p] }.sorted(by: >)
                var isPeak = true
                var prom: Float = img[p] - minimum
                for level in levels {
                    var seen = Set([p]), stack = [p]
                    var reachesHigher = false
                    while let q = stack.popLast() {
                        if q != p && higher(q) { reachesHigher = true; break }
                        let y = q / w, x = q % w
                        for dy in -1 ... 1 { for dx in -1 ... 1 {
                            let yy = y + dy, xx = x + dx
                            if yy < 0 || yy >= h || xx < 0 || xx >= w { continue }
                            let r = yy * w + xx
                            if img[r] >= level && !seen.contains(r) { seen.insert(r); stack.append(r) }
                        } }
                    }
                    if reachesHigher {
                        if level == img[p] { isPeak = false } else { prom = img[p] - level }
                        break
                    }
                }
                if isPeak { expected[p] = prom }
            }
            #expect(fast == expected)
        }
    }

    /// The bounded fill (`isProminent`) accepts exactly the watershed's peaks with prominence >= threshold
    /// (or no saddle above the floor), on random images with ties, for several thresholds and floors; an
    /// exhausted budget leaves the answer undecided.
    @Test func boundedFillAgreesWithWatershed() {
        var rng = SplitMix64(seed: 7)
        for trial in 0 ..< 40 {
            let w = 11, h = 9
            let img: [Float] = (0 ..< w * h).map { _ in Float(Int(rng.uniform() * 12)) * 0.5 }
            let tp = TopographicProminence(pixelCapacity: img.count)
            for threshold: Float in [0.5, 1, 2.5, 4] {
                let floor: Float = trial % 2 == 0 ? -.infinity : 1.5
                let all = img.withUnsafeBufferPointer { tp.compute($0, width: w, height: h, floor: floor) }
                for pk in all where pk.value - threshold >= floor {
                    let expected = !pk.saddleFound || pk.prominence >= threshold
                    var budget = img.count
                    let fill = img.withUnsafeBufferPointer {
                        tp.isProminent($0, width: w, height: h, peak: pk.index, threshold: threshold, floor: floor,
                                       budget: &budget)
                    }
                    #expect(fill == expected, "trial \(trial), threshold \(threshold), peak \(pk)")
                }
            }
        }
        let ramp: [Float] = (0 ..< 25).map { Float($0 % 5 == 2 ? 10 : 1) }
        let tp = TopographicProminence(pixelCapacity: 25)
        var budget = 2
        let r = ramp.withUnsafeBufferPointer {
            tp.isProminent($0, width: 5, height: 5, peak: 2, threshold: 20, floor: -.infinity, budget: &budget)
        }
        #expect(r == nil && budget == 0)
    }
}
