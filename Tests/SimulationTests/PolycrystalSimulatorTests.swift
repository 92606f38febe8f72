import Crystallography
import Foundation
import STEMCore
import Testing
import Simulation

private func smallParameters(seed: UInt64 = 3) -> SimulationParameters {
    var p = SimulationParameters()
    p.scan = ScanGrid(rows: 12, columns: 10)
    p.detector = DetectorShape(rows: 64, columns: 64)
    p.grainCount = 4
    p.hotPixelCount = 2
    p.seed = seed
    return p
}

@Test func sameSeedSameData() throws {
    let a = try PolycrystalSimulator(parameters: smallParameters())
    let b = try PolycrystalSimulator(parameters: smallParameters())
    let c = try PolycrystalSimulator(parameters: smallParameters(seed: 4))
    let all = 0 ..< a.parameters.scan.count
    let x = try a.generateBlock(all).pixels, y = try b.generateBlock(all).pixels, z = try c.generateBlock(all).pixels
    #expect(x == y)
    #expect(x != z)
    #expect(a.groundTruth.grainID == b.groundTruth.grainID)
    #expect(x.allSatisfy { $0.isFinite && $0 >= 0 && $0 == $0.rounded() })   // Poisson counts
    // The noisy counts scatter around the noise-free expectation: per pattern, the total is within 5σ = 5√total
    // (hot pixels removed).
    let size = a.parameters.detector.pixelCount
    let clean = try a.generateBlock(all, noise: false).pixels
    let hot = Float(a.parameters.hotPixelCount) * Float(a.parameters.hotPixelValue)
    for i in all {
        let noisy = x[(i * size) ..< ((i + 1) * size)].reduce(0, +) - hot
        let expected = clean[(i * size) ..< ((i + 1) * size)].reduce(0, +)
        #expect(abs(noisy - expected) < 5 * expected.squareRoot(), "position \(i): \(noisy) counts vs \(expected) expected")
    }
}

@Test func aRangeEqualsTheSamePositionsOfTheWhole() throws {
    let sim = try PolycrystalSimulator(parameters: smallParameters())
    let n = sim.parameters.scan.count, size = sim.parameters.detector.pixelCount
    let whole = try sim.generateBlock(0 ..< n).pixels
    for range in [17 ..< 43, 0 ..< 1, (n - 5) ..< n] {
        let part = try sim.generateBlock(range).pixels
        #expect(part == Array(whole[(range.lowerBound * size) ..< (range.upperBound * size)]))
    }
    // Bad requests are typed errors, not crashes.
    var small = [Float](repeating: 0, count: size)
    #expect(throws: STEMError.self) { try small.withUnsafeMutableBufferPointer { try sim.generate(positions: 0 ..< 2, into: $0) } }
    #expect(throws: STEMError.self) { try sim.generateBlock(n - 1 ..< n + 1) }
}

@Test func beamCentreTruthMatchesTheDirectBeamCentroid() throws {
    var p = smallParameters()
    p.descanRampX = 5; p.descanRampY = -4; p.descanWobble = 1.5
    let sim = try PolycrystalSimulator(parameters: p)
    let cols = p.detector.columns
    var worst = 0.0
    for index in [0, 9, 55, 119] {
        let pattern = try sim.noiseFreePattern(at: index)
        let tx = sim.groundTruth.beamCentreX[index], ty = sim.groundTruth.beamCentreY[index]
        // Centroid of the direct beam above the local background, in a window around the detector centre that
        // contains the disc wherever descan puts it (no knowledge of the truth used).
        let c0 = Double(cols - 1) / 2
        var sw = 0.0, sx = 0.0, sy = 0.0
        for r in 0 ..< p.detector.rows { for c in 0 ..< cols {
            let dx = Double(c) - c0, dy = Double(r) - c0
            guard dx * dx + dy * dy <= 12 * 12 else { continue }
            let w = max(0, Double(pattern[r * cols + c]) - 0.5 * p.directBeamIntensity)
            sw += w; sx += w * Double(c); sy += w * Double(r)
        } }
        let ex = sx / sw - tx, ey = sy / sw - ty
        worst = max(worst, (ex * ex + ey * ey).squareRoot())
    }
    #expect(worst < 0.1, "largest centroid error \(worst) px")
    // The descan path really moves the centre by several pixels.
    let xs = sim.groundTruth.beamCentreX
    #expect((xs.max()! - xs.min()!) > 4)
}

