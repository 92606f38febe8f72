import STEMCore

/// Phase identification of every scan position at every time step of one operando series, step-major
/// (entry `t * scan.count + i`): dominant stage, d-spacing of the dominant peak (0 without peak), the
/// phase fractions (area shares in `LithiationStage.lithiated` order, 4 per entry), and up to
/// `peakSlots` fitted peaks sorted by d (d-spacing, height, FWHM in d, area; zeros in unused slots).
public struct PhaseSeries: Sendable {
    public let scan: ScanGrid
    public let steps: Int
    public var stage: [UInt8]
    public var dominantD: [Float]
    public var phaseFractions: [Float]
    /// Peaks per entry kept in `peaks`.
    public static let peakSlots = 3
    /// Values per peak slot: d-spacing (Å), height, FWHM (Å), area.
    public static let peakFields = 4
    /// `peaks[(e * peakSlots + k) * peakFields + f]` for entry e, slot k, field f.
    public var peaks: [Float]

    public init(scan: ScanGrid, steps: Int) {
        self.scan = scan
        self.steps = steps
        stage = [UInt8](repeating: 0, count: steps * scan.count)
        dominantD = [Float](repeating: 0, count: steps * scan.count)
        phaseFractions = [Float](repeating: 0, count: 4 * steps * scan.count)
        peaks = [Float](repeating: 0, count: Self.peakSlots * Self.peakFields * steps * scan.count)
    }

    /// Stores the fit of scan position `index` at time step `step`.
    public mutating func record(step: Int, index: Int, fit: PeakFitResult) {
        let e = step * scan.count + index
        stage[e] = fit.dominantStage.rawValue
        dominantD[e] = Float(fit.dominantPeak?.dSpacing ?? 0)
        for k in 0 ..< 4 { phaseFractions[4 * e + k] = Float(fit.phaseFractions[k]) }
        let base = e * Self.peakSlots * Self.peakFields
        for k in 0 ..< Self.peakSlots * Self.peakFields { peaks[base + k] = 0 }
        for (k, p) in fit.peaks.prefix(Self.peakSlots).enumerated() {
            let o = base + k * Self.peakFields
            peaks[o] = Float(p.dSpacing); peaks[o + 1] = Float(p.height)
            peaks[o + 2] = Float(p.fwhmD); peaks[o + 3] = Float(p.area)
        }
    }

    /// Stores the fits of a block of scan positions (`fits[p]` for scan index `first + p`).
    public mutating func record(step: Int, first: Int, fits: [PeakFitResult]) {
        for (p, f) in fits.enumerated() { record(step: step, index: first + p, fit: f) }
    }

    /// Stage of scan position `index` at `step`.
    public func stage(step: Int, index: Int) -> LithiationStage {
        LithiationStage(rawValue: stage[step * scan.count + index]) ?? .none
    }

    /// Mean phase fractions at a step over the positions with a peak (graphite, dilute, stage 2, stage 1),
    /// optionally restricted to positions where `include` is true; zeros when none qualifies.
    public func meanPhaseFractions(step: Int, include: [Bool]? = nil) -> [Double] {
        var sum = [Double](repeating: 0, count: 4), n = 0
        for i in 0 ..< scan.count where stage[step * scan.count + i] != 0 && (include?[i] ?? true) {
            for k in 0 ..< 4 { sum[k] += Double(phaseFractions[4 * (step * scan.count + i) + k]) }
            n += 1
        }
        return n > 0 ? sum.map { $0 / Double(n) } : sum
    }
}
