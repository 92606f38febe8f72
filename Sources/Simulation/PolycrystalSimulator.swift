import Crystallography
import Foundation
import STEMCore

/// Synthetic polycrystal 4D-STEM data with ground truth: Voronoi grains in scan space, kinematic spot patterns per
/// grain, linear mixing across grain boundaries, a descan-shifted direct beam, diffuse background, Poisson noise and
/// optional hot pixels.
///
/// Construction does all the per-grain work once (reciprocal lattices, orientations, spot lists in pixel offsets);
/// `generate(positions:into:)` then renders any contiguous range of scan positions, so a rank can produce just its
/// block with bounded memory. Output depends only on the parameters (including `seed`) and the scan index: every
/// position draws its noise from its own stream, so a range equals the same positions of the whole scan.
public struct PolycrystalSimulator: Sendable {
    public let parameters: SimulationParameters
    public let groundTruth: GroundTruth

    /// Per-grain spots: offsets from the pattern centre (px), peak counts at dose 1 and Miller indices.
    private let spotDX: [[Float]], spotDY: [[Float]], spotPeak: [[Float]]
    private let spotHKL: [[SIMD3<Int32>]]
    private let hotPixels: [Int]

    public init(parameters p: SimulationParameters) throws {
        try p.validate()
        parameters = p
        var rng = Xoshiro256(seed: SplitMix64.mix(p.seed, 0x6772_6169_6E73))   // "grains"

        // Grains: explicit or random Voronoi seeds with orientations.
        var grains: [SimulatedGrain] = []
        if let specs = p.grains {
            for (i, s) in specs.enumerated() {
                grains.append(SimulatedGrain(id: i, phaseIndex: s.phaseIndex, phaseName: p.phases[s.phaseIndex].name,
                                             orientation: s.orientation, seedRow: s.row, seedColumn: s.column))
            }
        } else {
            let fractions = p.phaseFractions ?? [Double](repeating: 1, count: p.phases.count)
            let total = fractions.reduce(0, +)
            for i in 0 ..< p.grainCount {
                var u = rng.uniform() * total
                var phase = 0
                while phase < fractions.count - 1 && u >= fractions[phase] { u -= fractions[phase]; phase += 1 }
                let row = rng.uniform() * Double(p.scan.rows), col = rng.uniform() * Double(p.scan.columns)
                let structure = p.phases[phase]
                let orientation: Orientation
                if rng.uniform() < p.zoneAxisFraction {
                    orientation = PolycrystalSimulator.nearZoneAxis(structure, maxTiltDegrees: p.zoneAxisMaxTilt, rng: &rng)
                } else {
                    orientation = PolycrystalSimulator.uniformOrientation(rng: &rng)
                }
                grains.append(SimulatedGrain(id: i, phaseIndex: phase, phaseName: structure.name, orientation: orientation,
                                             seedRow: row, seedColumn: col))
            }
        }

        // Spot lists per grain in pixel offsets.
        let rows = p.detector.rows, cols = p.detector.columns
        let calibration = DetectorCalibration(reciprocalPixelSize: p.reciprocalPixelSize,
                                              centreX: Double(cols - 1) / 2, centreY: Double(rows - 1) / 2,
                                              ellipticity: p.ellipticity, ellipseAngle: p.ellipseAngle)
        let halfDiagonal = 0.5 * Double(rows * rows + cols * cols).squareRoot() * (1 + abs(p.ellipticity))
        // Reflections up to the detector corner, at most g = 4 Å⁻¹ (s = 2 Å⁻¹, the limit of the scattering factors).
        let gMax = min(p.gMax ?? (halfDiagonal + 4 * p.spotSigma) * p.reciprocalPixelSize, 4)
        let lists = p.phases.map { ReflectionList(structure: $0, gMax: gMax) }
        let maxIntensity = lists.map { $0.intensity.max() ?? 1 }
        var dx: [[Float]] = [], dy: [[Float]] = [], amp: [[Float]] = [], hkls: [[SIMD3<Int32>]] = []
        for grain in grains {
            let spots = lists[grain.phaseIndex].spots(orientation: grain.orientation, conditions: p.conditions)
            var x: [Float] = [], y: [Float] = [], a: [Float] = [], h: [SIMD3<Int32>] = []
            let norm = p.spotPeak / max(maxIntensity[grain.phaseIndex], 1e-30)
            for s in spots {
                let o = calibration.pixelOffset(gx: s.gx, gy: s.gy)
                let peak = s.intensity * norm
                if peak < 1e-4 { continue }
                x.append(Float(o.dx)); y.append(Float(o.dy)); a.append(Float(peak)); h.append(s.hkl)
            }
            dx.append(x); dy.append(y); amp.append(a); hkls.append(h)
        }
        spotDX = dx; spotDY = dy; spotPeak = amp; spotHKL = hkls

        // Grain map with boundary mixing, and the descan path.
        let n = p.scan.count
        var gid = [Int32](repeating: 0, count: n), sid = [Int32](repeating: -1, count: n)
        var weight = [Float](repeating: 1, count: n)
        var cx = [Double](repeating: 0, count: n), cy = [Double](repeating: 0, count: n)
        for index in 0 ..< n {
            let (r, c) = p.scan.position(of: index)
            let (a, b, wb) = PolycrystalSimulator.mixing(row: Double(r), column: Double(c), grains: grains, width: p.grainBoundaryWidth)
            gid[index] = Int32(a)
            if wb > 0 { sid[index] = Int32(b) }
            weight[index] = Float(1 - wb)
            let u = p.scan.columns > 1 ? Double(c) / Double(p.scan.columns - 1) - 0.5 : 0
            let v = p.scan.rows > 1 ? Double(r) / Double(p.scan.rows - 1) - 0.5 : 0
            cx[index] = calibration.centreX + p.descanRampX * u + p.descanWobble * sin(2 * .pi * (v + 0.15))
            cy[index] = calibration.centreY + p.descanRampY * v + p.descanWobble * sin(2 * .pi * (u + 0.4))
        }
        groundTruth = GroundTruth(scan: p.scan, detector: p.detector, grains: grains, grainID: gid, secondaryGrainID: sid,
                                  dominantWeight: weight, beamCentreX: cx, beamCentreY: cy, calibration: calibration)

        var hot: Set<Int> = []
        var hrng = Xoshiro256(seed: SplitMix64.mix(p.seed, 0x686F_74))   // "hot"
        while hot.count < p.hotPixelCount { hot.insert(Int(hrng.next() % UInt64(p.detector.pixelCount))) }
        hotPixels = hot.sorted()
    }

