import STEMCore

/// Registration of a whole block of scan rows held in memory, and the stages a distributed job calls one by
/// one (methods notes, section 1): `prepare` (sanitise, mask, bin), `centre` (iterative direct-beam centring
/// by batches of scan rows), `ScanNeighbourMean.apply` (3 x 3 mean, with halo rows), then
/// `PatternRegistrar.register` per pattern.
public final class RegistrationPipeline {
    public let parameters: RegistrationParameters
    /// Detector shape of the input patterns.
    public let inputShape: DetectorShape
    /// Shape after binning.
    public let workingShape: DetectorShape
    public let mask: PixelMask?
    public let darkFields: [DarkFieldSelector]
    public let registrar: PatternRegistrar
    private var binScratch: [Float]
    /// Isolated bright pixels replaced so far (`parameters.removeZingers`), over every pattern prepared.
    public private(set) var zingersReplaced = 0

    public init(parameters: RegistrationParameters, inputShape: DetectorShape, mask: PixelMask? = nil,
                distortion: EllipticalDistortion? = nil, darkFields: [DarkFieldSelector] = []) throws {
        try parameters.validate()
        if let mask, mask.shape != inputShape {
            throw STEMError.shapeMismatch(path: "pixel mask", field: "shape", expected: "\(inputShape)", found: "\(mask.shape)")
        }
        let factor = parameters.binning ? parameters.binningFactor : 1
        let working = Binning.binnedShape(inputShape, factor: factor)
        self.parameters = parameters
        self.inputShape = inputShape
        self.workingShape = working
        self.mask = mask
        self.darkFields = darkFields
        self.registrar = try PatternRegistrar(parameters: parameters, shape: working, distortion: distortion)
        binScratch = [Float](repeating: 0, count: inputShape.pixelCount)
    }

    public var binningFactor: Int { parameters.binning ? parameters.binningFactor : 1 }

    /// `Zingers.remove` on one input pattern (sanitised and masked) when the parameters ask for it.
    private func removeZingers(_ pattern: UnsafeMutableBufferPointer<Float>) {
        guard parameters.removeZingers else { return }
        zingersReplaced += Zingers.remove(pattern, width: inputShape.columns, height: inputShape.rows)
    }

    /// Stage 1: replaces non-finite values by 0, applies the mask (median of valid neighbours), replaces the
    /// isolated bright pixels (`Zingers`, when asked) and bins.
    /// `input` holds `count` input patterns, `output` `count` working patterns. Returns the number of
    /// non-finite input values.
    @discardableResult
    public func prepare(_ input: UnsafeBufferPointer<Float>, count: Int,
                        into output: UnsafeMutableBufferPointer<Float>) -> Int {
        let ni = inputShape.pixelCount, nw = workingShape.pixelCount
        precondition(input.count >= count * ni && output.count >= count * nw)
        var invalid = 0
        binScratch.withUnsafeMutableBufferPointer { tmp in
            for k in 0 ..< count {
                let dst = UnsafeMutableBufferPointer(rebasing: output[k * nw ..< (k + 1) * nw])
                // Unbinned patterns are sanitised straight into the output; binned ones through `tmp`.
                let clean = binningFactor > 1 ? tmp : dst
                let src = input.baseAddress! + k * ni
                invalid += PatternRegistrar.sanitise(src, into: clean.baseAddress!, count: ni).invalid
                mask?.apply(to: clean)
                removeZingers(clean)
                if binningFactor > 1 {
                    Binning.bin(UnsafeBufferPointer(tmp), shape: inputShape, factor: binningFactor, into: dst)
                }
            }
        }
        return invalid
    }

