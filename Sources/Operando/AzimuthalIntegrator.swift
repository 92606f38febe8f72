import Foundation
import STEMCore

/// Azimuthal integration of 2D diffraction patterns to 1D profiles through a sparse lookup table built once
/// per geometry (the CSR scheme of pyFAI: Kieffer & Ashiotis, arXiv:1412.6367, and Kieffer et al.,
/// J. Synchrotron Rad. 27 (2020) 2020).
///
/// Bin `b` of a profile is I_b = Σ_p c_bp S_p / Σ_p c_bp N_p over unmasked pixels p, where S is the pattern,
/// N_p = solid angle × polarisation of the pixel (1 without corrections) and c_bp the fraction of pixel p
/// in bin b: 1 for the bin holding the pixel centre without splitting (pyFAI method ("no", "csr")), or the
/// bounding-box overlap fraction with `boundingBox` splitting (pyFAI ("bbox", "csr")). Empty bins are 0.
/// The denominators depend on geometry and mask only, so they are precomputed; integrating a pattern is one
/// pass over the table, and a batch integrates four patterns per pass to reuse every table entry.
public struct AzimuthalIntegrator: Sendable {
    /// How a pixel is shared between radial bins.
    public enum PixelSplitting: String, Sendable, Codable, CaseIterable {
        /// Whole pixel to the bin of its centre (pyFAI "no" splitting).
        case none
        /// Pixel spread uniformly over the radial interval centre ± max |corner − centre| (pyFAI "bbox").
        case boundingBox = "bbox"
    }

    /// What to integrate and how.
    public struct Options: Hashable, Sendable {
        public var unit: RadialUnit
        public var bins: Int
        /// Radial range in `unit`; nil = from the smallest to the largest position of unmasked pixels.
        public var range: ClosedRange<Double>?
        public var splitting: PixelSplitting
        /// Divide by the pixel's relative solid angle cos³(incidence). pyFAI's `integrate1d` default is on.
        public var solidAngle: Bool
        /// Divide by the polarisation factor with this value of f; nil = no correction (pyFAI default).
        public var polarizationFactor: Double?

        public init(unit: RadialUnit = .qInverseAngstrom, bins: Int = 1000, range: ClosedRange<Double>? = nil,
                    splitting: PixelSplitting = .none, solidAngle: Bool = true, polarizationFactor: Double? = nil) {
            self.unit = unit
            self.bins = bins
            self.range = range
            self.splitting = splitting
            self.solidAngle = solidAngle
            self.polarizationFactor = polarizationFactor
        }
    }

    public let geometry: DetectorGeometry
    public let options: Options
    public let axis: RadialAxis
    /// CSR table: the entries of bin b are `binStart[b] ..< binStart[b + 1]`.
    private let binStart: [Int32]
    private let pixelIndex: [Int32]
    /// Coefficients c_bp; empty when every coefficient is 1 (no splitting).
    private let coefficient: [Float]
    /// 1 / Σ_p c_bp N_p per bin (0 for empty bins).
    private let inverseNorm: [Float]

    /// Number of (bin, pixel) entries of the lookup table.
    public var tableSize: Int { pixelIndex.count }

    /// Bins that receive no pixel (their profile value is 0): too many bins for the pixel size, or masked.
    public var emptyBins: [Int] { (0 ..< axis.count).filter { inverseNorm[$0] == 0 } }

    /// The largest bin count, at most `maximum`, with no empty bin inside `window` (in the radial unit):
    /// halves the bin width (2/3 each try) until every bin there receives pixels. Returns nil when even
    /// 16 bins leave gaps (the window is not on the detector).
    public static func binCount(geometry: DetectorGeometry, options: Options, mask: DetectorMask? = nil,
                                window: ClosedRange<Double>, maximum: Int = 1000) throws -> Int? {
        var bins = maximum
        while bins >= 16 {
            var o = options
            o.bins = bins
            let ai = try AzimuthalIntegrator(geometry: geometry, options: o, mask: mask)
            let centres = ai.axis.centres
            if !ai.emptyBins.contains(where: { window.contains(centres[$0]) }) { return bins }
            bins = bins * 2 / 3
        }
        return nil
    }

