import STEMCore

/// The result of registering one pattern: where its spots are in the caller's spot array, and its maps.
public struct PatternRegistration: Sendable, Equatable {
    /// Rows of the caller's spot array written for this pattern; the first is the direct beam (when any).
    public var spotRange: Range<Int>
    public var maps: PatternMaps
    /// Pixels that were NaN or infinite in the input and were treated as zero.
    public var invalidPixels: Int
    /// Whether `spotRange.first` is the direct beam (false only when no spot was found).
    public var hasDirectBeam: Bool { !spotRange.isEmpty }
}

/// Per-pattern registration (methods notes, section 1, steps 4-5, spot detection, refinement, record and
/// reconstruction) on a prepared pattern (binned, centred and 3 x 3-averaged as chosen), with all scratch
/// buffers owned by the registrar: registering a pattern allocates nothing. One registrar per thread.
public final class PatternRegistrar {
    public let parameters: RegistrationParameters
    /// Working pattern shape (after binning).
    public let shape: DetectorShape
    /// Applied to the refined spot positions (about the direct beam) when set.
    public let distortion: EllipticalDistortion?

    private var work: [Float], background: [Float], subtracted: [Float], blurred: [Float], scratch: [Float]
    private var reconstructionScratch: [Float]
    private var candidates: [Peak] = [], interiorPeaks: [Peak] = []
    private let blur: GaussianBlur
    private let reconstructionBlur: GaussianBlur?
    private let paraboloid: ParaboloidBackground
    private let prominence: TopographicProminence

    public init(parameters: RegistrationParameters, shape: DetectorShape,
                distortion: EllipticalDistortion? = nil) throws {
        try parameters.validate()
        let side = RegistrationParameters.minimumDetectorSide
        guard shape.rows >= side, shape.columns >= side else {
            throw STEMError.invalidParameter(name: "detector", value: "\(shape)",
                                             expected: "at least \(side) x \(side) pixels after binning")
        }
        self.parameters = parameters
        self.shape = shape
        self.distortion = distortion
        let n = shape.pixelCount
        work = [Float](repeating: 0, count: n)
        background = work; subtracted = work; blurred = work; scratch = work
        let rn = parameters.reconstructionSize * parameters.reconstructionSize
        reconstructionScratch = parameters.reconstructionBlurSigma > 0 ? [Float](repeating: 0, count: rn) : [0]
        blur = GaussianBlur(sigma: parameters.blurSigma)
        reconstructionBlur = parameters.reconstructionBlurSigma > 0 ? GaussianBlur(sigma: parameters.reconstructionBlurSigma) : nil
        paraboloid = ParaboloidBackground(maxSide: max(shape.rows, shape.columns), radius: parameters.backgroundRadius)
        prominence = TopographicProminence(pixelCapacity: n)
        candidates.reserveCapacity(4096)
        interiorPeaks.reserveCapacity(4096)
    }

    /// Pixels of one reconstructed pattern.
    public var reconstructionPixelCount: Int { parameters.reconstructionSize * parameters.reconstructionSize }

