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
///
/// The pattern is streamed row by row through one fused pass (sanitise, range, corner noise, the
/// localisation blur through a ring of `2 sigma_r + 1` rows, the block minima of the background), so that
/// besides the small shrunk background image only two full-size images are written: the blurred,
/// background-subtracted image used for detection and the background-subtracted unblurred image used for
/// refinement and intensities. The 3 x 3 scan mean can be fused into the same pass
/// (`register(meanAt:of:...)`), the column sums it reads formed in the same pass.
public final class PatternRegistrar {
    public let parameters: RegistrationParameters
    /// Working pattern shape (after binning).
    public let shape: DetectorShape
    /// Applied to the refined spot positions (about the direct beam) when set.
    public let distortion: EllipticalDistortion?

    /// Rows of the 3 x 3 mean, or the sanitised copy of a pattern with non-finite values.
    private let work: UnsafeMutablePointer<Float>
    /// Blurred, then background-subtracted (detection, pseudo-prominence).
    private let blurred: UnsafeMutablePointer<Float>
    /// Unblurred minus background (refinement, intensities).
    private let subtracted: UnsafeMutablePointer<Float>
    /// One row: a sanitised input row; one row of the background.
    private let rowFix: UnsafeMutablePointer<Float>, backgroundRow: UnsafeMutablePointer<Float>
    /// Per row, one flag per block of `candidateBlockWidth` pixels: whether it may hold a candidate maximum.
    private let candidateBlocks: UnsafeMutablePointer<UInt8>
    private let blocksPerRow: Int
    private var candidates: [Peak] = [], interiorPeaks: [Peak] = []
    private let blur: GaussianBlur
    private let blurStream: GaussianBlur.RowStream
    /// The optional final blur of the reconstruction (`reconstructionBlurSigma > 0`).
    private let reconstructionBlur: GaussianBlur.RowStream?
    private let paraboloid: ParaboloidBackground
    /// Workspace of the beam-flank correction: a window's neighbourhood, and the samples of one circle.
    private let patch: UnsafeMutablePointer<Float>, circleSamples: UnsafeMutablePointer<Float>
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
        work = AlignedAllocation.allocate(Float.self, capacity: n); work.initialize(repeating: 0, count: n)
        blurred = AlignedAllocation.allocate(Float.self, capacity: n); blurred.initialize(repeating: 0, count: n)
        subtracted = AlignedAllocation.allocate(Float.self, capacity: n); subtracted.initialize(repeating: 0, count: n)
        rowFix = .allocate(capacity: shape.columns); rowFix.initialize(repeating: 0, count: shape.columns)
        backgroundRow = .allocate(capacity: shape.columns); backgroundRow.initialize(repeating: 0, count: shape.columns)
        blocksPerRow = (shape.columns + Self.candidateBlockWidth - 1) / Self.candidateBlockWidth
        candidateBlocks = .allocate(capacity: blocksPerRow * shape.rows)
        candidateBlocks.initialize(repeating: 0, count: blocksPerRow * shape.rows)
        blur = GaussianBlur(sigma: parameters.blurSigma)
        blurStream = GaussianBlur.RowStream(blur: blur, width: shape.columns, height: shape.rows)
        let rs = parameters.reconstructionSize
        reconstructionBlur = parameters.reconstructionBlurSigma > 0
            ? GaussianBlur.RowStream(blur: GaussianBlur(sigma: parameters.reconstructionBlurSigma), width: rs, height: rs) : nil
        paraboloid = ParaboloidBackground(maxSide: max(shape.rows, shape.columns), radius: parameters.backgroundRadius)
        prominence = TopographicProminence(pixelCapacity: n)
        patch = .allocate(capacity: n); patch.initialize(repeating: 0, count: n)
        circleSamples = .allocate(capacity: 2 * BeamFlank.maxSamples); circleSamples.initialize(repeating: 0, count: 2 * BeamFlank.maxSamples)
        candidates.reserveCapacity(4096)
        interiorPeaks.reserveCapacity(4096)
    }

    deinit {
        work.deallocate(); blurred.deallocate(); subtracted.deallocate(); rowFix.deallocate(); backgroundRow.deallocate()
        candidateBlocks.deallocate(); patch.deallocate(); circleSamples.deallocate()
    }

    /// Whether `register` clears the reconstruction canvas before drawing (false: the caller keeps it clear,
    /// for example by zeroing the `Reconstruction.rowBands` it stored).
    public var clearsReconstruction = true

    /// Refined spots closer than this (px) are one spot: the later candidate (farther from the centre) is
    /// dropped. Two reflections that close cannot be told apart under the localisation blur.
    public static let duplicateDistance: Float = 1.5
    /// A maximum on a brighter spot's upper half is part of it below this prominence per unit of that spot's
    /// height (plateau noise: a few per cent; two spots resolved under the blur: a fifth or more).
    public static let upperHalfProminence: Float = 0.1

    /// Pixels of one reconstructed pattern.
    public var reconstructionPixelCount: Int { parameters.reconstructionSize * parameters.reconstructionSize }

    /// Registers one prepared pattern: appends its spots (direct beam first, then by distance to the centre)
    /// to `spots` and, when `reconstruction` is given, draws the reconstructed pattern into it
    /// (`reconstructionPixelCount` values).
    public func register(pattern: UnsafeBufferPointer<Float>, appendingSpotsTo spots: inout [Spot],
                         reconstruction: UnsafeMutableBufferPointer<Float>?) -> PatternRegistration {
        precondition(pattern.count >= shape.pixelCount,
                     "PatternRegistrar: pattern has \(pattern.count) values, expected \(shape.pixelCount)")
        return register(source: .pattern(pattern.baseAddress!), spots: &spots, reconstruction: reconstruction)
    }

    /// Registers the 3 x 3 scan mean (methods notes, step 3) at `column` of the scan row `sweep` is on, from
    /// its column sums (`ScanNeighbourMean.RowSweep.plan`), without writing the mean pattern anywhere but the
    /// registrar's own workspace; the column sums the plan leaves pending are formed row by row in the same
    /// pass. Otherwise as `register(pattern:...)`.
    public func register(meanAt column: Int, of sweep: ScanNeighbourMean.RowSweep, appendingSpotsTo spots: inout [Spot],
                         reconstruction: UnsafeMutableBufferPointer<Float>?) -> PatternRegistration {
        precondition(sweep.pixelCount == shape.pixelCount, "PatternRegistrar: the sweep's patterns are not \(shape)")
        let terms = sweep.plan(column: column)
        return register(source: .mean(terms.sums, terms.inverseCount, sweep.pending),
                        spots: &spots, reconstruction: reconstruction)
    }

    private enum RowSource {
        case pattern(UnsafePointer<Float>)
        case mean(UnsafeBufferPointer<UnsafePointer<Float>>, Float, ScanNeighbourMean.RowSweep.PendingSums)
    }

    private func register(source: RowSource, spots: inout [Spot],
                          reconstruction: UnsafeMutableBufferPointer<Float>?) -> PatternRegistration {
        let w = shape.columns, h = shape.rows, n = shape.pixelCount
        let p = parameters
        var maps = PatternMaps()
        let first = spots.count
        let work = self.work, bl = self.blurred, sub = self.subtracted

        // Pass 1, row by row: the prepared row (the scan mean when asked), sanitised (non-finite values count
        // as zero); its range; the corner noise (before background subtraction); the localisation blur
        // (step 5: the background is smooth, so blurring before or after subtracting it is the same up to its
        // own curvature); and the block minima of the blurred image for the background.
        var lo = Float.infinity, hi = -Float.infinity
        var invalid = 0
        var noiseSum = SpotMeasurement.CornerNoise(width: w, height: h)
        let shrink = p.backgroundSubtraction
        // Each blurred row as the stream completes it: in the detection image, and into the background's shrink.
        func blurredRow(_ yo: Int, _ out: UnsafePointer<Float>) {
            let dst = bl + yo * w
            if out != UnsafePointer(dst) { dst.update(from: out, count: w) }
            if shrink { paraboloid.shrink(row: out, y: yo, width: w, height: h) }
        }
        blurStream.reset(destination: bl)
        for y in 0 ..< h {
            var row: UnsafePointer<Float>
            switch source {
            case .pattern(let base):
                row = base + y * w
            case .mean(let sources, let inv, let pending):
                if pending.count > 0 { pending.form(offset: y * w, count: w) }
                let d = work + y * w
                ScanNeighbourMean.sum(sources, offset: y * w, count: w, scale: inv, into: d)
                row = UnsafePointer(d)
            }
            let (rlo, rhi, bad) = Self.valueRange(row, count: w)
            if bad > 0 {
                invalid += bad
                let r = Self.sanitise(row, into: rowFix, count: w)
                row = UnsafePointer(rowFix)
                lo = min(lo, r.lo); hi = max(hi, r.hi)
            } else {
                lo = min(lo, rlo); hi = max(hi, rhi)
            }
            noiseSum.add(row: row, index: y)
            blurStream.push(row, emit: blurredRow)
        }
        blurStream.finish(emit: blurredRow)
        // The prepared pattern: the caller's (or the mean) when it was finite, else a sanitised copy.
        var prepared: UnsafePointer<Float>
        switch source {
        case .pattern(let base): prepared = base
        case .mean: prepared = UnsafePointer(work)
        }
        if invalid > 0 {
            _ = Self.sanitise(prepared, into: work, count: n)
            prepared = UnsafePointer(work)
        }
        let span = hi - lo
        let grey: Float = p.greyLevelScale == .absolute ? 1 : (span.isFinite && span > 0 ? span / 255 : 0)
        let noise = noiseSum.value
        // The shot-noise test (counted data): electrons per unit of the prepared pattern (the binned area and
        // the patterns of the 3 x 3 mean, over the input value of one electron).
        let electronsPerUnit: Double? = p.electronValue.map { e in
            let binned = p.binning ? Double(p.binningFactor * p.binningFactor) : 1
            var patterns = 1.0
            if case .mean(_, let inv, _) = source { patterns = (1 / Double(inv)).rounded() }
            return binned * patterns / Double(e)
        }
        let coreRadius = ShotNoise.coreRadius(blurSigma: p.blurSigma)
        let cornerMean = noiseSum.mean

        // Adaptive prominence threshold (known after pass 1: grey scale and noise).
        let threshold = max(p.userProminence ?? 0, p.defaultProminenceGreyLevels * grey, noise)
        maps.noise = noise
        maps.threshold = threshold

        // Pass 2, row by row: background subtraction (step 4). The background surface is the paraboloid
        // opening of the *smoothed* pattern (ImageJ's rolling ball also smooths before rolling, 3 x 3); estimated
        // on raw pixels, the opening follows the noise minima and leaves ridges as tall as the noise that would
        // pass the prominence test. Clamped to the blurred image, it is subtracted from the unblurred pattern
        // (intensities) and from the blurred one (detection). Without background subtraction, the minimum is
        // subtracted. The same pass flags the blocks that can hold a candidate maximum (see below).
        let blocks = candidateBlocks, perRow = blocksPerRow
        var minimum = Float.infinity
        if p.backgroundSubtraction {
            let c = grey / (2 * p.backgroundRadius)
            let curved = c > 0 && c.isFinite
            if curved { paraboloid.open(curvature: c, width: w, height: h) }
            let blurLow = curved ? 0 : Self.minimum(UnsafePointer(bl), count: n)
            let bgr = backgroundRow
            // The subtracted blurred image is `v - min(background, v) >= 0`, so its minimum is not negative and
            // a candidate (`v - minimum >= threshold`) has `v >= threshold`: the blocks flagged here hold them all.
            if !curved { bgr.update(repeating: blurLow, count: w) } // a flat element: the global minimum
            for y in 0 ..< h {
                let rows = curved ? paraboloid.backgroundRows(y, width: w, height: h) : (UnsafePointer(bgr), UnsafePointer(bgr), 0)
                minimum = min(minimum, Self.subtractBackground(rows, blurred: bl + y * w, pattern: prepared + y * w,
                                                               into: sub + y * w, count: w, threshold: threshold,
                                                               flags: blocks + y * perRow))
            }
        } else {
            let m = lo.isFinite ? lo : 0
            for i in 0 ..< n { sub[i] = prepared[i] - m; bl[i] -= m }
            minimum = Self.minimum(UnsafePointer(bl), count: n)
            for y in 0 ..< h {
                Self.flagBlocks(UnsafePointer(bl) + y * w, count: w, minimum: minimum, threshold: threshold,
                                flags: blocks + y * perRow)
            }
        }
        let cbl = UnsafeBufferPointer(start: UnsafePointer(bl), count: n)
        let csub = UnsafeBufferPointer(start: UnsafePointer(sub), count: n)
        // Candidate maxima: 3 x 3 (non-strict) local maxima at least `threshold` above the minimum, searched in
        // the flagged blocks only (a few per cent of the pattern).
        var lowestCandidate = Float.infinity
        interiorPeaks.removeAll(keepingCapacity: true)
        let bw = Self.candidateBlockWidth
        let floorLanes = SIMD8<Float>(repeating: minimum), thresholdLanes = SIMD8<Float>(repeating: threshold)
        for y in 1 ..< h - 1 {
            let r = UnsafePointer(bl) + y * w
            let flags = blocks + y * perRow
            @inline(__always) func candidate(_ x: Int) {
                let v = r[x]
                if v - minimum < threshold || v < r[x - 1] || v < r[x + 1] { return }
                let u = r - w, d = r + w
                if v < u[x - 1] || v < u[x] || v < u[x + 1] || v < d[x - 1] || v < d[x] || v < d[x + 1] { return }
                lowestCandidate = min(lowestCandidate, v)
                // A peak of the watershed: higher than its earlier neighbours (ties go to the lower index).
                if v > u[x - 1] && v > u[x] && v > u[x + 1] && v > r[x - 1] {
                    interiorPeaks.append(Peak(index: y * w + x, value: v, prominence: threshold, saddleFound: true))
                }
            }
            for b in 0 ..< perRow where flags[b] != 0 {
                // Eight pixels at a time through the first tests (threshold, left and right neighbours); the
                // lanes that pass, in order, through the whole test.
                var x = max(1, b * bw)
                let end = min(w - 1, (b + 1) * bw)
                while x &+ 8 <= end {
                    let v = UnsafeRawPointer(r + x).loadUnaligned(as: SIMD8<Float>.self)
                    let left = UnsafeRawPointer(r + (x &- 1)).loadUnaligned(as: SIMD8<Float>.self)
                    let right = UnsafeRawPointer(r + (x &+ 1)).loadUnaligned(as: SIMD8<Float>.self)
                    let pass = (v - floorLanes .>= thresholdLanes) .& (v .>= left) .& (v .>= right)
                    if anyLane(pass) { for k in 0 ..< 8 where pass[k] { candidate(x &+ k) } }
                    x &+= 8
                }
                while x < end { candidate(x); x &+= 1 }
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
        /// The edge, upper-half and ridge rules on a maximum of prominence >= threshold, in descending value.
        /// A maximum on the upper half of a brighter accepted one (the connected pixels above half its height
        /// over the minimum, taken along the straight line between them: a plateau is convex) with a prominence
        /// under `PatternRegistrar.upperHalfProminence` of that height is part of that spot: the shot noise of
        /// a disc's plateau makes such maxima, passing the threshold where the corners, and so the paper's
        /// noise, are dark (a counting detector); two resolved spots have a deeper valley between them. A ridge
        /// is a maximum whose top within the threshold and whose upper half are both elongated
        /// (`TopRegion.isRidge`): the top alone is a ragged part of a noisy plateau, the upper half alone
        /// would take a weak spot on a strong ring for the ring.
        func keeps(_ peak: Int) -> Bool {
            if let e = electronsPerUnit {
                let x = peak % w, y = peak / w
                let core = ShotNoise.discSum(prepared, width: w, height: h, x: x, y: y, radius: coreRadius)
                let half = SpotMeasurement.halfMaximumRadius(cbl, width: w, height: h, index: peak, limit: max(1, min(w, h) / 4))
                let ring = ShotNoise.skyRadii(core: coreRadius, halfMaximum: half)
                let sky = ShotNoise.skyAnnulus(prepared, width: w, height: h, x: x, y: y, inner: ring.inner,
                                               outer: ring.outer, electronsPerUnit: e) ?? Double(cornerMean)
                let mu = Double(core.area) * max(sky, Double(cornerMean)) * e
                let tail = ShotNoise.tail(pixels: n, area: Float(core.area))
                if ShotNoise.upperTail(core.sum * e, mean: mu) > tail { return false }
            }
            if p.mergeUpperHalves, let height = upperHalfHeight(of: peak) {
                let least = max(threshold, Self.upperHalfProminence * height)
                var budget = n
                if prominence.isProminent(cbl, width: w, height: h, peak: peak, threshold: least,
                                          floor: min(lowestCandidate - threshold, cbl[peak] - least), budget: &budget) == false {
                    return false
                }
            }
            if p.excludeEdgeMaxima || p.rejectRidges {
                let top = prominence.topRegion(cbl, width: w, height: h, peak: peak, threshold: threshold,
                                               stopAtEdge: p.excludeEdgeMaxima)
                if p.excludeEdgeMaxima && top.touchesEdge { return false }
                if p.rejectRidges && top.isRidge {
                    let half = prominence.topRegion(cbl, width: w, height: h, peak: peak,
                                                    threshold: (cbl[peak] - minimum) / 2, stopAtEdge: false)
                    if half.isRidge { return false }
                }
            }
            return true
        }
        /// The height over the minimum of the first accepted (brighter) candidate on whose upper half `peak`
        /// lies, or nil.
        func upperHalfHeight(of peak: Int) -> Float? {
            let v = cbl[peak], px = peak % w, py = peak / w
            for c in candidates {
                let level = (c.value + minimum) / 2
                if v <= level { continue }
                let cx = c.index % w, cy = c.index / w
                let steps = max(abs(cx - px), abs(cy - py))
                var above = true
                var k = 1
                while k < steps && above { // the pixels on the line between them, one per step of the longer axis
                    let t = Float(k) / Float(steps)
                    let x = px + Int((t * Float(cx - px)).rounded()), y = py + Int((t * Float(cy - py)).rounded())
                    above = cbl[y * w + x] > level
                    k += 1
                }
                if above { return c.value - minimum }
            }
            return nil
        }
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
                if !prominent || !keeps(pk.index) { continue }
                candidates.append(pk)
                if candidates.count == p.maxSpots { break }
            }
            if !decided { candidates.removeAll(keepingCapacity: true) }
        }
        if lowestCandidate.isFinite && !decided {
            let peaks = prominence.compute(cbl, width: w, height: h, floor: lowestCandidate - threshold)
            for pk in peaks where pk.prominence > 0 && pk.value - minimum >= threshold
                && (pk.saddleFound ? pk.prominence >= threshold : pk.value >= lowestCandidate) {
                if !keeps(pk.index) { continue }
                candidates.append(pk)
                if candidates.count == p.maxSpots { break } // peaks come in descending value: the strongest
            }
        }
        if !candidates.isEmpty {
            // Sort by distance to the centre; the nearest is the direct beam.
            Self.sortByDistanceToCentre(&candidates, width: w, height: h)
            // Sub-pixel refinement and record.
            let refineImage: UnsafeBufferPointer<Float> = p.refinementImage == .blurred ? cbl : csub
            var flank: BeamFlank?, flankPlan: (x: Float, y: Float, reach: Int)? // the flank, built when first needed
            var discRadius: Float = 0 // the radius of the direct beam's disc, from its rim (`discCentres`)
            var beamHalf: Float = 0 // the direct beam's half-maximum radius on the detection image
            for (k, c) in candidates.enumerated() {
                let isDirect = k == 0
                let start = (x: Float(c.index % w) + 0.5, y: Float(c.index / w) + 0.5)
                var window = isDirect ? p.directBeamWindow : p.spotWindow
                if p.windowsFitSpots {
                    window = fittedWindow(window, candidate: k, image: cbl, width: w, height: h)
                }
                var r: (x: Float, y: Float)
                if let plan = flankPlan, let box = flankBox(start: start, window: window, centre: (plan.x, plan.y),
                                                            reach: plan.reach, width: w, height: h) {
                    let f = flank ?? BeamFlank(refineImage, width: w, height: h, centreX: plan.x, centreY: plan.y,
                                               reach: plan.reach, scratch: circleSamples)
                    flank = f
                    r = refine(refineImage, without: f, in: box, start: start, window: window)
                } else {
                    r = SpotMeasurement.refine(refineImage, width: w, height: h, x: start.x, y: start.y,
                                               window: window,
                                               passes: p.refinementPasses, subtractBaseline: p.refinementBaseline)
                }
                if isDirect {
                    beamHalf = SpotMeasurement.halfMaximumRadius(cbl, width: w, height: h, index: c.index,
                                                                 limit: max(1, min(w, h) / 4))
                    maps.beamRadius = beamHalf
                }
                if p.discCentres {
                    if isDirect {
                        discRadius = beamHalf >= DiscEdge.minimumRadius
                            ? DiscEdge.radius(refineImage, width: w, height: h, x: r.x, y: r.y, start: beamHalf) : 0
                    }
                    if discRadius >= DiscEdge.minimumRadius {
                        r = DiscEdge.centre(refineImage, width: w, height: h, x: r.x, y: r.y, radius: discRadius,
                                            reach: discRadius)
                    }
                }
                if isDirect && p.correctBeamFlank {
                    // Out to where the beam's flank has fallen: twice its half-maximum radius and 4 blur sigmas.
                    flankPlan = (r.x, r.y, Int((2 * beamHalf + 4 * p.blurSigma).rounded(.up)) + 1)
                }
                // Two maxima of one broad spot (a disc's plateau) refine to the same centre: one spot.
                let d2 = Self.duplicateDistance * Self.duplicateDistance
                if p.mergeUpperHalves, spots[first...].contains(where: { ($0.x - r.x) * ($0.x - r.x) + ($0.y - r.y) * ($0.y - r.y) < d2 }) {
                    continue
                }
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
        }
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
                Reconstruction.render(UnsafeBufferPointer(rebasing: sp[range]), directBeam: range.isEmpty ? nil : 0,
                                      workingWidth: w, workingHeight: h, parameters: p, blur: reconstructionBlur,
                                      into: out, zeroFirst: clearsReconstruction)
            }
        }
        return PatternRegistration(spotRange: range, maps: maps, invalidPixels: invalid)
    }

    /// The centroid window of candidate k (`SpotMeasurement.fittedWindow`): its half-maximum radius on the
    /// detection image, walked up to a quarter of the width, and, only when that asks for more than `window`,
    /// the distance to the nearest other candidate.
    private func fittedWindow(_ window: Float, candidate k: Int, image: UnsafeBufferPointer<Float>,
                              width w: Int, height h: Int) -> Float {
        let c = candidates[k].index
        let r = SpotMeasurement.halfMaximumRadius(image, width: w, height: h, index: c, limit: max(1, min(w, h) / 4))
        let wanted = SpotMeasurement.fittedWindow(window, halfMaximumRadius: r, blurSigma: parameters.blurSigma,
                                                  spacing: .infinity)
        guard wanted > window else { return window }
        let x = Float(c % w), y = Float(c / w)
        var nearest = Float.infinity
        for (j, o) in candidates.enumerated() where j != k {
            let dx = Float(o.index % w) - x, dy = Float(o.index / w) - y
            nearest = min(nearest, dx * dx + dy * dy)
        }
        return max(window, min(wanted, nearest.squareRoot())) // = fittedWindow(..., spacing: nearest)
    }

    /// The centroid refinement (`SpotMeasurement.refine`) on the neighbourhood `box` of `image` less the beam's
    /// flank, copied into the registrar's `patch`; the position in the pattern's pixels.
    private func refine(_ image: UnsafeBufferPointer<Float>, without f: BeamFlank,
                        in box: (x0: Int, x1: Int, y0: Int, y1: Int), start: (x: Float, y: Float),
                        window: Float) -> (x: Float, y: Float) {
        let w = shape.columns, pw = box.x1 - box.x0 + 1, ph = box.y1 - box.y0 + 1
        for i in 0 ..< ph {
            let dy = Float(box.y0 + i) + 0.5 - f.centreY
            let src = image.baseAddress! + (box.y0 + i) * w + box.x0, dst = patch + i * pw
            for j in 0 ..< pw {
                let dx = Float(box.x0 + j) + 0.5 - f.centreX
                dst[j] = src[j] - f.value(atDistance: (dx * dx + dy * dy).squareRoot())
            }
        }
        let q = SpotMeasurement.refine(UnsafeBufferPointer(start: patch, count: pw * ph), width: pw, height: ph,
                                       x: start.x - Float(box.x0), y: start.y - Float(box.y0), window: window,
                                       passes: parameters.refinementPasses, subtractBaseline: parameters.refinementBaseline)
        return (q.x + Float(box.x0), q.y + Float(box.y0))
    }

    /// The neighbourhood of a centroid window (its side plus 6 px of room to move on each side, inside the
    /// image) when it reaches within the flank's reach of the beam; nil otherwise.
    private func flankBox(start: (x: Float, y: Float), window: Float, centre: (x: Float, y: Float), reach: Int,
                          width w: Int, height h: Int) -> (x0: Int, x1: Int, y0: Int, y1: Int)? {
        let half = window / 2 + 6
        let nx = max(start.x - half, min(centre.x, start.x + half)), ny = max(start.y - half, min(centre.y, start.y + half))
        let dx = nx - centre.x, dy = ny - centre.y
        guard dx * dx + dy * dy < Float(reach * reach) else { return nil }
        let x0 = max(0, Int(start.x - half)), x1 = min(w - 1, Int(start.x + half))
        let y0 = max(0, Int(start.y - half)), y1 = min(h - 1, Int(start.y + half))
        return x0 <= x1 && y0 <= y1 ? (x0, x1, y0, y1) : nil
    }

    /// Pixels per candidate block: pass 2 flags the blocks of each row that hold a value of at least the
    /// threshold, and only those are searched for maxima.
    static let candidateBlockWidth = 64

    /// One row of the background subtraction: `b = min(background, blurred)` (the background never exceeds
    /// the blurred image), `subtracted = pattern - b`, `blurred -= b`; flags each block of
    /// `candidateBlockWidth` pixels whose new blurred maximum is at least `threshold`; returns the minimum of the
    /// new blurred row. The background row is `top + weight (bottom - top)` (`ParaboloidBackground.backgroundRows`),
    /// blended here; `top` itself when the weight is 0.
    @inline(__always)
    static func subtractBackground(_ background: (top: UnsafePointer<Float>, bottom: UnsafePointer<Float>, weight: Float),
                                   blurred: UnsafeMutablePointer<Float>,
                                   pattern: UnsafePointer<Float>, into subtracted: UnsafeMutablePointer<Float>,
                                   count n: Int, threshold: Float, flags: UnsafeMutablePointer<UInt8>) -> Float {
        if background.weight == 0 {
            return subtractBackground(background, blended: false, blurred: blurred, pattern: pattern, into: subtracted,
                                      count: n, threshold: threshold, flags: flags)
        }
        return subtractBackground(background, blended: true, blurred: blurred, pattern: pattern, into: subtracted,
                                  count: n, threshold: threshold, flags: flags)
    }

    @inline(__always)
    private static func subtractBackground(_ background: (top: UnsafePointer<Float>, bottom: UnsafePointer<Float>, weight: Float),
                                           blended: Bool, blurred: UnsafeMutablePointer<Float>,
                                           pattern: UnsafePointer<Float>, into subtracted: UnsafeMutablePointer<Float>,
                                           count n: Int, threshold: Float, flags: UnsafeMutablePointer<UInt8>) -> Float {
        let upper = background.top, lower = background.bottom, ty = background.weight
        @inline(__always) func bg(_ x: Int) -> SIMD8<Float> {
            let t = UnsafeRawPointer(upper + x).loadUnaligned(as: SIMD8<Float>.self)
            guard blended else { return t }
            let b = UnsafeRawPointer(lower + x).loadUnaligned(as: SIMD8<Float>.self)
            return t + ty * (b - t)
        }
        var low = SIMD8<Float>(repeating: .infinity)
        var m = Float.infinity
        var x = 0, block = 0
        while x < n {
            let end = min(x + candidateBlockWidth, n)
            var high = SIMD8<Float>(repeating: -.infinity)
            while x + 8 <= end {
                let g = bg(x)
                let v = UnsafeRawPointer(blurred + x).loadUnaligned(as: SIMD8<Float>.self)
                let q = UnsafeRawPointer(pattern + x).loadUnaligned(as: SIMD8<Float>.self)
                let b = g.replacing(with: v, where: v .< g)
                let d = v - b
                UnsafeMutableRawPointer(subtracted + x).storeBytes(of: q - b, as: SIMD8<Float>.self)
                UnsafeMutableRawPointer(blurred + x).storeBytes(of: d, as: SIMD8<Float>.self)
                low = low.replacing(with: d, where: d .< low)
                high = high.replacing(with: d, where: d .> high)
                x += 8
            }
            var top = Self.lanesMaximum(high)
            while x < end {
                let v = blurred[x]
                let b = min(blended ? upper[x] + ty * (lower[x] - upper[x]) : upper[x], v)
                subtracted[x] = pattern[x] - b
                let d = v - b
                blurred[x] = d
                m = min(m, d)
                top = max(top, d)
                x += 1
            }
            flags[block] = top >= threshold ? 1 : 0
            block += 1
        }
        return min(m, Self.lanesMinimum(low))
    }

    /// Flags the blocks of one row holding a value `v` with `v - minimum >= threshold` (conservatively: the
    /// block maximum passes whenever any of its values does).
    static func flagBlocks(_ row: UnsafePointer<Float>, count n: Int, minimum: Float, threshold: Float,
                           flags: UnsafeMutablePointer<UInt8>) {
        var x = 0, block = 0
        while x < n {
            let end = min(x + candidateBlockWidth, n)
            var top = -Float.infinity
            while x < end { top = max(top, row[x]); x += 1 }
            flags[block] = top - minimum >= threshold ? 1 : 0
            block += 1
        }
    }

    /// Minimum, maximum and number of non-finite values of `count` values (eight lanes at a time; the
    /// minimum and maximum are meaningful only when no value is non-finite).
    @inline(__always)
    static func valueRange(_ p: UnsafePointer<Float>, count n: Int) -> (lo: Float, hi: Float, invalid: Int) {
        var lo = SIMD8<Float>(repeating: .infinity), hi = SIMD8<Float>(repeating: -.infinity)
        var zero = SIMD8<Float>() // v - v: 0 for finite values, NaN for NaN and infinities
        var x = 0
        while x + 8 <= n {
            let v = UnsafeRawPointer(p + x).loadUnaligned(as: SIMD8<Float>.self)
            zero += v - v
            lo = lo.replacing(with: v, where: v .< lo)
            hi = hi.replacing(with: v, where: v .> hi)
            x += 8
        }
        var bad = 0
        var l = Self.lanesMinimum(lo), u = Self.lanesMaximum(hi)
        if !(zero[0] + zero[1] + zero[2] + zero[3] + zero[4] + zero[5] + zero[6] + zero[7] == 0) {
            for i in 0 ..< x where !p[i].isFinite { bad += 1 }
        }
        while x < n {
            let v = p[x]
            if v.isFinite { l = min(l, v); u = max(u, v) } else { bad += 1 }
            x += 1
        }
        return (l, u, bad)
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

    /// Minimum of `count` NaN-free values (+infinity when empty; eight lanes at a time).
    static func minimum(_ p: UnsafePointer<Float>, count n: Int) -> Float {
        var m = SIMD8<Float>(repeating: .infinity)
        var i = 0
        while i &+ 8 <= n {
            let v = UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Float>.self)
            m = m.replacing(with: v, where: v .< m)
            i &+= 8
        }
        var r = Self.lanesMinimum(m)
        while i < n { r = min(r, p[i]); i &+= 1 }
        return r
    }

    /// The smallest of eight lanes (the generic `SIMD.min()` is not specialised here).
    @inline(__always)
    static func lanesMinimum(_ v: SIMD8<Float>) -> Float {
        let a = v.lowHalf.replacing(with: v.highHalf, where: v.highHalf .< v.lowHalf)
        let b = a.lowHalf.replacing(with: a.highHalf, where: a.highHalf .< a.lowHalf)
        return b[1] < b[0] ? b[1] : b[0]
    }

    /// The largest of eight lanes.
    @inline(__always)
    static func lanesMaximum(_ v: SIMD8<Float>) -> Float {
        let a = v.lowHalf.replacing(with: v.highHalf, where: v.highHalf .> v.lowHalf)
        let b = a.lowHalf.replacing(with: a.highHalf, where: a.highHalf .> a.lowHalf)
        return b[1] > b[0] ? b[1] : b[0]
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