    /// Builds the lookup table for a geometry and an optional mask (cost: a few geometry evaluations per pixel).
    public init(geometry: DetectorGeometry, options: Options = Options(), mask: DetectorMask? = nil) throws {
        try geometry.validate()
        guard options.bins >= 1 else {
            throw STEMError.invalidParameter(name: "bins", value: "\(options.bins)", expected: "an integer >= 1")
        }
        if let r = options.range, !(r.lowerBound.isFinite && r.upperBound.isFinite && r.upperBound > r.lowerBound) {
            throw STEMError.invalidParameter(name: "radial range", value: "\(r)", expected: "finite lower < upper")
        }
        if let m = mask, m.detector != geometry.detector {
            throw STEMError.shapeMismatch(path: "mask", field: "detector", expected: "\(geometry.detector)",
                                          found: "\(m.detector)")
        }
        if let f = options.polarizationFactor, !(f.isFinite && abs(f) <= 1) {
            throw STEMError.invalidParameter(name: "polarization factor", value: "\(f)", expected: "a value in [-1, 1]")
        }
        self.geometry = geometry
        self.options = options

        let det = geometry.detector, n = det.pixelCount
        let lambda = geometry.wavelength, unit = options.unit
        let rot = geometry.rotationMatrix
        // Radial position of every pixel centre (NaN where undefined), and its half extent for bbox.
        var position = [Double](repeating: .nan, count: n)
        var halfWidth = [Double](repeating: 0, count: n)
        var valid = [Bool](repeating: true, count: n)
        if let m = mask { for p in 0 ..< n where m.isMasked[p] { valid[p] = false } }
        func radial(_ r: Double, _ c: Double) -> Double? {
            let (t1, t2, t3) = geometry.labPosition(row: r, column: c, rotation: rot)
            return unit.value(twoTheta: atan2((t1 * t1 + t2 * t2).squareRoot(), t3), wavelength: lambda)
        }
        for i in 0 ..< det.rows {
            for j in 0 ..< det.columns {
                let p = i * det.columns + j
                guard valid[p], let x = radial(Double(i) + 0.5, Double(j) + 0.5) else { valid[p] = false; continue }
                position[p] = x
                if options.splitting == .boundingBox {
                    var h = 0.0
                    for (di, dj) in [(0.0, 0.0), (1.0, 0.0), (0.0, 1.0), (1.0, 1.0)] {
                        guard let y = radial(Double(i) + di, Double(j) + dj) else { valid[p] = false; break }
                        h = max(h, abs(y - x))
                    }
                    halfWidth[p] = h
                }
            }
        }
        // Radial range: as given, or spanning the valid pixels (pyFAI's automatic range; the upper edge is
        // raised by one float32 epsilon so the largest pixel falls inside, as pyFAI's calc_upper_bound does).
        var lower: Double, upperIn: Double
        if let r = options.range {
            lower = r.lowerBound; upperIn = r.upperBound
        } else {
            lower = .infinity; upperIn = -.infinity
            for p in 0 ..< n where valid[p] {
                lower = min(lower, position[p] - halfWidth[p]); upperIn = max(upperIn, position[p] + halfWidth[p])
            }
            guard lower < upperIn else {
                throw STEMError.invalidParameter(name: "mask", value: "\(mask?.maskedCount ?? 0) masked pixels",
                                                 expected: "at least two unmasked pixels at different radii")
            }
            if unit != .dAngstrom { lower = max(lower, 0) }
        }
        let eps32 = 1.0 + Double(Float.ulpOfOne)
        let upper = upperIn > 0 ? upperIn * eps32 : upperIn / eps32
        let width = (upper - lower) / Double(options.bins)
        self.axis = RadialAxis(unit: unit, lower: lower, width: width, count: options.bins)

        // Per-pixel normalisation N_p.
        var norm = [Double](repeating: 1, count: n)
        if options.solidAngle {
            let sa = geometry.solidAngleArray()
            for p in 0 ..< n { norm[p] *= sa[p] }
        }
        if let f = options.polarizationFactor {
            let pol = geometry.polarizationArray(factor: f)
            for p in 0 ..< n { norm[p] *= pol[p] }
        }

        // Entries (bin, pixel, coefficient), then sorted into CSR by a counting pass.
        let bins = options.bins
        var entryBin: [Int32] = [], entryPixel: [Int32] = [], entryCoef: [Float] = []
        entryBin.reserveCapacity(n); entryPixel.reserveCapacity(n)
        let split = options.splitting == .boundingBox
        for p in 0 ..< n where valid[p] {
            let x = position[p]
            if !split {
                guard x >= lower, x <= upperIn else { continue }
                let b = Int((x - lower) / width)
                guard b >= 0, b < bins else { continue }
                entryBin.append(Int32(b)); entryPixel.append(Int32(p))
            } else {
                var lo = x - halfWidth[p], hi = x + halfWidth[p]
                guard hi >= lower, lo <= upperIn else { continue }
                lo = max(lo, lower); hi = min(hi, upperIn)
                let f0 = (lo - lower) / width, f1 = (hi - lower) / width
                let b0 = min(Int(f0), bins - 1), b1 = min(Int(f1), bins - 1)
                if b0 == b1 {
                    entryBin.append(Int32(b0)); entryPixel.append(Int32(p)); entryCoef.append(1)
                } else {
                    let inv = 1 / (f1 - f0)
                    entryBin.append(Int32(b0)); entryPixel.append(Int32(p))
                    entryCoef.append(Float((Double(b0 + 1) - f0) * inv))
                    if b1 > b0 + 1 {
                        for b in b0 + 1 ..< b1 {
                            entryBin.append(Int32(b)); entryPixel.append(Int32(p)); entryCoef.append(Float(inv))
                        }
                    }
                    entryBin.append(Int32(b1)); entryPixel.append(Int32(p))
                    entryCoef.append(Float((f1 - Double(b1)) * inv))
                }
            }
        }
        var start = [Int32](repeating: 0, count: bins + 1)
        for b in entryBin { start[Int(b) + 1] += 1 }
        for b in 0 ..< bins { start[b + 1] += start[b] }
        var fill = start
        var index = [Int32](repeating: 0, count: entryBin.count)
        var coef = [Float](repeating: 0, count: split ? entryBin.count : 0)
        for e in 0 ..< entryBin.count {
            let b = Int(entryBin[e]), k = Int(fill[b])
            index[k] = entryPixel[e]
            if split { coef[k] = entryCoef[e] }
            fill[b] += 1
        }
        var inverse = [Float](repeating: 0, count: bins)
        for b in 0 ..< bins {
            var s = 0.0
            for k in Int(start[b]) ..< Int(start[b + 1]) {
                s += (split ? Double(coef[k]) : 1) * norm[Int(index[k])]
            }
            inverse[b] = s > 0 ? Float(1 / s) : 0
        }
        self.binStart = start
        self.pixelIndex = index
        self.coefficient = coef
        self.inverseNorm = inverse
    }