    /// Renders scan positions `positions` into `destination` (`positions.count × detector.pixelCount` floats,
    /// pattern-major, each pattern row-major). `noise: false` gives the noise-free expectation (no Poisson draw, no
    /// hot pixels) whatever `parameters.poissonNoise` says; `noise: true` follows the parameters. `threads` > 1
    /// renders contiguous sub-ranges concurrently (same output: every position has its own noise stream); leave it
    /// at 1 inside an MPI rank that already owns a core.
    public func generate(positions: Range<Int>, into destination: UnsafeMutableBufferPointer<Float>,
                         noise: Bool = true, threads: Int = 1) throws {
        let p = parameters
        guard positions.lowerBound >= 0, positions.upperBound <= p.scan.count else {
            throw STEMError.invalidParameter(name: "positions", value: "\(positions)", expected: "a range within 0..<\(p.scan.count)")
        }
        let size = p.detector.pixelCount
        guard destination.count >= positions.count * size else {
            throw STEMError.shapeMismatch(path: "simulator", field: "destination", expected: "\(positions.count * size) floats",
                                          found: "\(destination.count)")
        }
        let drawNoise = noise && p.poissonNoise
        let parts = max(1, min(threads, positions.count))
        if parts == 1 {
            renderRange(positions, into: destination, offset: positions.lowerBound, noise: drawNoise)
            return
        }
        let partition = ScanPartition(total: positions.count, parts: parts)
        DispatchQueue.concurrentPerform(iterations: parts) { part in
            let local = partition.range(of: part)
            let range = (positions.lowerBound + local.lowerBound) ..< (positions.lowerBound + local.upperBound)
            renderRange(range, into: destination, offset: positions.lowerBound, noise: drawNoise)
        }
    }

    /// Renders `range` into the patterns of `destination` that start at scan index `offset`.
    private func renderRange(_ range: Range<Int>, into destination: UnsafeMutableBufferPointer<Float>, offset: Int, noise: Bool) {
        let p = parameters
        let size = p.detector.pixelCount
        for index in range {
            let k = index - offset
            let out = UnsafeMutableBufferPointer(rebasing: destination[(k * size) ..< ((k + 1) * size)])
            render(index: index, into: out)
            if noise {
                var rng = Xoshiro256(seed: SplitMix64.mix(p.seed, UInt64(index) &+ 0x1000))
                rng.samplePoisson(inPlace: out)
                for h in hotPixels { out[h] += Float(p.hotPixelValue) }
            }
        }
    }

    /// A new `PatternBlock` of scan positions `positions`.
    public func generateBlock(_ positions: Range<Int>, noise: Bool = true, threads: Int = 1) throws -> PatternBlock {
        var block = PatternBlock(firstIndex: positions.lowerBound, count: positions.count, detector: parameters.detector)
        try block.pixels.withUnsafeMutableBufferPointer { try generate(positions: positions, into: $0, noise: noise, threads: threads) }
        return block
    }