    /// Stages 1 and 2 for one batch of `count` patterns (a scan row: the centring batch), prepared into
    /// `output` (`count` working patterns) with no other copy of the batch. `read(range, buffer)` fills
    /// `buffer` with the input patterns `range` (offsets in the batch) as floats. Without binning they are
    /// read straight into `output` a few at a time (`cachedBytes`) and sanitised and masked there; with
    /// binning they pass through `staging` (a whole number of input patterns, at least one) a few at a time,
    /// sanitised and masked there and binned into `output`. Each prepared pattern gets the centring's first
    /// pass at once (in cache); the other passes run over the batch, and the centring shifts each pattern in
    /// place. Returns the number of non-finite
    /// input values and the centring shift of each pattern (empty when centring is off). `inputIsFinite`: the
    /// values cannot be NaN or infinite (converted from an integer type), so the sanitising scan is skipped.
    /// `deferShifts`: the shifts are returned but not applied; the caller applies each
    /// (`BilinearShift.shiftInPlace`) before the pattern is read, for example just before its first reader
    /// needs it, so that a batch larger than the cache is not read and written back once more in between.
    @discardableResult
    public func prepareBatch(count: Int, into output: UnsafeMutableBufferPointer<Float>,
                             staging: UnsafeMutableBufferPointer<Float>, inputIsFinite: Bool = false,
                             deferShifts: Bool = false,
                             read: (Range<Int>, UnsafeMutableBufferPointer<Float>) throws -> Void) rethrows
        -> (invalid: Int, shifts: [(dx: Float, dy: Float)]) {
        let ni = inputShape.pixelCount, nw = workingShape.pixelCount
        precondition(output.count >= count * nw)
        var invalid = 0
        /// Non-finite values to 0 and the mask, in place; returns the number of non-finite values.
        func sanitiseAndMask(_ pattern: UnsafeMutableBufferPointer<Float>) -> Int {
            let bad = inputIsFinite ? 0 : PatternRegistrar.valueRange(UnsafePointer(pattern.baseAddress!), count: ni).invalid
            if bad > 0 { _ = PatternRegistrar.sanitise(UnsafePointer(pattern.baseAddress!), into: pattern.baseAddress!, count: ni) }
            mask?.apply(to: pattern)
            removeZingers(pattern)
            return bad
        }
        // The centring's first pass starts every pattern from the centre with the same radius (unless a far beam
        // is found, see `DirectBeamCentring.shifts`), so it is measured on each pattern as soon as the pattern is
        // prepared, while it is in cache: a batch of large patterns does not stay there until the passes run.
        let p = parameters
        var firstPass: [(x: Float, y: Float)?] = []
        if p.centring { firstPass.reserveCapacity(count) }
        func measureFirstPass(_ k: Int) {
            guard p.centring else { return }
            firstPass.append(DirectBeamCentring.centroid(UnsafeBufferPointer(rebasing: output[k * nw ..< (k + 1) * nw]),
                                                         width: workingShape.columns, height: workingShape.rows,
                                                         dx: 0, dy: 0, radius: p.centringInitialRadius))
        }
        if binningFactor == 1 {
            // Read a few patterns at a time (about `Self.cachedBytes`), each cleaned and measured while in cache.
            let group = max(1, Self.cachedBytes / max(1, ni * MemoryLayout<Float>.stride))
            var k = 0
            while k < count {
                let g = min(group, count - k)
                try read(k ..< k + g, UnsafeMutableBufferPointer(rebasing: output[k * ni ..< (k + g) * ni]))
                for j in k ..< k + g {
                    if !inputIsFinite || mask != nil || p.removeZingers {
                        invalid += sanitiseAndMask(UnsafeMutableBufferPointer(rebasing: output[j * ni ..< (j + 1) * ni]))
                    }
                    measureFirstPass(j)
                }
                k += g
            }
        } else {
            let group = staging.count / ni
            precondition(group >= 1, "the staging buffer holds no input pattern")
            var k = 0
            while k < count {
                let g = min(group, count - k)
                try read(k ..< k + g, UnsafeMutableBufferPointer(rebasing: staging[0 ..< g * ni]))
                for j in 0 ..< g { // the staging buffer is workspace: sanitised and masked in place, then binned
                    let pattern = UnsafeMutableBufferPointer(rebasing: staging[j * ni ..< (j + 1) * ni])
                    invalid += sanitiseAndMask(pattern)
                    Binning.bin(UnsafeBufferPointer(pattern), shape: inputShape, factor: binningFactor,
                                into: UnsafeMutableBufferPointer(rebasing: output[(k + j) * nw ..< (k + j + 1) * nw]))
                    measureFirstPass(k + j)
                }
                k += g
            }
        }
        guard p.centring else { return (invalid, []) }
        let shifts = deferShifts ? centringShifts(UnsafeBufferPointer(output), count: count, firstPass: firstPass).shifts
                                 : centre(output, count: count, firstPass: firstPass).shifts
        return (invalid, shifts)
    }

    /// Input bytes read and prepared at a time by `prepareBatch` without binning (the patterns then stay in
    /// the core's cache for their cleaning and the centring's first pass).
    static let cachedBytes = 1 << 20