    /// Integrates one pattern (`geometry.detector.pixelCount` values) into `profile` (`axis.count` values).
    public func integrate(_ pattern: UnsafeBufferPointer<Float>, into profile: UnsafeMutableBufferPointer<Float>) {
        precondition(pattern.count >= geometry.detector.pixelCount && profile.count >= axis.count)
        binStart.withUnsafeBufferPointer { start in
            pixelIndex.withUnsafeBufferPointer { index in
                coefficient.withUnsafeBufferPointer { coef in
                    inverseNorm.withUnsafeBufferPointer { inv in
                        let weighted = !coef.isEmpty
                        for b in 0 ..< axis.count {
                            let k0 = Int(start[b]), k1 = Int(start[b + 1])
                            var s0: Float = 0, s1: Float = 0
                            var k = k0
                            if weighted {
                                while k + 1 < k1 {
                                    s0 += coef[k] * pattern[Int(index[k])]
                                    s1 += coef[k + 1] * pattern[Int(index[k + 1])]
                                    k += 2
                                }
                                if k < k1 { s0 += coef[k] * pattern[Int(index[k])] }
                            } else {
                                while k + 1 < k1 {
                                    s0 += pattern[Int(index[k])]
                                    s1 += pattern[Int(index[k + 1])]
                                    k += 2
                                }
                                if k < k1 { s0 += pattern[Int(index[k])] }
                            }
                            profile[b] = (s0 + s1) * inv[b]
                        }
                    }
                }
            }
        }
    }

