import Foundation
import STEMCore

/// One fitted diffraction peak.
public struct FittedPeak: Hashable, Sendable {
    /// Centre in the profile's radial unit.
    public var position: Double
    /// Centre as a d-spacing (Å).
    public var dSpacing: Double
    /// Standard error of `dSpacing` (Å) from the fit covariance.
    public var dSpacingError: Double
    /// Peak height above the background (profile intensity units).
    public var height: Double
    /// Full width at half maximum in d (Å).
    public var fwhmD: Double
    /// Integrated intensity (area in the profile's radial unit).
    public var area: Double
    /// Height over the noise level of the profile.
    public var significance: Double
    /// The stage window holding the centre.
    public var stage: LithiationStage
}

/// Result of fitting one profile: the significant peaks sorted by d, the linear background, and the phase
/// fractions (area shares of the peaks per stage; all zero when no peak was found).
public struct PeakFitResult: Hashable, Sendable {
    public var peaks: [FittedPeak]
    /// Background b0 + b1 (x − xc) in profile units, xc the window centre.
    public var background: (Double, Double) { (backgroundOffset, backgroundSlope) }
    public var backgroundOffset: Double
    public var backgroundSlope: Double
    /// Noise standard deviation estimated from the profile.
    public var noise: Double
    /// Area share of each stage in `LithiationStage.lithiated` order (graphite, dilute, stage 2, stage 1).
    public var phaseFractions: [Double]

    /// The stage of the strongest peak (largest area), `.none` without peaks.
    public var dominantStage: LithiationStage { dominantPeak?.stage ?? .none }
    public var dominantPeak: FittedPeak? { peaks.max { $0.area < $1.area } }
}

/// Fits the graphite (00l) peaks in a d-spacing window of 1D profiles: pseudo-Voigt (or Gaussian) peaks on
/// a linear background by Levenberg–Marquardt (methods notes §4).
///
/// Robust to missing and coexisting peaks: candidates are the local maxima of the lightly smoothed,
/// baseline-subtracted profile that stand `significance` noise levels above it and lie at least
/// `minimumSeparation` apart (at most `maxPeaks`); after each fit, peaks below the significance threshold
/// or merged into a neighbour are dropped and the rest refitted. The fit runs in the profile's own
/// coordinate (uniform bins); positions and widths are reported in d.
public struct GraphitePeakFitter: Sendable {
    public struct Options: Hashable, Sendable {
        /// Window fitted (Å).
        public var dRange: ClosedRange<Double>
        public var shape: PeakShape
        public var maxPeaks: Int
        /// Minimum height / noise of a peak.
        public var significance: Double
        /// Minimum distance between two peaks (Å).
        public var minimumSeparation: Double
        /// Bounds of the FWHM (Å).
        public var fwhmRange: ClosedRange<Double>
        /// Noise standard deviation of the profiles; nil = estimated per profile (MAD of second differences).
        public var noise: Double?
        public var stageWindows: StageWindows

        public init(dRange: ClosedRange<Double> = 3.30 ... 3.80, shape: PeakShape = .pseudoVoigt(eta: 0.5),
                    maxPeaks: Int = 3, significance: Double = 5, minimumSeparation: Double = 0.04,
                    fwhmRange: ClosedRange<Double> = 0.004 ... 0.15, noise: Double? = nil,
                    stageWindows: StageWindows = .default) {
            self.dRange = dRange
            self.shape = shape
            self.maxPeaks = maxPeaks
            self.significance = significance
            self.minimumSeparation = minimumSeparation
            self.fwhmRange = fwhmRange
            self.noise = noise
            self.stageWindows = stageWindows
        }
    }

    public let axis: RadialAxis
    public let wavelength: Double
    public let options: Options
    /// Bins of the profile inside the window.
    public let bins: Range<Int>
    /// Their centres in the profile unit.
    private let x: [Double]
    /// |dd/dx| at the window centre: converts widths between d and the profile unit.
    private let dPerUnit: Double
    private let solver = LevenbergMarquardt(maxIterations: 50, relativeTolerance: 1e-7)