    /// Stage 2: centres `count` working patterns in place as one batch (methods notes, step 2); `firstPass`
    /// as in `centringShifts`.
    @discardableResult
    public func centre(_ patterns: UnsafeMutableBufferPointer<Float>, count: Int,
                       firstPass: [(x: Float, y: Float)?]? = nil,
                       maxOverBatch: (Float) -> Float = { $0 }) -> DirectBeamCentring.Result {
        let result = centringShifts(UnsafeBufferPointer(patterns), count: count, firstPass: firstPass,
                                    maxOverBatch: maxOverBatch)
        DirectBeamCentring.apply(result.shifts, toBatch: patterns, width: workingShape.columns, height: workingShape.rows)
        return result
    }

    /// Stage 2 without applying the shifts: the centring shift of each of `count` working patterns
    /// (`DirectBeamCentring.apply` moves a pattern by its shift); `firstPass`: each pattern's first-pass
    /// centroid measured ahead (`DirectBeamCentring.shifts`).
    public func centringShifts(_ patterns: UnsafeBufferPointer<Float>, count: Int,
                               firstPass: [(x: Float, y: Float)?]? = nil,
                               maxOverBatch: (Float) -> Float = { $0 }) -> DirectBeamCentring.Result {
        let p = parameters
        return DirectBeamCentring.shifts(patterns, count: count, width: workingShape.columns, height: workingShape.rows,
                                         initialRadius: p.centringInitialRadius, minimumRadius: p.centringMinimumRadius,
                                         maxPasses: p.centringMaxPasses, tolerance: p.centringTolerance,
                                         searchFarBeam: p.searchFarBeam, firstPass: firstPass, maxOverBatch: maxOverBatch)
    }

    /// Registers a block of whole scan rows (`block.firstIndex` and `block.count` multiples of
    /// `scan.columns`) held in memory; the 3 x 3 mean uses no halo, so a block is a whole scan or its result
    /// covers only the rows given (tests and single-process tools).
    public func run(block: PatternBlock, scan: ScanGrid, reconstruct: Bool = true) throws -> ScanRegistration {
        guard block.detector == inputShape else {
            throw STEMError.shapeMismatch(path: "registration", field: "detector", expected: "\(inputShape)", found: "\(block.detector)")
        }
        guard scan.columns > 0, block.firstIndex % scan.columns == 0, block.count % scan.columns == 0 else {
            throw STEMError.shapeMismatch(path: "registration", field: "block", expected: "whole scan rows of \(scan.columns) positions",
                                          found: "positions \(block.firstIndex) ..< \(block.firstIndex + block.count)")
        }
        let count = block.count, nw = workingShape.pixelCount
        let rows = count / scan.columns
        var working = [Float](repeating: 0, count: count * nw)
        var result = ScanRegistration(firstIndex: block.firstIndex, count: count, darkFieldCount: darkFields.count,
                                      reconstructionPixels: reconstruct ? registrar.reconstructionPixelCount : 0)
        try block.pixels.withUnsafeBufferPointer { input in
            try working.withUnsafeMutableBufferPointer { wk in
                result.invalidPixels = prepare(input, count: count, into: wk)
                if parameters.centring {
                    let firstRow = block.firstIndex / scan.columns
                    var r = 0
                    while r < rows {
                        // Batches aligned to the global scan grid.
                        let batchEnd = min(rows, ((firstRow + r) / parameters.centringBatchRows + 1) * parameters.centringBatchRows - firstRow)
                        let span = (r * scan.columns * nw) ..< (batchEnd * scan.columns * nw)
                        let res = centre(UnsafeMutableBufferPointer(rebasing: wk[span]), count: (batchEnd - r) * scan.columns)
                        result.centringShifts.append(contentsOf: res.shifts)
                        r = batchEnd
                    }
                }
                if parameters.scanMean {
                    try registerAveraged(UnsafeBufferPointer(wk), rowCount: rows, columns: scan.columns, into: &result)
                } else {
                    try registerPrepared(UnsafeBufferPointer(wk), count: count, into: &result)
                }
            }
        }
        return result
    }