    /// Integrates `count` consecutive patterns of `patterns` into `count` consecutive profiles, four
    /// patterns per pass over the lookup table.
    public func integrate(patterns: UnsafeBufferPointer<Float>, count: Int,
                          into profiles: UnsafeMutableBufferPointer<Float>) {
        let np = geometry.detector.pixelCount, nb = axis.count
        precondition(patterns.count >= count * np && profiles.count >= count * nb)
        guard let base = patterns.baseAddress, let out = profiles.baseAddress else { return }
        var first = 0
        binStart.withUnsafeBufferPointer { start in
            pixelIndex.withUnsafeBufferPointer { index in
                coefficient.withUnsafeBufferPointer { coef in
                    inverseNorm.withUnsafeBufferPointer { inv in
                        let weighted = !coef.isEmpty
                        while first + 4 <= count {
                            let a = base + first * np, b = a + np, c = b + np, d = c + np
                            let oa = out + first * nb
                            for bin in 0 ..< nb {
                                // Two partial sums per pattern (even and odd entries), added in the same
                                // order as the single-pattern kernel so both give bit-identical profiles.
                                var a0: Float = 0, a1: Float = 0, b0: Float = 0, b1: Float = 0
                                var c0: Float = 0, c1: Float = 0, d0: Float = 0, d1: Float = 0
                                let k1 = Int(start[bin + 1])
                                var k = Int(start[bin])
                                if weighted {
                                    while k + 1 < k1 {
                                        let p = Int(index[k]), q = Int(index[k + 1]), w = coef[k], v = coef[k + 1]
                                        a0 += w * a[p]; b0 += w * b[p]; c0 += w * c[p]; d0 += w * d[p]
                                        a1 += v * a[q]; b1 += v * b[q]; c1 += v * c[q]; d1 += v * d[q]
                                        k += 2
                                    }
                                    if k < k1 {
                                        let p = Int(index[k]), w = coef[k]
                                        a0 += w * a[p]; b0 += w * b[p]; c0 += w * c[p]; d0 += w * d[p]
                                    }
                                } else {
                                    while k + 1 < k1 {
                                        let p = Int(index[k]), q = Int(index[k + 1])
                                        a0 += a[p]; b0 += b[p]; c0 += c[p]; d0 += d[p]
                                        a1 += a[q]; b1 += b[q]; c1 += c[q]; d1 += d[q]
                                        k += 2
                                    }
                                    if k < k1 {
                                        let p = Int(index[k])
                                        a0 += a[p]; b0 += b[p]; c0 += c[p]; d0 += d[p]
                                    }
                                }
                                let s = inv[bin]
                                oa[bin] = (a0 + a1) * s
                                oa[nb + bin] = (b0 + b1) * s
                                oa[2 * nb + bin] = (c0 + c1) * s
                                oa[3 * nb + bin] = (d0 + d1) * s
                            }
                            first += 4
                        }
                    }
                }
            }
        }
        while first < count {
            integrate(UnsafeBufferPointer(start: base + first * np, count: np),
                      into: UnsafeMutableBufferPointer(start: out + first * nb, count: nb))
            first += 1
        }
    }

    /// Integrates every pattern of a block.
    public func integrate(_ block: PatternBlock) throws -> ProfileBlock {
        guard block.detector == geometry.detector else {
            throw STEMError.shapeMismatch(path: "pattern block", field: "detector", expected: "\(geometry.detector)",
                                          found: "\(block.detector)")
        }
        var values = [Float](repeating: 0, count: block.count * axis.count)
        block.pixels.withUnsafeBufferPointer { src in
            values.withUnsafeMutableBufferPointer { dst in integrate(patterns: src, count: block.count, into: dst) }
        }
        return ProfileBlock(firstIndex: block.firstIndex, count: block.count, axis: axis, values: values)
    }

    /// Integrates one pattern given as an array.
    public func integrate(_ pattern: [Float]) -> [Float] {
        var out = [Float](repeating: 0, count: axis.count)
        pattern.withUnsafeBufferPointer { src in out.withUnsafeMutableBufferPointer { integrate(src, into: $0) } }
        return out
    }
}