    /// The noise-free pattern (expected counts) at one scan position.
    public func noiseFreePattern(at index: Int) throws -> [Float] {
        try generateBlock(index ..< index + 1, noise: false).pixels
    }

    /// The Bragg spots drawn into the pattern at scan position `index` (dominant grain, then the secondary one near
    /// a boundary): sub-pixel centres in detector pixels (x = column, y = row, descan included), peak expected counts
    /// (weight and dose applied) and Miller indices — the truth for spot detection and registration. Spots whose
    /// centre falls off the detector are left out.
    public func trueSpots(at index: Int) -> [TrueSpot] {
        guard (0 ..< parameters.scan.count).contains(index) else { return [] }
        let truth = groundTruth
        let cx = truth.beamCentreX[index], cy = truth.beamCentreY[index]
        let w = Double(truth.dominantWeight[index])
        var out: [TrueSpot] = []
        for (grain, weight) in [(Int(truth.grainID[index]), w), (Int(truth.secondaryGrainID[index]), 1 - w)] where grain >= 0 && weight > 0 {
            for s in 0 ..< spotDX[grain].count {
                let x = cx + Double(spotDX[grain][s]), y = cy + Double(spotDY[grain][s])
                guard x >= -0.5, y >= -0.5, x <= Double(parameters.detector.columns) - 0.5, y <= Double(parameters.detector.rows) - 0.5 else { continue }
                out.append(TrueSpot(x: x, y: y, peak: Double(spotPeak[grain][s]) * weight * parameters.dose,
                                    hkl: spotHKL[grain][s], grain: grain))
            }
        }
        return out
    }

    // MARK: - Rendering

    /// Expected counts of one pattern: background + direct beam + weighted spots of the grains present, × dose.
    private func render(index: Int, into out: UnsafeMutableBufferPointer<Float>) {
        let p = parameters
        let truth = groundTruth
        let rows = p.detector.rows, cols = p.detector.columns
        let cx = truth.beamCentreX[index], cy = truth.beamCentreY[index]
        let dose = Float(p.dose)

        // Diffuse background centred on the beam.
        let b0 = Float(p.backgroundPeak) * dose, floor = Float(p.backgroundFloor) * dose
        let invR2 = Float(1 / (p.backgroundRadius * p.backgroundRadius))
        for r in 0 ..< rows {
            let dy = Float(Double(r) - cy)
            let dy2 = dy * dy
            let base = r * cols
            for c in 0 ..< cols {
                let dx = Float(Double(c) - cx)
                out[base + c] = b0 / (1 + (dx * dx + dy2) * invR2) + floor
            }
        }

        // Direct beam: a disc with a one-pixel linear edge (an anti-aliased top hat).
        let radius = p.directBeamRadius
        let beam = Float(p.directBeamIntensity) * dose
        let reach = Int((radius + 1.5).rounded(.up))
        let r0 = max(0, Int(cy.rounded()) - reach), r1 = min(rows - 1, Int(cy.rounded()) + reach)
        let c0 = max(0, Int(cx.rounded()) - reach), c1 = min(cols - 1, Int(cx.rounded()) + reach)
        if r0 <= r1 && c0 <= c1 {
            for r in r0 ... r1 {
                for c in c0 ... c1 {
                    let d = ((Double(c) - cx) * (Double(c) - cx) + (Double(r) - cy) * (Double(r) - cy)).squareRoot()
                    let cover = min(1, max(0, radius + 0.5 - d))
                    if cover > 0 { out[r * cols + c] += beam * Float(cover) }
                }
            }
        }

        // Spots of the dominant and the secondary grain.
        let primary = Int(truth.grainID[index])
        let wPrimary = truth.dominantWeight[index]
        addSpots(grain: primary, weight: wPrimary * dose, cx: cx, cy: cy, into: out)
        let secondary = Int(truth.secondaryGrainID[index])
        if secondary >= 0 { addSpots(grain: secondary, weight: (1 - wPrimary) * dose, cx: cx, cy: cy, into: out) }
    }