    /// Registers the 3 x 3 scan means of `rowCount` prepared scan rows (no halo: the rows are the whole
    /// block), appending to `result`; the mean is formed inside the registrar (`register(meanAt:of:)`).
    public func registerAveraged(_ rows: UnsafeBufferPointer<Float>, rowCount: Int, columns: Int,
                                 into result: inout ScanRegistration) throws {
        let nw = workingShape.pixelCount, rowSize = columns * nw
        precondition(rows.count >= rowCount * rowSize)
        let base = rows.baseAddress!
        let sweep = ScanNeighbourMean.RowSweep(columns: columns, pixelCount: nw)
        for r in 0 ..< rowCount {
            sweep.begin(above: r > 0 ? base + (r - 1) * rowSize : nil, current: base + r * rowSize,
                        below: r + 1 < rowCount ? base + (r + 1) * rowSize : nil)
            for c in 0 ..< columns {
                try record(result: &result) { spots, rec in
                    registrar.register(meanAt: c, of: sweep, appendingSpotsTo: &spots, reconstruction: rec)
                }
            }
        }
    }

    /// Registers `count` prepared patterns (after centring and the 3 x 3 mean), appending to `result`.
    public func registerPrepared(_ patterns: UnsafeBufferPointer<Float>, count: Int,
                                 into result: inout ScanRegistration) throws {
        let nw = workingShape.pixelCount
        for k in 0 ..< count {
            let pattern = UnsafeBufferPointer(rebasing: patterns[k * nw ..< (k + 1) * nw])
            try record(result: &result) { spots, rec in
                registrar.register(pattern: pattern, appendingSpotsTo: &spots, reconstruction: rec)
            }
        }
    }

    /// Registers the next position of `result` with `body` (given the spot array and the position's
    /// reconstruction slot) and records its spot range, maps and dark fields.
    private func record(result: inout ScanRegistration,
                        _ body: (inout [Spot], UnsafeMutableBufferPointer<Float>?) -> PatternRegistration) throws {
        let nr = registrar.reconstructionPixelCount
        let cx = Float(workingShape.columns) / 2, cy = Float(workingShape.rows) / 2
        let position = result.registered
        guard position < result.count else {
            throw STEMError.shapeMismatch(path: "registration", field: "positions", expected: "\(result.count)",
                                          found: "more")
        }
        let reg: PatternRegistration
        if !result.reconstruction.isEmpty {
            reg = result.reconstruction.withUnsafeMutableBufferPointer { out in
                body(&result.spots, UnsafeMutableBufferPointer(rebasing: out[position * nr ..< (position + 1) * nr]))
            }
        } else {
            reg = body(&result.spots, nil)
        }
        result.spotOffsets[position] = reg.spotRange.lowerBound
        result.spotCounts[position] = reg.spotRange.count
        result.maps[position] = reg.maps
        result.spots.withUnsafeBufferPointer { sp in
            let mine = UnsafeBufferPointer(rebasing: sp[reg.spotRange])
            for (d, sel) in darkFields.enumerated() {
                result.darkFieldValues[d][position] = sel.value(spots: mine, directBeam: reg.hasDirectBeam ? 0 : nil,
                                                                centreX: cx, centreY: cy)
            }
        }
        result.registered += 1
    }
}

/// Registration results of a contiguous run of scan positions.
public struct ScanRegistration: Sendable {
    public var firstIndex: Int
    public var count: Int
    /// Positions registered so far (filled in order).
    public var registered: Int = 0
    /// All spots, position after position.
    public var spots: [Spot] = []
    /// For position k (0-based in the run): its spots are `spots[spotOffsets[k] ..< spotOffsets[k] + spotCounts[k]]`.
    public var spotOffsets: [Int]
    public var spotCounts: [Int]
    public var maps: [PatternMaps]
    /// `darkFieldValues[d][k]`: dark field `d` at position k.
    public var darkFieldValues: [[Float]]
    /// Reconstructed patterns, position-major (empty when not requested).
    public var reconstruction: [Float]
    /// Centring shift of each position (empty when centring is off).
    public var centringShifts: [(dx: Float, dy: Float)] = []
    /// Non-finite input values replaced by zero.
    public var invalidPixels: Int = 0

    public init(firstIndex: Int, count: Int, darkFieldCount: Int, reconstructionPixels: Int) {
        self.firstIndex = firstIndex
        self.count = count
        spotOffsets = [Int](repeating: 0, count: count)
        spotCounts = spotOffsets
        maps = [PatternMaps](repeating: PatternMaps(), count: count)
        darkFieldValues = [[Float]](repeating: [Float](repeating: 0, count: count), count: darkFieldCount)
        reconstruction = [Float](repeating: 0, count: count * reconstructionPixels)
        spots.reserveCapacity(count * 16)
    }

    /// Spots of position k (0-based in the run).
    public func spots(at k: Int) -> ArraySlice<Spot> { spots[spotOffsets[k] ..< spotOffsets[k] + spotCounts[k]] }
}