    public init(axis: RadialAxis, wavelength: Double = 1e-10, options: Options = Options()) throws {
        guard options.maxPeaks >= 1, options.significance > 0, options.minimumSeparation > 0,
              options.fwhmRange.lowerBound > 0 else {
            throw STEMError.invalidParameter(name: "peak fit options", value: "\(options)",
                                             expected: "maxPeaks >= 1, significance > 0, separation > 0, fwhm > 0")
        }
        let unit = axis.unit
        guard let a = unit.coordinate(ofD: options.dRange.lowerBound, wavelength: wavelength),
              let b = unit.coordinate(ofD: options.dRange.upperBound, wavelength: wavelength) else {
            throw STEMError.invalidParameter(name: "d range", value: "\(options.dRange)",
                                             expected: "d-spacings reachable at wavelength \(wavelength) m")
        }
        let lo = min(a, b), hi = max(a, b)
        // Bins whose centre lower + (b + ½)·width lies inside [lo, hi].
        let first = max(0, Int(((lo - axis.lower) / axis.width - 0.5).rounded(.up)))
        let last = min(axis.count, Int(((hi - axis.lower) / axis.width - 0.5).rounded(.down)) + 1)
        guard last - first >= 8 else {
            throw STEMError.invalidParameter(
                name: "radial axis", value: "\(axis.lower) ... \(axis.upper) \(unit.rawValue), \(axis.count) bins",
                expected: "at least 8 bins inside d = \(options.dRange) Å")
        }
        self.axis = axis
        self.wavelength = wavelength
        self.options = options
        self.bins = first ..< last
        self.x = (first ..< last).map { axis.lower + (Double($0) + 0.5) * axis.width }
        let mid = 0.5 * (lo + hi)
        let h = 1e-4 * max(abs(mid), 1e-6)
        dPerUnit = abs(unit.dSpacing(of: mid + h, wavelength: wavelength) - unit.dSpacing(of: mid - h, wavelength: wavelength)) / (2 * h)
    }

    /// Fits one profile (`axis.count` values).
    public func fit(_ profile: UnsafeBufferPointer<Float>) -> PeakFitResult {
        let m = x.count
        var y = [Double](repeating: 0, count: m)
        for i in 0 ..< m { let v = Double(profile[bins.lowerBound + i]); y[i] = v.isFinite ? v : 0 }
        let noise = max(options.noise ?? Self.noiseLevel(y), 1e-12)

        // Candidates: maxima of the 3-point smoothed profile above a line through the window ends.
        let edge = max(2, m / 20)
        let left = y[0 ..< edge].reduce(0, +) / Double(edge), right = y[(m - edge)...].reduce(0, +) / Double(edge)
        let x0 = 0.5 * (x[0 + edge / 2] + x[m - 1 - edge / 2]), span = x[m - 1 - edge / 2] - x[edge / 2]
        let slope = span != 0 ? (right - left) / span : 0
        let base0 = 0.5 * (left + right)
        var residual = [Double](repeating: 0, count: m)
        for i in 0 ..< m {
            let s = i == 0 || i == m - 1 ? y[i] : 0.25 * y[i - 1] + 0.5 * y[i] + 0.25 * y[i + 1]
            residual[i] = s - (base0 + slope * (x[i] - x0))
        }
        let separation = options.minimumSeparation / dPerUnit
        let binsApart = max(1, Int(separation / axis.width))
        var candidates: [(Int, Double)] = []
        for i in 1 ..< m - 1 where residual[i] >= residual[i - 1] && residual[i] > residual[i + 1]
            && residual[i] > options.significance * noise {
            candidates.append((i, residual[i]))
        }
        candidates.sort { $0.1 > $1.1 }
        var chosen: [Int] = []
        for (i, _) in candidates where chosen.count < options.maxPeaks {
            if chosen.allSatisfy({ abs($0 - i) >= binsApart }) { chosen.append(i) }
        }
        let wMin = options.fwhmRange.lowerBound / dPerUnit, wMax = options.fwhmRange.upperBound / dPerUnit
        var peaks: [(height: Double, centre: Double, width: Double)] = chosen.map { i in
            // Width from the half-maximum crossings of the residual.
            let half = 0.5 * residual[i]
            var a = i, b = i
            while a > 0 && residual[a] > half { a -= 1 }
            while b < m - 1 && residual[b] > half { b += 1 }
            let w = min(max(Double(b - a) * axis.width, wMin), wMax)
            return (residual[i], x[i], w)
        }

        var b0 = base0, b1 = slope
        var covariance: [Double] = []
        var cost = 0.0
        // Fit, drop insignificant or merged peaks, refit.
        while true {
            let n = 2 + 3 * peaks.count
            var theta = [b0, b1]
            var lower = [-Double.infinity, -Double.infinity], upper = [Double.infinity, Double.infinity]
            for p in peaks {
                theta += [p.height, p.centre, p.width]
                lower += [0, x[0], wMin]
                upper += [.infinity, x[m - 1], wMax]
            }
            let shape = options.shape, xs = x, ys = y
            let result = solver.minimise(parameters: theta, observations: m, lower: lower, upper: upper) { t, r, j in
                for i in 0 ..< m {
                    let xi = xs[i]
                    var f = t[0] + t[1] * (xi - x0)
                    j[i * n] = 1
                    j[i * n + 1] = xi - x0
                    var k = 2
                    while k < n {
                        let e = shape.evaluate(xi, centre: t[k + 1], fwhm: t[k + 2])
                        f += t[k] * e.value
                        j[i * n + k] = e.value
                        j[i * n + k + 1] = t[k] * e.dMu
                        j[i * n + k + 2] = t[k] * e.dW
                        k += 3
                    }
                    r[i] = ys[i] - f
                }
            }
            b0 = result.parameters[0]; b1 = result.parameters[1]
            covariance = result.covarianceDiagonal
            cost = result.cost
            peaks = (0 ..< peaks.count).map { k in
                (result.parameters[2 + 3 * k], result.parameters[3 + 3 * k], result.parameters[4 + 3 * k])
            }
            // The weakest offending peak goes; stop when none offends.
            var worst: Int? = nil
            for k in 0 ..< peaks.count {
                let weak = peaks[k].height < options.significance * noise
                let merged = (0 ..< peaks.count).contains { l in
                    l != k && abs(peaks[l].centre - peaks[k].centre) < 0.5 * separation && peaks[l].height >= peaks[k].height
                }
                if weak || merged, worst == nil || peaks[k].height < peaks[worst!].height { worst = k }
            }
            guard let drop = worst else { break }
            peaks.remove(at: drop)
            if peaks.isEmpty {
                // Background only.
                var sx = 0.0, sy = 0.0, sxx = 0.0, sxy = 0.0
                for i in 0 ..< m { let u = x[i] - x0; sx += u; sy += y[i]; sxx += u * u; sxy += u * y[i] }
                let det = Double(m) * sxx - sx * sx
                b1 = det != 0 ? (Double(m) * sxy - sx * sy) / det : 0
                b0 = (sy - b1 * sx) / Double(m)
                break
            }
        }

        let dof = max(m - 2 - 3 * peaks.count, 1)
        let sigma2 = cost / Double(dof)
        var fitted: [FittedPeak] = []
        var stageArea = [Double](repeating: 0, count: 4)
        for (k, p) in peaks.enumerated() {
            let d = axis.unit.dSpacing(of: p.centre, wavelength: wavelength)
            let varMu = covariance.count > 3 + 3 * k ? covariance[3 + 3 * k] * sigma2 : 0
            let stage = options.stageWindows.stage(ofD: d)
            let area = options.shape.area(height: p.height, fwhm: p.width)
            fitted.append(FittedPeak(position: p.centre, dSpacing: d, dSpacingError: varMu.squareRoot() * dPerUnit,
                                     height: p.height, fwhmD: p.width * dPerUnit, area: area,
                                     significance: p.height / noise, stage: stage))
            if stage != .none { stageArea[Int(stage.rawValue) - 1] += area }
        }
        fitted.sort { $0.dSpacing < $1.dSpacing }
        let total = stageArea.reduce(0, +)
        let fractions = total > 0 ? stageArea.map { $0 / total } : [0, 0, 0, 0]
        return PeakFitResult(peaks: fitted, backgroundOffset: b0, backgroundSlope: b1, noise: noise,
                             phaseFractions: fractions)
    }