@Test func fcc001GrainShowsFourFoldSpotsAtTheExpectedRadii() throws {
    var p = SimulationParameters()
    p.scan = ScanGrid(rows: 1, columns: 1)
    p.detector = DetectorShape(rows: 128, columns: 128)
    p.descanRampX = 0; p.descanRampY = 0; p.descanWobble = 0
    let cu = BuiltInPhase.copper.structure
    p.phases = [cu]
    p.grains = [GrainSpecification(row: 0, column: 0, orientation: .zoneAxis(cu.cell.direction(0, 0, 1), inPlane: 0.3))]
    let sim = try PolycrystalSimulator(parameters: p)
    let img = try sim.noiseFreePattern(at: 0)
    let n = 128
    // 4-fold symmetry about the centre (63.5, 63.5): (x, y) → (127 − y, x).
    var maxDiff: Float = 0, maxValue: Float = 0
    for y in 0 ..< n { for x in 0 ..< n {
        maxDiff = max(maxDiff, abs(img[y * n + x] - img[x * n + (n - 1 - y)]))
        maxValue = max(maxValue, img[y * n + x])
    } }
    #expect(maxDiff < 1e-3 * maxValue, "4-fold mismatch \(maxDiff) of \(maxValue)")
    // Local maxima outside the direct beam lie on the {200}, {220}, {400}, {420} ... rings: r = |g| / Δ.
    let allowed = [(2, 0, 0), (2, 2, 0), (4, 0, 0), (4, 2, 0), (4, 4, 0), (6, 0, 0), (6, 2, 0)].map {
        1 / cu.cell.dSpacing($0.0, $0.1, $0.2) / p.reciprocalPixelSize
    }
    var peaks: [Double] = []
    for y in 2 ..< n - 2 { for x in 2 ..< n - 2 {
        let v = img[y * n + x]
        let r = ((Double(x) - 63.5) * (Double(x) - 63.5) + (Double(y) - 63.5) * (Double(y) - 63.5)).squareRoot()
        guard r > p.directBeamRadius + 6, v > 5 else { continue }
        var isMax = true
        for dy in -2 ... 2 { for dx in -2 ... 2 where (dx != 0 || dy != 0) && (img[(y + dy) * n + x + dx] > v) { isMax = false } }
        if isMax { peaks.append(r) }
    } }
    #expect(peaks.count >= 12)
    for r in peaks { #expect(allowed.contains { abs($0 - r) < 1.0 }, "peak at radius \(r) px is on no allowed ring") }
    #expect(peaks.filter { abs($0 - allowed[0]) < 1 }.count == 4)   // four {200}
    #expect(peaks.filter { abs($0 - allowed[1]) < 1 }.count == 4)   // four {220}
    #expect(peaks.filter { abs($0 - allowed[2]) < 1 }.count == 4)   // four {400}
}

@Test func groundTruthIsConsistent() throws {
    var p = SimulationParameters()
    p.scan = ScanGrid(rows: 32, columns: 32)
    p.detector = DetectorShape(rows: 32, columns: 32)
    p.phases = [BuiltInPhase.aluminium.structure, BuiltInPhase.silicon.structure]
    p.grainCount = 7
    p.grainBoundaryWidth = 4
    let sim = try PolycrystalSimulator(parameters: p)
    let t = sim.groundTruth
    #expect(t.grains.count == 7)
    #expect(Set(t.grainID).count >= 5)
    #expect(t.dominantWeight.allSatisfy { $0 >= 0.5 && $0 <= 1 })
    #expect(t.dominantWeight.contains { $0 < 0.7 } && t.dominantWeight.filter { $0 == 1 }.count > 32 * 32 / 2)
    for i in 0 ..< p.scan.count {
        #expect((t.secondaryGrainID[i] >= 0) == (t.dominantWeight[i] < 1))
        let g = t.grains[Int(t.grainID[i])]
        #expect(t.phaseIndex(at: i) == g.phaseIndex && (0 ..< 2).contains(g.phaseIndex))
    }
    #expect(Set(t.grains.map(\.phaseIndex)) == [0, 1])   // both phases drawn (seed 1)
    #expect(t.grains.allSatisfy { $0.phaseName == p.phases[$0.phaseIndex].name })
    // Each grain's seed position belongs to that grain with full weight (seeds are far from boundaries here or
    // at least nearest to themselves).
    for g in t.grains {
        let i = p.scan.index(row: min(31, Int(g.seedRow)), column: min(31, Int(g.seedColumn)))
        let owner = t.grains[Int(t.grainID[i])]
        let d2 = { (h: SimulatedGrain) in pow(h.seedRow - Double(i / 32), 2) + pow(h.seedColumn - Double(i % 32), 2) }
        #expect(t.grains.allSatisfy { d2($0) >= d2(owner) - 1e-9 })
    }
    // Zone-axis grains: the beam direction is within the 1° tilt of a low-index zone axis.
    for g in t.grains {
        let s = p.phases[g.phaseIndex]
        let beam = g.orientation.beamDirectionInCrystal
        let best = [(0.0, 0.0, 1.0), (0, 1, 1), (1, 1, 1), (1, 1, 2), (0, 1, 2)].flatMap { uvw in
            s.pointGroup.rotations.map { q in acos(min(1, abs(dot(beam, normalized(q.rotate(s.cell.direction(uvw.0, uvw.1, uvw.2))))))) }
        }.min()!
        #expect(best <= 1.0001 * .pi / 180, "grain \(g.id) is \(best * 180 / .pi)° from a zone axis")
    }
    var bad = p
    bad.grainCount = 0
    #expect(throws: STEMError.self) { try PolycrystalSimulator(parameters: bad) }
    bad = p
    bad.spotSigma = -1
    #expect(throws: STEMError.self) { try PolycrystalSimulator(parameters: bad) }
    for (name, edit) in [("reciprocalPixelSize", { (q: inout SimulationParameters) in q.reciprocalPixelSize = 2 }),
                         ("phases", { $0.phases = [] }), ("dose", { $0.dose = .nan }),
                         ("grains[0].phaseIndex", { $0.grains = [GrainSpecification(row: 0, column: 0, phaseIndex: 5, orientation: .identity)] })] {
        var q = p
        edit(&q)
        do {
            _ = try PolycrystalSimulator(parameters: q)
            Issue.record("\(name): expected an error")
        } catch let e as STEMError {
            #expect(e.description.contains(name), "\(e)")
        }
    }
}

/// CPU time of the calling thread (s): unlike wall time, not inflated by other processes on a shared machine.
private func threadCPUTime() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
    return Double(t.tv_sec) + 1e-9 * Double(t.tv_nsec)
}