    /// Registers one prepared pattern: appends its spots (direct beam first, then by distance to the centre)
    /// to `spots` and, when `reconstruction` is given, draws the reconstructed pattern into it
    /// (`reconstructionPixelCount` values).
    public func register(pattern: UnsafeBufferPointer<Float>, appendingSpotsTo spots: inout [Spot],
                         reconstruction: UnsafeMutableBufferPointer<Float>?) -> PatternRegistration {
        let w = shape.columns, h = shape.rows, n = shape.pixelCount
        precondition(pattern.count >= n, "PatternRegistrar: pattern has \(pattern.count) values, expected \(n)")
        let p = parameters
        var maps = PatternMaps()
        var invalid = 0
        let first = spots.count
        work.withUnsafeMutableBufferPointer { work in
        background.withUnsafeMutableBufferPointer { bg in
        subtracted.withUnsafeMutableBufferPointer { sub in
        blurred.withUnsafeMutableBufferPointer { bl in
        scratch.withUnsafeMutableBufferPointer { tmp in
            // Sanitise: non-finite values count as zero; find the dynamic range.
            let (lo, hi, bad) = Self.sanitise(pattern.baseAddress!, into: work.baseAddress!, count: n)
            invalid = bad
            let range = hi - lo
            let grey: Float = p.greyLevelScale == .absolute ? 1 : (range.isFinite && range > 0 ? range / 255 : 0)
            let cwork = UnsafeBufferPointer(work)
            // Noise from the high-angle corners, before background subtraction.
            let noise = SpotMeasurement.cornerNoise(cwork, width: w, height: h)
            // Step 5: blur for localisation (of the pattern; the background is smooth, so blurring before or
            // after subtracting it is the same up to the background's own curvature).
            blur.apply(cwork, width: w, height: h, scratch: tmp, into: bl)
            // Step 4: background subtraction. The background surface is the paraboloid opening of the *smoothed*
            // pattern (ImageJ's rolling ball also smooths before rolling, 3 x 3); estimated on raw pixels, the
            // opening follows the noise minima and leaves ridges as tall as the noise that would pass the
            // prominence test. It is subtracted from the unblurred pattern (intensities) and from the blurred one
            // (detection). Without background subtraction, the minimum is subtracted.
            if p.backgroundSubtraction {
                let c = grey / (2 * p.backgroundRadius)
                paraboloid.subtract(UnsafeBufferPointer(bl), width: w, height: h, curvature: c, background: bg, into: bl)
                let s = sub.baseAddress!, wk = work.baseAddress!, b = bg.baseAddress!
                for i in 0 ..< n { s[i] = wk[i] - b[i] }
            } else {
                let m = lo.isFinite ? lo : 0
                for i in 0 ..< n { sub[i] = work[i] - m; bl[i] -= m }
            }
            let cbl = UnsafeBufferPointer(bl), csub = UnsafeBufferPointer(sub)
            // Adaptive prominence threshold.
            let threshold = max(p.userProminence ?? 0, p.defaultProminenceGreyLevels * grey, noise)
            maps.noise = noise
            maps.threshold = threshold
            // Candidate maxima: 3 x 3 (non-strict) local maxima at least `threshold` above the minimum.
            let minimum = Self.minimum(UnsafePointer(bl.baseAddress!), count: n)
            var lowestCandidate = Float.infinity
            interiorPeaks.removeAll(keepingCapacity: true)
            for y in 1 ..< h - 1 {
                let r = bl.baseAddress! + y * w
                for x in 1 ..< w - 1 {
                    let v = r[x]
                    if v - minimum < threshold || v < r[x - 1] || v < r[x + 1] { continue }
                    let u = r - w, d = r + w
                    if v < u[x - 1] || v < u[x] || v < u[x + 1] || v < d[x - 1] || v < d[x] || v < d[x + 1] { continue }
                    lowestCandidate = min(lowestCandidate, v)
                    // A peak of the watershed: higher than its earlier neighbours (ties go to the lower index).
                    if v > u[x - 1] && v > u[x] && v > u[x + 1] && v > r[x - 1] {
                        interiorPeaks.append(Peak(index: y * w + x, value: v, prominence: threshold, saddleFound: true))
                    }
                }
            }
            if !p.excludeEdgeMaxima { // border pixels can be maxima too
                for i in 0 ..< n {
                    let y = i / w, x = i % w
                    if y > 0 && y < h - 1 && x > 0 && x < w - 1 { continue }
                    let v = bl[i]
                    if v - minimum < threshold { continue }
                    var isMax = true
                    for yy in max(0, y - 1) ... min(h - 1, y + 1) {
                        for xx in max(0, x - 1) ... min(w - 1, x + 1) where bl[yy * w + xx] > v { isMax = false }
                    }
                    if isMax { lowestCandidate = min(lowestCandidate, v) }
                }
            }
            candidates.removeAll(keepingCapacity: true)
            // Fast exact path: test the interior peaks one by one, highest first, by a bounded fill
            // (`TopographicProminence.isProminent`); the full watershed runs only when the fills exceed their
            // budget (or edge maxima are allowed, or the threshold is not positive). Both accept the same peaks.
            var decided = false
            if lowestCandidate.isFinite && p.excludeEdgeMaxima && threshold > 0 && threshold.isFinite {
                let floor = lowestCandidate - threshold
                var budget = n / 4
                decided = true
                interiorPeaks.sort { $0.value > $1.value || ($0.value == $1.value && $0.index < $1.index) }
                for pk in interiorPeaks {
                    guard let prominent = prominence.isProminent(cbl, width: w, height: h, peak: pk.index,
                                                                 threshold: threshold, floor: floor, budget: &budget)
                    else { decided = false; break }
                    if !prominent
                        || prominence.regionTouchesEdge(cbl, width: w, height: h, peak: pk.index, threshold: threshold) {
                        continue
                    }
                    candidates.append(pk)
                    if candidates.count == p.maxSpots { break }
                }
                if !decided { candidates.removeAll(keepingCapacity: true) }
            }
            if lowestCandidate.isFinite && !decided {
                let peaks = prominence.compute(cbl, width: w, height: h, floor: lowestCandidate - threshold)
                for pk in peaks where pk.prominence > 0 && pk.value - minimum >= threshold
                    && (pk.saddleFound ? pk.prominence >= threshold : pk.value >= lowestCandidate) {
                    if p.excludeEdgeMaxima
                        && prominence.regionTouchesEdge(cbl, width: w, height: h, peak: pk.index, threshold: threshold) {
                        continue
                    }
                    candidates.append(pk)
                    if candidates.count == p.maxSpots { break } // peaks come in descending value: the strongest
                }
            }
            guard !candidates.isEmpty else { return }
            // Sort by distance to the centre; the nearest is the direct beam.
            Self.sortByDistanceToCentre(&candidates, width: w, height: h)
            // Sub-pixel refinement and record.
            let refineImage: UnsafeBufferPointer<Float> = p.refinementImage == .blurred ? cbl : csub
            for (k, c) in candidates.enumerated() {
                let isDirect = k == 0
                let start = (x: Float(c.index % w) + 0.5, y: Float(c.index / w) + 0.5)
                let r = SpotMeasurement.refine(refineImage, width: w, height: h, x: start.x, y: start.y,
                                               window: isDirect ? p.directBeamWindow : p.spotWindow,
                                               passes: p.refinementPasses, subtractBaseline: p.refinementBaseline)
                let intensity = SpotMeasurement.discMean(csub, width: w, height: h, x: r.x, y: r.y,
                                                         diameter: p.intensityDiscDiameter)
                let pseudo = SpotMeasurement.pseudoProminence(
                    cbl, width: w, height: h, x: r.x, y: r.y,
                    radius: isDirect ? p.pseudoProminenceRadiusDirect : p.pseudoProminenceRadiusSpot)
                spots.append(Spot(x: r.x, y: r.y, intensity: intensity, pseudoProminence: pseudo))
            }
            // Ellipse correction about the direct beam, then re-sort the others by distance to the centre.
            if let e = distortion {
                let o = spots[first]
                for k in first + 1 ..< spots.count {
                    let c = e.correct(x: spots[k].x, y: spots[k].y, originX: o.x, originY: o.y)
                    spots[k].x = c.x; spots[k].y = c.y
                }
            }
            if spots.count - first > 2 {
                let cx = Float(w) / 2, cy = Float(h) / 2
                spots[(first + 1)...].sort {
                    ($0.x - cx) * ($0.x - cx) + ($0.y - cy) * ($0.y - cy) < ($1.x - cx) * ($1.x - cx) + ($1.y - cy) * ($1.y - cy)
                }
            }
        }}}}}
        let range = first ..< spots.count
        maps.spotCount = range.count
        if !range.isEmpty {
            maps.virtualBrightField = spots[first].intensity
            for k in range {
                maps.fullVirtualBrightField += spots[k].intensity
                maps.pseudoProminenceSum += spots[k].pseudoProminence
            }
        }
        if let out = reconstruction {
            spots.withUnsafeBufferPointer { sp in
                reconstructionScratch.withUnsafeMutableBufferPointer { rs in
                    Reconstruction.render(UnsafeBufferPointer(rebasing: sp[range]), directBeam: range.isEmpty ? nil : 0,
                                          workingWidth: w, workingHeight: h, parameters: p, blur: reconstructionBlur,
                                          scratch: rs, into: out)
                }
            }
        }
        return PatternRegistration(spotRange: range, maps: maps, invalidPixels: invalid)
    }