    /// Fits one profile given as an array.
    public func fit(_ profile: [Float]) -> PeakFitResult {
        profile.withUnsafeBufferPointer { fit($0) }
    }

    /// Fits every profile of a block (which must use this fitter's axis).
    public func fit(_ block: ProfileBlock) throws -> [PeakFitResult] {
        guard block.axis == axis else {
            throw STEMError.shapeMismatch(path: "profile block", field: "radial axis", expected: "\(axis)",
                                          found: "\(block.axis)")
        }
        return block.values.withUnsafeBufferPointer { all in
            (0 ..< block.count).map { p in
                fit(UnsafeBufferPointer(rebasing: all[p * axis.count ..< (p + 1) * axis.count]))
            }
        }
    }

    /// Robust noise level: 1.4826 MAD of the second differences / √6 (white noise of variance σ² gives
    /// second differences of variance 6σ²; smooth peaks and the background barely contribute).
    static func noiseLevel(_ y: [Double]) -> Double {
        guard y.count >= 5 else { return 0 }
        var d2 = [Double](repeating: 0, count: y.count - 2)
        for i in 1 ..< y.count - 1 {
            let second: Double = y[i - 1] - 2 * y[i] + y[i + 1]
            d2[i - 1] = abs(second)
        }
        d2.sort()
        let median = d2.count % 2 == 1 ? d2[d2.count / 2] : 0.5 * (d2[d2.count / 2 - 1] + d2[d2.count / 2])
        return 1.4826 * median / 6.0.squareRoot()
    }
}