@Test func defaultScanIsFast() throws {
    let sim = try PolycrystalSimulator(parameters: SimulationParameters())
    let n = sim.parameters.scan.count, size = sim.parameters.detector.pixelCount
    var buffer = [Float](repeating: 0, count: n * size)
    var cpu = threadCPUTime()
    try buffer.withUnsafeMutableBufferPointer { try sim.generate(positions: 0 ..< n, into: $0, noise: false) }
    let noiseFree = threadCPUTime() - cpu
    cpu = threadCPUTime()
    let start = Date()
    try buffer.withUnsafeMutableBufferPointer { try sim.generate(positions: 0 ..< n, into: $0) }
    let seconds = threadCPUTime() - cpu
    print(String(format: "simulate 64x64 scan of 128x128 patterns, one thread: %.2f s CPU (%.2f s noise-free), %.2f s wall",
                 seconds, noiseFree, Date().timeIntervalSince(start)))
    #expect(seconds < 10)
    let mean = buffer.reduce(0, +) / Float(buffer.count)
    #expect(mean > 0.3 && mean.isFinite)
    // Two threads give the same numbers.
    var twoThreads = [Float](repeating: 0, count: n * size)
    try twoThreads.withUnsafeMutableBufferPointer { try sim.generate(positions: 0 ..< n, into: $0, threads: 2) }
    #expect(twoThreads == buffer)
}

@Test func trueSpotsMarkTheSpotCentres() throws {
    var p = smallParameters()
    p.detector = DetectorShape(rows: 96, columns: 96)
    p.grainBoundaryWidth = 0
    let sim = try PolycrystalSimulator(parameters: p)
    let cols = p.detector.columns
    var checked = 0
    for index in [3, 40, 77] {
        let img = try sim.noiseFreePattern(at: index)
        let spots = sim.trueSpots(at: index)
        #expect(!spots.isEmpty)
        #expect(spots.allSatisfy { $0.grain == Int(sim.groundTruth.grainID[index]) })
        let cx = sim.groundTruth.beamCentreX[index], cy = sim.groundTruth.beamCentreY[index]
        for s in spots where s.peak > 20 {
            // Isolated spots away from the direct beam and the edges: the centroid of (value − local minimum) in a
            // 7 x 7 window is the true centre.
            let r = ((s.x - cx) * (s.x - cx) + (s.y - cy) * (s.y - cy)).squareRoot()
            let isolated = spots.allSatisfy { $0 == s || ($0.x - s.x) * ($0.x - s.x) + ($0.y - s.y) * ($0.y - s.y) > 100 }
            let xi = Int(s.x.rounded()), yi = Int(s.y.rounded())
            guard isolated, r > p.directBeamRadius + 10, xi >= 4, yi >= 4, xi < cols - 4, yi < p.detector.rows - 4 else { continue }
            var low = Float.infinity
            for dy in -3 ... 3 { for dx in -3 ... 3 { low = min(low, img[(yi + dy) * cols + xi + dx]) } }
            var sw = 0.0, sx = 0.0, sy = 0.0
            for dy in -3 ... 3 { for dx in -3 ... 3 {
                let v = Double(img[(yi + dy) * cols + xi + dx] - low)
                sw += v; sx += v * Double(xi + dx); sy += v * Double(yi + dy)
            } }
            #expect(abs(sx / sw - s.x) < 0.15 && abs(sy / sw - s.y) < 0.15, "spot \(s.hkl) at (\(s.x), \(s.y)): centroid (\(sx / sw), \(sy / sw))")
            checked += 1
        }
    }
    #expect(checked >= 5)
}