    /// Copies `count` values with NaN and infinities replaced by zero; returns their minimum, maximum and the
    /// number replaced (four independent accumulators, branch-free).
    static func sanitise(_ src: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>, count n: Int)
        -> (lo: Float, hi: Float, invalid: Int) {
        var lo = (Float.infinity, Float.infinity, Float.infinity, Float.infinity)
        var hi = (-Float.infinity, -Float.infinity, -Float.infinity, -Float.infinity)
        var bad = 0
        @inline(__always) func clean(_ v: Float, _ bad: inout Int) -> Float {
            let ok = v.isFinite
            bad &+= ok ? 0 : 1
            return ok ? v : 0
        }
        var i = 0
        while i + 4 <= n {
            let a = clean(src[i], &bad), b = clean(src[i + 1], &bad)
            let c = clean(src[i + 2], &bad), d = clean(src[i + 3], &bad)
            dst[i] = a; dst[i + 1] = b; dst[i + 2] = c; dst[i + 3] = d
            lo.0 = a < lo.0 ? a : lo.0; lo.1 = b < lo.1 ? b : lo.1; lo.2 = c < lo.2 ? c : lo.2; lo.3 = d < lo.3 ? d : lo.3
            hi.0 = a > hi.0 ? a : hi.0; hi.1 = b > hi.1 ? b : hi.1; hi.2 = c > hi.2 ? c : hi.2; hi.3 = d > hi.3 ? d : hi.3
            i += 4
        }
        var l = min(min(lo.0, lo.1), min(lo.2, lo.3)), h = max(max(hi.0, hi.1), max(hi.2, hi.3))
        while i < n {
            let v = clean(src[i], &bad)
            dst[i] = v
            l = min(l, v); h = max(h, v)
            i += 1
        }
        return (l, h, bad)
    }

