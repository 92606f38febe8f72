import Foundation
import STEMCore

/// A synthetic operando experiment for tests and demos: a graphite electrode cross-section of disc-shaped
/// particles that lithiate during one charge with a delay growing from the separator to the current
/// collector, some of them dead (never lithiate) and some slow (lithiate only at the slow C-rate), observed
/// as 1D diffraction profiles (or 2D ring patterns) with noise at every time step of a fast and a slow series.
///
/// Lithiation x ∈ [0, 1] (Li per C6) of a particle at normalised depth z (0 collector, 1 separator) at
/// time τ ∈ [0, 1] of the charge: x = clamp((τ − D (1 − z)) / (1 − D), 0, 1), D the rate's delay. Peaks of
/// x (Dahn 1991 staging sequence, simplified): one peak moving d = 3.355 → 3.41 Å (x ≤ 0.1, dilute stage 1),
/// 3.41 → 3.47 Å (x ≤ 0.25, stages 4–3), 3.47 → 3.525 Å (x ≤ 0.5, stage 2L → 2), then LiC12 (3.525 Å) and
/// LiC6 (3.705 Å) coexisting with LiC6 weight (x − 0.5) / 0.5. Every random number derives from the seed
/// and the item (particle, or series, step and scan position), so any partition yields identical data.
public struct ElectrodeSimulator: Sendable {
    public enum Rate: Int, Sendable, Codable, CaseIterable { case fast = 0, slow = 1 }

    public struct Parameters: Hashable, Sendable {
        public var scan = ScanGrid(rows: 20, columns: 36)
        public var depthAxis = DepthAxis(axis: .columns, collectorAtStart: true)
        /// Particle radius range (scan pixels).
        public var particleRadius: ClosedRange<Double> = 2.0 ... 4.0
        /// Target fraction of the section covered by particles.
        public var coverage = 0.65
        /// Probability of a dead particle at the collector and at the separator (linear in depth between).
        public var deadProbability: ClosedRange<Double> = 0.05 ... 0.20
        /// Probability of a slow particle at the collector and at the separator.
        public var slowProbability: ClosedRange<Double> = 0.05 ... 0.25
        /// Time steps per series, evenly spread over one charge.
        public var steps = 10
        /// Lag of the collector side (fraction of the charge) at the fast and at the slow rate.
        public var fastDelay = 0.4
        public var slowDelay = 0.1
        /// C-rates of the two series (for the electrochemistry table).
        public var fastCRate = 1.0
        public var slowCRate = 0.2
        public var axis = RadialAxis(unit: .qInverseAngstrom, lower: 1.60, upper: 1.95, count: 200)
        /// Peak FWHM in d (Å) and line shape.
        public var fwhmD = 0.012
        public var shape = PeakShape.pseudoVoigt(eta: 0.3)
        /// Mean peak height (counts); each particle scales it by a factor in [0.7, 1.3].
        public var peakHeight = 600.0
        /// Background level (counts) at the window centre; it falls 30 % per Å⁻¹.
        public var background = 150.0
        /// Noise: normal with σ = noiseScale √(value) (Poisson-like); 0 = noiseless.
        public var noiseScale = 1.0
        public var seed: UInt64 = 1

        public init() {}
    }

    /// A disc particle.
    public struct Particle: Hashable, Sendable {
        public var row: Double
        public var column: Double
        public var radius: Double
        /// Normalised depth of the centre, 0 at the collector, 1 at the separator.
        public var depth: Double
        /// `.active`, `.slow` or `.dead`.
        public var kind: ParticleActivity
        /// Scale of the peak heights.
        public var brightness: Double
    }

    public let parameters: Parameters
    public let particles: [Particle]
    /// Particle of each scan position (−1 outside particles).
    public let particleID: [Int32]