    /// Adds Gaussian spots (σ = spotSigma, separable evaluation in a ±4σ window) of one grain.
    private func addSpots(grain: Int, weight: Float, cx: Double, cy: Double, into out: UnsafeMutableBufferPointer<Float>) {
        guard weight > 0 else { return }
        let rows = parameters.detector.rows, cols = parameters.detector.columns
        let sigma = parameters.spotSigma
        let half = Int((4 * sigma).rounded(.up))
        let inv2s2 = 1 / (2 * sigma * sigma)
        let xs = spotDX[grain], ys = spotDY[grain], amps = spotPeak[grain]
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * (2 * half + 1)) { tmp in
            for s in 0 ..< xs.count {
                let x = cx + Double(xs[s]), y = cy + Double(ys[s])
                let xi = Int(x.rounded()), yi = Int(y.rounded())
                if xi + half < 0 || xi - half >= cols || yi + half < 0 || yi - half >= rows { continue }
                for t in -half ... half {
                    let ex = Double(xi + t) - x, ey = Double(yi + t) - y
                    tmp[t + half] = Float(exp(-ex * ex * inv2s2))
                    tmp[2 * half + 1 + t + half] = Float(exp(-ey * ey * inv2s2))
                }
                let a = amps[s] * weight
                for t in -half ... half {
                    let r = yi + t
                    if r < 0 || r >= rows { continue }
                    let wy = a * tmp[2 * half + 1 + t + half]
                    let base = r * cols
                    for u in -half ... half {
                        let c = xi + u
                        if c < 0 || c >= cols { continue }
                        out[base + c] += wy * tmp[u + half]
                    }
                }
            }
        }
    }

    // MARK: - Grains

    /// Dominant grain a, neighbour b and the neighbour's weight at a scan point: with e the distance to the
    /// bisector between the seeds of a and b (the Voronoi boundary), w_b = max(0, 1/2 − e / width).
    static func mixing(row: Double, column: Double, grains: [SimulatedGrain], width: Double) -> (Int, Int, Double) {
        var a = 0, best = Double.infinity
        for (i, g) in grains.enumerated() {
            let d = (row - g.seedRow) * (row - g.seedRow) + (column - g.seedColumn) * (column - g.seedColumn)
            if d < best { best = d; a = i }
        }
        guard grains.count > 1, width > 0 else { return (a, a, 0) }
        var b = a, nearest = Double.infinity
        let ga = grains[a]
        for (j, g) in grains.enumerated() where j != a {
            let sep = ((ga.seedRow - g.seedRow) * (ga.seedRow - g.seedRow) + (ga.seedColumn - g.seedColumn) * (ga.seedColumn - g.seedColumn)).squareRoot()
            guard sep > 1e-9 else { continue }
            let dj = (row - g.seedRow) * (row - g.seedRow) + (column - g.seedColumn) * (column - g.seedColumn)
            let e = (dj - best) / (2 * sep)
            if e < nearest { nearest = e; b = j }
        }
        let wb = max(0, 0.5 - nearest / width)
        return (a, b, b == a ? 0 : wb)
    }

    /// Low-index zone axes [uvw] offered to zone-axis grains.
    static func zoneAxes(_ system: CrystalSystem) -> [(Double, Double, Double)] {
        switch system {
        case .cubic: return [(0, 0, 1), (0, 1, 1), (1, 1, 1), (1, 1, 2), (0, 1, 2)]
        case .hexagonal, .trigonal: return [(0, 0, 1), (1, 0, 0), (1, 1, 0), (1, 0, 1)]
        default: return [(0, 0, 1), (0, 1, 0), (1, 0, 0), (0, 1, 1), (1, 0, 1), (1, 1, 0)]
        }
    }

    /// A random low-index zone axis, a uniformly random in-plane angle, then a tilt of at most `maxTiltDegrees` about
    /// a random axis perpendicular to the beam.
    static func nearZoneAxis(_ structure: CrystalStructure, maxTiltDegrees: Double, rng: inout Xoshiro256) -> Orientation {
        let axes = zoneAxes(structure.crystalSystem)
        let uvw = axes[Int(rng.next() % UInt64(axes.count))]
        let base = Orientation.zoneAxis(structure.cell.direction(uvw.0, uvw.1, uvw.2), inPlane: rng.uniform() * 2 * .pi)
        let tilt = rng.uniform() * maxTiltDegrees * .pi / 180
        let az = rng.uniform() * 2 * .pi
        // Tilt in the sample frame: G' = G · R(axis in the x-y plane, tilt).
        let t = Quaternion(axis: Vector3(cos(az), sin(az), 0), angle: tilt)
        return Orientation(quaternion: base.quaternion * t)
    }

    /// A uniformly distributed rotation (Shoemake, Graphics Gems III, 1992).
    static func uniformOrientation(rng: inout Xoshiro256) -> Orientation {
        let u1 = rng.uniform(), u2 = rng.uniform(), u3 = rng.uniform()
        let a = (1 - u1).squareRoot(), b = u1.squareRoot()
        return Orientation(quaternion: Quaternion(w: a * sin(2 * .pi * u2), x: a * cos(2 * .pi * u2),
                                                  y: b * sin(2 * .pi * u3), z: b * cos(2 * .pi * u3)))
    }
}