    /// Minimum of `count` NaN-free values (+infinity when empty; four independent accumulators).
    static func minimum(_ p: UnsafePointer<Float>, count n: Int) -> Float {
        var m = (Float.infinity, Float.infinity, Float.infinity, Float.infinity)
        var i = 0
        while i + 4 <= n {
            let a = p[i], b = p[i + 1], c = p[i + 2], d = p[i + 3]
            m.0 = a < m.0 ? a : m.0; m.1 = b < m.1 ? b : m.1; m.2 = c < m.2 ? c : m.2; m.3 = d < m.3 ? d : m.3
            i += 4
        }
        var r = min(min(m.0, m.1), min(m.2, m.3))
        while i < n { r = min(r, p[i]); i += 1 }
        return r
    }

    /// Sorts peaks by the distance of their pixel centres to the image centre (W/2, H/2), ties by index.
    static func sortByDistanceToCentre(_ peaks: inout [Peak], width w: Int, height h: Int) {
        let cx = Float(w) / 2, cy = Float(h) / 2
        peaks.sort { a, b in
            let ax = Float(a.index % w) + 0.5 - cx, ay = Float(a.index / w) + 0.5 - cy
            let bx = Float(b.index % w) + 0.5 - cx, by = Float(b.index / w) + 0.5 - cy
            let da = ax * ax + ay * ay, db = bx * bx + by * by
            return da < db || (da == db && a.index < b.index)
        }
    }

    /// Convenience for one pattern held in an array: its registration, spots and reconstruction.
    public func register(pattern: [Float]) -> (registration: PatternRegistration, spots: [Spot], reconstruction: [Float]) {
        var spots = [Spot]()
        var out = [Float](repeating: 0, count: reconstructionPixelCount)
        let r = pattern.withUnsafeBufferPointer { pp in
            out.withUnsafeMutableBufferPointer { register(pattern: pp, appendingSpotsTo: &spots, reconstruction: $0) }
        }
        return (r, spots, out)
    }
}