    public init(_ parameters: Parameters = Parameters()) throws {
        let p = parameters
        guard p.scan.rows >= 1, p.scan.columns >= 1, p.steps >= 2, p.particleRadius.lowerBound > 0,
              p.coverage > 0, p.coverage < 1, p.fastDelay >= 0, p.fastDelay < 1, p.slowDelay >= 0, p.slowDelay < 1,
              p.fwhmD > 0, p.axis.count >= 8, p.axis.width > 0 else {
            throw STEMError.invalidParameter(name: "simulation parameters", value: "\(p)",
                                             expected: "non-empty scan, >= 2 steps, radii > 0, 0 < coverage < 1, delays in [0, 1), fwhm > 0, >= 8 bins")
        }
        self.parameters = p
        var rng = SeededGenerator(seed: p.seed, stream: 0xD15C)
        let rows = p.scan.rows, cols = p.scan.columns
        var id = [Int32](repeating: -1, count: p.scan.count)
        var discs: [Particle] = []
        var covered = 0
        let lines = Double(p.depthAxis.lines(p.scan))
        var attempts = 0
        while Double(covered) < p.coverage * Double(p.scan.count) && attempts < 200 * p.scan.count {
            attempts += 1
            let r = p.particleRadius.lowerBound + rng.uniform() * (p.particleRadius.upperBound - p.particleRadius.lowerBound)
            let cy = rng.uniform() * Double(rows) - 0.5, cx = rng.uniform() * Double(cols) - 0.5
            if discs.contains(where: { ($0.row - cy) * ($0.row - cy) + ($0.column - cx) * ($0.column - cx) < ($0.radius + r) * ($0.radius + r) }) {
                continue
            }
            let line = p.depthAxis.line(of: p.scan.index(row: min(max(Int(cy.rounded()), 0), rows - 1),
                                                           column: min(max(Int(cx.rounded()), 0), cols - 1)), in: p.scan)
            let z = (Double(line) + 0.5) / lines
            let pDead = p.deadProbability.lowerBound + z * (p.deadProbability.upperBound - p.deadProbability.lowerBound)
            let pSlow = p.slowProbability.lowerBound + z * (p.slowProbability.upperBound - p.slowProbability.lowerBound)
            let u = rng.uniform()
            let kind: ParticleActivity = u < pDead ? .dead : u < pDead + pSlow ? .slow : .active
            let k = Int32(discs.count)
            var pixels = 0
            for i in max(0, Int(cy - r)) ... min(rows - 1, Int(cy + r) + 1) {
                for j in max(0, Int(cx - r)) ... min(cols - 1, Int(cx + r) + 1) {
                    let dy = Double(i) - cy, dx = Double(j) - cx
                    if dy * dy + dx * dx <= r * r && id[i * cols + j] < 0 { id[i * cols + j] = k; pixels += 1 }
                }
            }
            guard pixels > 0 else { continue }
            covered += pixels
            discs.append(Particle(row: cy, column: cx, radius: r, depth: z, kind: kind, brightness: 0.7 + 0.6 * rng.uniform()))
        }
        self.particles = discs
        self.particleID = id
    }

    /// Ground truth per scan position: `.noSignal` outside particles, else the particle's kind.
    public var truth: [ParticleActivity] { particleID.map { $0 < 0 ? .noSignal : particles[Int($0)].kind } }

    /// Ground truth inactivity in one series: slow particles are inactive at the fast rate only.
    public func truthInactivity(_ rate: Rate) -> [PixelActivity] {
        truth.map { k in
            switch k {
            case .noSignal: return .noSignal
            case .dead: return .inactive
            case .slow: return rate == .fast ? .inactive : .active
            default: return .active
            }
        }
    }

    /// Normalised time τ of a step.
    public func time(step: Int) -> Double { Double(step) / Double(parameters.steps - 1) }

    /// Lithiation x of a particle at a step of a series.
    public func lithiation(particle k: Int, step: Int, rate: Rate) -> Double {
        let part = particles[k]
        if part.kind == .dead || (part.kind == .slow && rate == .fast) { return 0 }
        let delay = rate == .fast ? parameters.fastDelay : parameters.slowDelay
        return min(max((time(step: step) - delay * (1 - part.depth)) / (1 - delay), 0), 1)
    }

    /// The (00l) peaks of graphite lithiated to x: d-spacing (Å) and relative weight.
    public static func phases(lithiation x: Double) -> [(d: Double, weight: Double)] {
        if x <= 0.1 { return [(3.355 + (3.41 - 3.355) * x / 0.1, 1)] }
        if x <= 0.25 { return [(3.41 + (3.47 - 3.41) * (x - 0.1) / 0.15, 1)] }
        if x <= 0.5 { return [(3.47 + (3.525 - 3.47) * (x - 0.25) / 0.25, 1)] }
        let f = min((x - 0.5) / 0.5, 1)
        return [(3.525, 1 - f), (3.705, f)].filter { $0.1 > 0 }
    }

    /// True peaks (d, height) at a scan position, empty outside particles.
    public func truePeaks(index i: Int, step: Int, rate: Rate) -> [(d: Double, height: Double)] {
        let k = Int(particleID[i])
        guard k >= 0 else { return [] }
        let h = parameters.peakHeight * particles[k].brightness
        return Self.phases(lithiation: lithiation(particle: k, step: step, rate: rate)).map { ($0.d, h * $0.weight) }
    }

    /// True dominant stage at a scan position (default stage windows).
    public func trueStage(index i: Int, step: Int, rate: Rate) -> LithiationStage {
        guard let top = truePeaks(index: i, step: step, rate: rate).max(by: { $0.height < $1.height }) else { return .none }
        return StageWindows.default.stage(ofD: top.d)
    }

    /// Noiseless intensity at q (Å⁻¹) for the given peaks.
    func intensity(q: Double, peaks: [(d: Double, height: Double)]) -> Double {
        let p = parameters
        let qMid = 0.5 * (p.axis.lower + p.axis.upper)
        var v = p.background * (1 - 0.3 * (q - qMid))
        for peak in peaks {
            let q0 = 2 * Double.pi / peak.d, w = p.fwhmD * 2 * Double.pi / (peak.d * peak.d)
            v += peak.height * p.shape.evaluate(q, centre: q0, fwhm: w).value
        }
        return max(v, 0)
    }

    /// 1D profiles (on `parameters.axis`, which must be in q Å⁻¹ or d Å) of the scan positions `positions`
    /// at a step of a series.
    public func profiles(step: Int, rate: Rate, positions: Range<Int>) throws -> ProfileBlock {
        let p = parameters, axis = p.axis
        guard axis.unit == .qInverseAngstrom || axis.unit == .dAngstrom else {
            throw STEMError.invalidParameter(name: "simulation axis unit", value: axis.unit.rawValue, expected: "q_A^-1 or d_A")
        }
        try checkRange(step: step, positions: positions)
        let centres = axis.centres.map { axis.unit == .dAngstrom ? 2 * Double.pi / $0 : $0 }
        var values = [Float](repeating: 0, count: positions.count * axis.count)
        for (o, i) in positions.enumerated() {
            let peaks = truePeaks(index: i, step: step, rate: rate)
            var rng = SeededGenerator(seed: p.seed, stream: UInt64(rate.rawValue + 1), UInt64(step), UInt64(i))
            for b in 0 ..< axis.count {
                let v = intensity(q: centres[b], peaks: peaks)
                values[o * axis.count + b] = Float(v + p.noiseScale * v.squareRoot() * rng.normal())
            }
        }
        return ProfileBlock(firstIndex: positions.lowerBound, count: positions.count, axis: axis, values: values)
    }

    /// 2D ring patterns seen by a detector of the given geometry (the same intensity as a function of q,
    /// isotropic rings), with noise per detector pixel.
    public func patterns(step: Int, rate: Rate, positions: Range<Int>, geometry: DetectorGeometry) throws -> PatternBlock {
        try geometry.validate()
        try checkRange(step: step, positions: positions)
        let qPixel = geometry.twoThetaArray().map { geometry.q(twoTheta: $0) }
        let np = geometry.detector.pixelCount
        var block = PatternBlock(firstIndex: positions.lowerBound, count: positions.count, detector: geometry.detector)
        block.pixels.withUnsafeMutableBufferPointer { px in
            for (o, i) in positions.enumerated() {
                let peaks = truePeaks(index: i, step: step, rate: rate)
                var rng = SeededGenerator(seed: parameters.seed, stream: UInt64(rate.rawValue + 11), UInt64(step), UInt64(i))
                for k in 0 ..< np {
                    let v = intensity(q: qPixel[k], peaks: peaks)
                    px[o * np + k] = Float(v + parameters.noiseScale * v.squareRoot() * rng.normal())
                }
            }
        }
        return block
    }

    private func checkRange(step: Int, positions: Range<Int>) throws {
        guard step >= 0, step < parameters.steps else {
            throw STEMError.invalidParameter(name: "step", value: "\(step)", expected: "0 ..< \(parameters.steps)")
        }
        guard positions.lowerBound >= 0, positions.upperBound <= parameters.scan.count else {
            throw STEMError.invalidParameter(name: "positions", value: "\(positions)", expected: "inside 0 ..< \(parameters.scan.count)")
        }
    }

    /// Mean lithiation of the electrode (all particles, by area) at a step.
    public func meanLithiation(step: Int, rate: Rate) -> Double {
        var sum = 0.0, n = 0
        for k in particleID where k >= 0 { sum += lithiation(particle: Int(k), step: step, rate: rate); n += 1 }
        return n > 0 ? sum / Double(n) : 0
    }

    /// Electrochemistry of a series: time (s), cell voltage (V, a smooth full-cell charge curve of the mean
    /// lithiation), current (C-rate, positive = charge) and state of charge.
    public func electrochemistry(_ rate: Rate) -> ElectrochemistryTable {
        let c = rate == .fast ? parameters.fastCRate : parameters.slowCRate
        let n = parameters.steps
        let x = (0 ..< n).map { meanLithiation(step: $0, rate: rate) }
        let t = (0 ..< n).map { time(step: $0) * 3600 / c }
        let v = x.map { 3.45 + 0.6 * $0 + 0.1 * tanh(8 * ($0 - 0.5)) }
        return try! ElectrochemistryTable(time: t, voltage: v, current: [Double](repeating: c, count: n),
                                          stateOfCharge: x)
    }
}
