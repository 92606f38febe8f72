import Foundation
import HDF5
import Imaging
import Registration
import STEMCore

/// `stemrun register`: registration and reconstruction of every pattern (methods notes, section 1; kernels
/// in the Registration target). Each rank owns a contiguous block of scan *rows*, streams it row by row,
/// exchanges one prepared (binned, masked, centred) scan row with each neighbouring rank for the
/// 3 x 3 real-space mean, registers every pattern, writes its reconstructed patterns as it goes, and at the
/// end all ranks write the spot table, its index, the maps and the calibration into one HDF5 file.
///
/// Memory per rank: the prepared rows (a ring of three: above, current, below, which also takes the halo rows
/// of a block of three rows or more), with binning a
/// staging buffer of a few input patterns, one pattern's images and reconstruction, plus the spot table of the
/// rank's positions.
public enum RegistrationJob {
    public struct Options: Sendable {
        public var parameters: RegistrationParameters
        public var darkFields: [DarkFieldSelector] = []
        /// Bad-pixel mask given by the user (input detector shape).
        public var mask: PixelMask?
        /// Find hot and dead pixels from a sample of patterns.
        public var findBadPixels = false
        /// Fit the elliptical distortion on this ring (radii in working pixels around the centre) of the mean
        /// of a sample of centred patterns, and apply it to the spot positions.
        public var ellipseRing: (inner: Float, outer: Float)?
        /// Given distortion (overrides the fit).
        public var ellipse: EllipticalDistortion?
        /// Patterns sampled (evenly over the whole scan, the same whatever the rank count) for the pre-pass.
        public var samplePatterns = 256
        public var writeReconstruction = true
        public var chunkBudgetBytes = ChunkedScan.defaultBudgetBytes
        public var csvPath: String?

        public init(parameters: RegistrationParameters) { self.parameters = parameters }
    }

    public struct Summary: Sendable {
        public var positions: Int
        public var spots: Int
        public var seconds: Double
        /// Seconds of the streaming pass (read + register + write reconstructions) on the slowest rank.
        public var streamSeconds: Double
        public var compressionRate: Double
        public var badPixels: Int
        public var ellipse: EllipticalDistortion?
        public var peakResidentBytes: Int
        /// Positions where the threshold came from the 8-bit grey-level rule (above the noise and the user's
        /// value) and only the direct beam passed it: a bright beam sets the range, weak reflections are lost.
        public var beamOnlyByGreyLevels: Int
        public var workingShape: DetectorShape
        /// Isolated bright pixels replaced (`RegistrationParameters.removeZingers`), over the whole scan.
        public var zingers: Int = 0
        /// Rows and columns zero between live ones in the first pattern a rank read (the most over the ranks;
        /// `DetectorLines.zeroGaps`): module gaps or dead lines that no mask covers.
        public var zeroGapLines: (rows: Int, columns: Int) = (0, 0)
        /// Where the direct beam fell on the input detector over the scan (the beam maps' smallest and largest
        /// values, pixel j spans [j, j + 1)); nil when no pattern had a spot.
        public var beamExtent: (x: ClosedRange<Double>, y: ClosedRange<Double>)?
        /// The direct beam's mean half-maximum radius over the scan, working px (nil when no pattern had a spot).
        public var meanBeamRadius: Double? = nil
    }

    /// Column names of the spot table, in the order of the HDF5 datasets and of the CSV file.
    public static let spotColumns = ["scan_index", "scan_x", "scan_y", "x", "y", "intensity", "pseudo_prominence",
                                     "noise", "threshold"]

    public static func run(source: PatternSource, options: Options, comm: Communicator, outputPath: String,
                           pngFolder: String?, provenance: Provenance) throws -> Summary {
        let start = Date()
        let scan = source.scan, inputShape = source.detector
        var p = options.parameters
        try p.validate()
        if !p.binning { p.binningFactor = 1 }
        guard scan.rows >= 1, scan.columns >= 1 else {
            throw STEMError.invalidParameter(name: "scan", value: "\(scan)", expected: "at least one scan position")
        }
        let rowParts = ScanPartition(total: scan.rows, parts: comm.size)
        let myRows = rowParts.range(of: comm.rank)
        let positions = myRows.lowerBound * scan.columns ..< myRows.upperBound * scan.columns

        // Pre-pass: bad pixels and elliptical distortion from a rank-independent sample of patterns.
        var mask = options.mask
        var ellipse = options.ellipse
        if options.findBadPixels || (options.ellipseRing != nil && ellipse == nil) {
            let pre = try calibrate(source: source, options: options, parameters: p, mask: mask, positions: positions, comm: comm)
            if options.findBadPixels { mask = pre.mask }
            if ellipse == nil { ellipse = pre.ellipse }
        }
        let pipeline = try comm.collectively {
            try RegistrationPipeline(parameters: p, inputShape: inputShape, mask: mask, distortion: ellipse,
                                     darkFields: options.darkFields)
        }
        let working = pipeline.workingShape, nw = working.pixelCount
        let rowValues = scan.columns * nw
        let recSize = p.reconstructionSize, nr = recSize * recSize

        // Output file and the reconstruction dataset, written row by row during the pass.
        var prov = provenance
        prov.inputBytes = scan.count * source.bytesPerPattern
        prov.parameters += describe(p) + [("working_shape", "\(working)")]
        let estimate = (options.writeReconstruction ? scan.count * nr * 4 : 0) + scan.count * 200 * 40
        let output = try OutputFile(path: outputPath, comm: comm, provenance: prov, estimatedBytes: estimate)
        // The reconstructions are mostly zero (the discs cover a few per cent of the pixels). From 256 px on
        // (a 512-px pattern is 1 MiB; its discs cover about 15 % of its rows) only the rows that hold a disc are
        // written, one small write per band of rows; smaller patterns are written a whole scan row at a time.
        // The sparse dataset's storage is allocated at creation and never pre-filled (fill value 0), so the
        // unwritten rows read as zero. That holds for storage the new file never had before (a hole): what the
        // dataset shares with space allocated earlier (at most the tail of an allocation block of the library, a
        // few kB) is written with zeros first; if it were more than one pattern, every row is written.
        var sparseOK = options.writeReconstruction && recSize >= 256
        var reconstruction: H5Dataset? = try comm.collectively {
            guard options.writeReconstruction else { return nil }
            let before = output.root.librarySize
            let ds = try output.root.createDataset("registration/reconstruction", of: Float.self,
                                                   shape: [scan.rows, scan.columns, recSize, recSize], neverFill: sparseOK)
            try ds.setAttribute("description", "patterns rebuilt from their spots, direct beam at the centre")
            guard sparseOK else { return ds }
            guard let before, let offset = ds.storageOffset else { sparseOK = false; return ds }
            let shared = before > offset ? Int(before - offset) : 0
            let rows = (shared + 4 * recSize - 1) / (4 * recSize)
            if rows > recSize { sparseOK = false } else if rows > 0 && comm.isRoot {
                let zeros = [Float](repeating: 0, count: rows * recSize)
                try zeros.withUnsafeBufferPointer { try ds.write(start: [0, 0, 0, 0], count: [1, 1, rows, recSize], from: $0) }
            }
            return ds
        }
        sparseOK = comm.allreduce(sparseOK ? 1 : 0, .min) == 1
        // On an error (thrown on every rank together, out of a `collectively`) the dataset is released and the
        // file closed on every rank and removed here, in that order; after `commit` this does nothing.
        defer { reconstruction = nil; output.abandon() }

        // Sweep direction: even ranks go down their block, odd ranks up, so that at every boundary between two
        // ranks both start there (the rows are exchanged before the pass) or both end there (after it), and a
        // rank's own boundary row is always one it holds in its ring anyway; none is prepared ahead or kept.
        let hasRows = !myRows.isEmpty
        let downward = comm.rank % 2 == 0
        let order: [Int] = downward ? Array(myRows) : myRows.reversed()
        // Halo rows for the 3 x 3 mean from the neighbouring ranks that hold rows (the empty ranks come last).
        let receivesAbove = p.scanMean && hasRows && comm.rank > 0
        let receivesBelow = p.scanMean && hasRows && comm.rank + 1 < comm.size
            && !rowParts.range(of: comm.rank + 1).isEmpty
        // Prepared rows, in one allocation (no other copy of a scan row is held): a ring of three slots for the
        // rows the 3 x 3 mean reads (row k in slot k mod 3; fewer for blocks of one or two rows), and the halo
        // rows received from the ranks above and below. In a block of three rows or more the halos take the
        // ring's free slot, which is the slot of row k mod 3 for them too: the halo received at the start (sweep
        // position -1) is read only by the first row, before the third row is prepared into that slot; the one
        // received at the end (sweep position n) only by the last row, when the slot's own row (n - 3) is done.
        // Memory the pass has already touched, so the exchange does not also fault in a new scan row. Blocks
        // of one or two rows have halo slots of their own; the one received at the end reuses the start's,
        // except in a block of one row.
        let ringSlots = min(3, myRows.count)
        let haloInRing = ringSlots == 3
        func ringSlot(_ k: Int) -> Int { (k % 3 + 3) % 3 }
        let aboveSlot = haloInRing ? ringSlot(myRows.lowerBound - 1) : ringSlots
        let belowSlot = haloInRing ? ringSlot(myRows.upperBound)
            : ringSlots + (receivesAbove && receivesBelow && myRows.count == 1 ? 1 : 0)
        let haloSlots = haloInRing || !(receivesAbove || receivesBelow) ? 0 : belowSlot - ringSlots + 1
        let rowStore = AlignedAllocation.buffer(Float.self, capacity: (ringSlots + haloSlots) * rowValues)
        defer { rowStore.deallocate() }
        func slot(_ i: Int) -> UnsafeMutableBufferPointer<Float> {
            UnsafeMutableBufferPointer(rebasing: rowStore[i * rowValues ..< (i + 1) * rowValues])
        }
        func slot(ofRow k: Int) -> UnsafeMutableBufferPointer<Float> {
            slot(haloInRing ? ringSlot(k) : k - myRows.lowerBound)
        }
        // Input staging for binned patterns (whole patterns, about the chunk budget); unbinned patterns are
        // read straight into their slot.
        let inputPattern = inputShape.pixelCount
        let stagingPatterns = pipeline.binningFactor > 1 && hasRows
            ? min(scan.columns, max(1, options.chunkBudgetBytes / max(1, inputPattern * 4))) : 0
        let staging = AlignedAllocation.buffer(Float.self, capacity: stagingPatterns * inputPattern)
        defer { staging.deallocate() }
        var invalidInput = 0 // non-finite input values, replaced by zero in `prepareBatch`
        // The centring shift of each of this rank's positions (zero without centring), for the beam maps.
        var shifts = [(dx: Float, dy: Float)](repeating: (0, 0), count: positions.count)
        var gapLines = (rows: 0, columns: 0), gapsLooked = mask != nil // a mask covers them
        // The centring shifts are applied to each pattern just before it is first read (`ensureShifted`), not
        // when its row is prepared: a scan row of a large detector does not stay in cache until then, and the
        // shift would read and write it from memory once more. Per row of the block: the columns still unshifted.
        var unshifted = [[Bool]](repeating: [], count: myRows.count)
        func ensureShifted(_ r: Int, _ c: Int) {
            guard myRows.contains(r), !unshifted[r - myRows.lowerBound].isEmpty,
                  unshifted[r - myRows.lowerBound][c] else { return }
            unshifted[r - myRows.lowerBound][c] = false
            DirectBeamCentring.apply(shifts[r * scan.columns + c - positions.lowerBound],
                                     to: UnsafeMutableBufferPointer(rebasing: slot(ofRow: r)[c * nw ..< (c + 1) * nw]),
                                     width: working.columns, height: working.rows)
        }
        /// Reads and prepares (sanitise, mask, bin) scan row `r` into its slot, and measures its centring shifts
        /// (applied by `ensureShifted`).
        func prepareRow(_ r: Int) throws {
            let first = r * scan.columns
            let prepared = try pipeline.prepareBatch(count: scan.columns, into: slot(ofRow: r), staging: staging,
                                                     inputIsFinite: !source.elementType.isFloatingPoint,
                                                     deferShifts: true) { range, buffer in
                try source.read(positions: first + range.lowerBound ..< first + range.upperBound, into: buffer)
                if !gapsLooked {
                    gapsLooked = true
                    gapLines = DetectorLines.zeroGaps(UnsafeBufferPointer(rebasing: buffer[0 ..< inputShape.pixelCount]),
                                                      width: inputShape.columns, height: inputShape.rows)
                }
            }
            invalidInput += prepared.invalid
            for (c, shift) in prepared.shifts.enumerated() { shifts[first + c - positions.lowerBound] = shift }
            unshifted[r - myRows.lowerBound] = [Bool](repeating: !prepared.shifts.isEmpty, count: scan.columns)
        }
        /// Sends this block's boundary row on one side to the neighbour there and receives its boundary row
        /// (the halo) in exchange.
        func exchange(above: Bool) {
            let partner = above ? (receivesAbove ? comm.rank - 1 : nil) : (receivesBelow ? comm.rank + 1 : nil)
            guard let partner else { return }
            let mine = above ? myRows.lowerBound : myRows.upperBound - 1
            for c in 0 ..< scan.columns { ensureShifted(mine, c) }
            comm.sendReceive(UnsafeBufferPointer(slot(ofRow: mine)), to: partner,
                             into: slot(above ? aboveSlot : belowSlot), from: partner)
        }

        // Streaming pass.
        var spots = [Spot]()
        spots.reserveCapacity(positions.count * 32)
        var counts = [Int32](repeating: 0, count: positions.count)
        var maps = [PatternMaps](repeating: PatternMaps(), count: positions.count)
        var darkFieldValues = [[Float]](repeating: [Float](repeating: 0, count: positions.count), count: options.darkFields.count)
        var invalidPixels = 0
        // Reconstructed patterns: one canvas written band by band (sparse), or a scan row written at once.
        let canvasPatterns = sparseOK ? 1 : scan.columns
        let canvas = AlignedAllocation.buffer(Float.self, capacity: hasRows && options.writeReconstruction ? canvasPatterns * nr : 0)
        canvas.initialize(repeating: 0)
        defer { canvas.deallocate() }
        let progress = ProgressLine(label: "register", total: positions.count, rank: comm.rank)
        let cx = Float(working.columns) / 2, cy = Float(working.rows) / 2
        let registrar = pipeline.registrar
        registrar.clearsReconstruction = !sparseOK
        var bands: [Range<Int>] = []
        var rowSpots = [Range<Int>](repeating: 0 ..< 0, count: myRows.count) // spots of each row of the block
        var rowsDone = 0

        // The 3 x 3 mean is fused into the registration of each pattern: the registrar averages the (up to)
        // three column sums of the prepared rows row by row (`ScanNeighbourMean.RowSweep`).
        let sweep = ScanNeighbourMean.RowSweep(columns: scan.columns, pixelCount: nw)
        func processRow(_ r: Int, _ cur: UnsafePointer<Float>, above: UnsafePointer<Float>?,
                        below: UnsafePointer<Float>?) throws {
            if p.scanMean { sweep.begin(above: above, current: cur, below: below) }
            let rowStart = spots.count
            defer { rowSpots[r - myRows.lowerBound] = rowStart ..< spots.count }
            for c in 0 ..< scan.columns {
                // The patterns this one reads (its own, or those of the column sums of the 3 x 3 mean) shifted.
                if p.scanMean {
                    for cc in max(0, c - 1) ... min(scan.columns - 1, c + 1) {
                        ensureShifted(r - 1, cc); ensureShifted(r, cc); ensureShifted(r + 1, cc)
                    }
                } else {
                    ensureShifted(r, c)
                }
                let k = (r - myRows.lowerBound) * scan.columns + c
                let slot = sparseOK ? 0 : c
                let rec: UnsafeMutableBufferPointer<Float>? = options.writeReconstruction
                    ? UnsafeMutableBufferPointer(rebasing: canvas[slot * nr ..< (slot + 1) * nr]) : nil
                let reg: PatternRegistration
                if p.scanMean {
                    reg = registrar.register(meanAt: c, of: sweep, appendingSpotsTo: &spots, reconstruction: rec)
                } else {
                    reg = registrar.register(pattern: UnsafeBufferPointer(start: cur + c * nw, count: nw),
                                             appendingSpotsTo: &spots, reconstruction: rec)
                }
                if let ds = reconstruction, sparseOK { // the rows that hold a disc, then clear them for the next pattern
                    spots.withUnsafeBufferPointer { sp in
                        Reconstruction.rowBands(UnsafeBufferPointer(rebasing: sp[reg.spotRange]),
                                                directBeam: reg.hasDirectBeam ? 0 : nil, workingWidth: working.columns,
                                                workingHeight: working.rows, parameters: p, into: &bands)
                    }
                    for b in bands {
                        let part = UnsafeMutableBufferPointer(rebasing: canvas[b.lowerBound * recSize ..< b.upperBound * recSize])
                        try ds.write(start: [r, c, b.lowerBound, 0], count: [1, 1, b.count, recSize],
                                     from: UnsafeBufferPointer(part))
                        part.update(repeating: 0)
                    }
                }
                counts[k] = Int32(reg.spotRange.count)
                maps[k] = reg.maps
                invalidPixels += reg.invalidPixels
                spots.withUnsafeBufferPointer { sp in
                    let mine = UnsafeBufferPointer(rebasing: sp[reg.spotRange])
                    for (d, sel) in options.darkFields.enumerated() {
                        darkFieldValues[d][k] = sel.value(spots: mine, directBeam: reg.hasDirectBeam ? 0 : nil,
                                                          centreX: cx, centreY: cy)
                    }
                }
            }
            if let ds = reconstruction, !sparseOK {
                try ds.write(scanRange: r * scan.columns ..< (r + 1) * scan.columns, scanDims: 2, from: UnsafeBufferPointer(canvas))
            }
            rowsDone += 1
            progress.update(rowsDone * scan.columns, bytes: rowsDone * scan.columns * source.bytesPerPattern)
        }

        let streamStart = Date()
        func prepared(_ k: Int) -> UnsafePointer<Float>? {
            if k < myRows.lowerBound { return receivesAbove ? UnsafePointer(slot(aboveSlot).baseAddress) : nil }
            if k >= myRows.upperBound { return receivesBelow ? UnsafePointer(slot(belowSlot).baseAddress) : nil }
            return UnsafePointer(slot(ofRow: k).baseAddress)
        }
        func process(_ k: Int) throws {
            try processRow(k, prepared(k)!, above: p.scanMean ? prepared(k - 1) : nil,
                           below: p.scanMean ? prepared(k + 1) : nil)
        }
        // Every rank takes part in each step (an error on one rank ends all of them at the step's end, never
        // inside an exchange): the first row of the sweep, the exchange on that side, the other rows (row
        // order[i] prepared into the slot of order[i - 3], whose last reader order[i - 2] is done, before
        // order[i - 1] is registered), the exchange on the far side, and the last row.
        try comm.collectively { if hasRows { try prepareRow(order[0]) } }
        exchange(above: downward)
        try comm.collectively {
            for i in order.indices.dropFirst() {
                try prepareRow(order[i])
                try process(order[i - 1])
            }
        }
        exchange(above: !downward)
        try comm.collectively { if hasRows { try process(order[order.count - 1]) } }
        // The spot table in scan order (an upward sweep appended the rows last to first).
        if !downward && myRows.count > 1 {
            var ordered = [Spot]()
            ordered.reserveCapacity(spots.count)
            for r in myRows { ordered += spots[rowSpots[r - myRows.lowerBound]] }
            spots = ordered
        }
        let streamSeconds = comm.allreduce(Date().timeIntervalSince(streamStart), .max)
        reconstruction = nil // every HDF5 object must be released before the file is committed

        // Spot table, index, maps.
        let spotCounts = comm.allgatherv([spots.count])
        let totalSpots = spotCounts.reduce(0, +)
        let spotOffset = spotCounts[0 ..< comm.rank].reduce(0, +)
        let rate = compressionRate(patternCount: scan.count, bytesPerPattern: source.bytesPerPattern, spotCount: totalSpots)
        var scanIndex = [Int64](), scanX = [Int32](), scanY = [Int32]()
        var noise = [Float](), threshold = [Float]()
        scanIndex.reserveCapacity(spots.count)
        var offsets = [Int64](repeating: 0, count: positions.count)
        var running = Int64(spotOffset)
        for k in 0 ..< positions.count {
            offsets[k] = running
            let i = positions.lowerBound + k
            let (row, col) = scan.position(of: i)
            for _ in 0 ..< Int(counts[k]) {
                scanIndex.append(Int64(i)); scanX.append(Int32(col)); scanY.append(Int32(row))
                noise.append(maps[k].noise); threshold.append(maps[k].threshold)
            }
            running += Int64(counts[k])
        }
        try comm.collectively {
            let g = try output.root.createGroup("registration/spots")
            try g.setAttribute("columns", spotColumns.joined(separator: ","))
            try g.setAttribute("coordinates", "sub-pixel x, y in working-pattern pixels; pixel (i, j) covers [j, j+1) x [i, i+1); the first spot of each position is the direct beam")
            func column<T: H5Scalar>(_ name: String, _ v: [T]) throws {
                let ds = try output.root.createDataset("registration/spots/" + name, of: T.self, shape: [totalSpots])
                // No spot anywhere (every threshold above the data): the columns stay empty datasets (HDF5 has no
                // storage to write to; the same on every rank, `totalSpots` is global).
                guard totalSpots > 0 else { return }
                try v.withUnsafeBufferPointer {
                    try ds.write(start: [spotOffset], count: [v.count], from: $0, transfer: output.transfer)
                }
            }
            try column("scan_index", scanIndex)
            try column("scan_x", scanX)
            try column("scan_y", scanY)
            try column("x", spots.map(\.x))
            try column("y", spots.map(\.y))
            try column("intensity", spots.map(\.intensity))
            try column("pseudo_prominence", spots.map(\.pseudoProminence))
            try column("noise", noise)
            try column("threshold", threshold)
        }
        let writer = ScanMapWriter(output: output, scan: scan, range: positions)
        try writer.write("registration/spots/index_offset", offsets,
                         attributes: [("description", "row of the first spot of each scan position in the spot table")])
        try writer.write("registration/spots/index_count", counts,
                         attributes: [("description", "number of spots of each scan position")])
        var mapValues: [(String, [Float])] = []
        for (m, name) in PatternMaps.names.enumerated() { mapValues.append((name, maps.map { $0.values[m] })) }
        let beam = (0 ..< positions.count).map { k in
            DirectBeamPosition.inInput(directBeam: counts[k] > 0 ? spots[Int(offsets[k]) - spotOffset] : nil,
                                       shift: shifts[k], binningFactor: pipeline.binningFactor)
        }
        mapValues += [("beam_x", beam.map(\.x)), ("beam_y", beam.map(\.y))]
        let factor = Float(pipeline.binningFactor)
        mapValues.append(("beam_radius", (0 ..< positions.count).map { counts[$0] > 0 ? maps[$0].beamRadius * factor : .nan }))
        // The mean beam radius over the scan (working px): disc data, for the note of `stemrun register`.
        var radiusSum = [0.0, 0.0] // sum, positions with a beam
        for (m, c) in zip(maps, counts) where c > 0 { radiusSum[0] += Double(m.beamRadius); radiusSum[1] += 1 }
        comm.allreduce(&radiusSum, .sum)
        var extent: [Double] = [.infinity, .infinity, .infinity, .infinity] // min x, min y, -max x, -max y
        for b in beam where b.x.isFinite && b.y.isFinite {
            extent[0] = min(extent[0], Double(b.x)); extent[1] = min(extent[1], Double(b.y))
            extent[2] = min(extent[2], -Double(b.x)); extent[3] = min(extent[3], -Double(b.y))
        }
        comm.allreduce(&extent, .min) // one reduction: the maxima as minima of the negated values
        let beamExtent = extent[0].isFinite ? (x: extent[0] ... -extent[2], y: extent[1] ... -extent[3]) : nil
        for (d, sel) in options.darkFields.enumerated() {
            mapValues.append(("dark_field_\(d)", darkFieldValues[d]))
            _ = sel
        }
        let beamDescription = "direct-beam position in input-detector pixels (pixel j spans [j, j + 1)): the "
            + "refined beam of the centred pattern minus the centring shift, times the binning factor; NaN without spots"
        let radiusDescription = "half-maximum radius of the direct beam on the blurred detection image, input-detector "
            + "pixels (the probe's disc in convergent-beam data); NaN without spots"
        for (name, values) in mapValues {
            let description = name == "beam_radius" ? radiusDescription : beamDescription
            try writer.write("registration/maps/" + name, values,
                             attributes: name.hasPrefix("beam_") ? [("description", description)] : [])
        }
        let zingers = comm.allreduce(pipeline.zingersReplaced, .sum)
        try comm.collectively {
            let g = try output.root.createGroup("registration")
            try g.setAttribute("compression_rate", rate)
            try g.setAttribute("compression_definition", "input pattern bytes / spot-table bytes (\(Spot.tableRowBytes) bytes per spot)")
            try g.setAttribute("spot_count", Int64(totalSpots))
            try g.setAttribute("working_shape", [Int64(working.rows), Int64(working.columns)])
            try g.setAttribute("reconstruction_size", Int64(recSize))
            try g.setAttribute("invalid_pixels", Int64(comm.allreduce(invalidPixels + invalidInput, .sum)))
            try g.setAttribute("zingers_replaced", Int64(zingers))
            if !options.darkFields.isEmpty {
                try g.setAttribute("dark_field_selectors", options.darkFields.flatMap { [$0.x, $0.y, $0.radius] })
            }
            let e = try output.root.createGroup("registration/ellipse")
            try e.setAttribute("applied", Int32(ellipse == nil ? 0 : 1))
            if let ellipse {
                try e.setAttribute("centre", [ellipse.centreX, ellipse.centreY])
                try e.setAttribute("semi_axes", [ellipse.semiMajor, ellipse.semiMinor])
                try e.setAttribute("angle_radians", ellipse.angle)
                try e.setAttribute("axis_ratio", ellipse.axisRatio)
                try e.setAttribute("correction", "about the direct beam: major axis x sqrt(b/a), minor axis x sqrt(a/b)")
            }
        }
        if let mask {
            try writer.writeReplicated("registration/bad_pixel_mask", mask.isBad.map { UInt8($0 ? 1 : 0) },
                                       shape: [inputShape.rows, inputShape.columns])
        }
        // CSV: ranks append their rows in turn.
        if let csv = options.csvPath {
            try writeCSV(csv, comm: comm, spots: spots, scanIndex: scanIndex, scanX: scanX, scanY: scanY,
                         noise: noise, threshold: threshold)
        }
        // PNG images of the maps.
        var gathered: [(String, [Float])] = []
        for (name, values) in mapValues { if let full = writer.gather(values) { gathered.append((name, full)) } }
        try comm.collectively {
            guard comm.isRoot, let folder = pngFolder else { return }
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            let images = MapImages(folder: folder, scan: scan)
            for (name, full) in gathered {
                try images.scalar(name, full, colormap: name.contains("bright_field") ? .gray : .viridis)
            }
        }
        try output.commit()
        let beamOnly = p.greyLevelScale == .absolute ? 0 : maps.filter {
            $0.spotCount <= 1 && $0.threshold > $0.noise && $0.threshold > (p.userProminence ?? 0)
        }.count
        return Summary(positions: scan.count, spots: totalSpots, seconds: Date().timeIntervalSince(start),
                       streamSeconds: streamSeconds, compressionRate: rate, badPixels: mask?.badCount ?? 0,
                       ellipse: ellipse, peakResidentBytes: comm.allreduce(ResourceUsage.peakResidentBytes, .max),
                       beamOnlyByGreyLevels: comm.allreduce(beamOnly, .sum), workingShape: working, zingers: zingers,
                       zeroGapLines: (comm.allreduce(gapLines.rows, .max), comm.allreduce(gapLines.columns, .max)),
                       beamExtent: beamExtent,
                       meanBeamRadius: radiusSum[1] > 0 ? radiusSum[0] / radiusSum[1] : nil)
    }

    /// Pre-pass on every `N / samplePatterns`-th scan position (the same sample whatever the rank count):
    /// hot/dead pixels from their statistics, and the ellipse from the mean of the centred samples.
    static func calibrate(source: PatternSource, options: Options, parameters p: RegistrationParameters,
                          mask userMask: PixelMask?, positions: Range<Int>, comm: Communicator) throws
        -> (mask: PixelMask?, ellipse: EllipticalDistortion?) {
        let scan = source.scan, det = source.detector
        let mine = Array(ScanPartition.evenSample(of: positions, total: scan.count, samples: options.samplePatterns))
        var stats = PixelStatistics(shape: det)
        var one = [Float](repeating: 0, count: det.pixelCount)
        try comm.collectively {
            guard options.findBadPixels else { return }
            for i in mine {
                try one.withUnsafeMutableBufferPointer { try source.read(positions: i ..< i + 1, into: $0) }
                one.withUnsafeBufferPointer { stats.add($0) }
            }
        }
        var mask = userMask
        if options.findBadPixels {
            comm.allreduce(&stats.sums, .sum)
            comm.allreduce(&stats.nonZeroCounts, .sum)
            stats.patternCount = comm.allreduce(stats.patternCount, .sum)
            var found = stats.detectBadPixels()
            if let u = userMask { for i in found.isBad.indices where u.isBad[i] { found.isBad[i] = true } }
            mask = found
        }
        guard let ring = options.ellipseRing else { return (mask, nil) }
        var q = p
        q.scanMean = false
        let pipeline = try RegistrationPipeline(parameters: q, inputShape: det, mask: mask)
        let ws = pipeline.workingShape
        // The mean of the sampled centred patterns outside their own Bragg spots: each is registered (without
        // the 3 x 3 mean) and the pixels within max(spot window, W/32) of its spots other than the direct beam
        // are left out, so the spots of crystals on an amorphous film do not hide a fainter ring (a grain's
        // spots are in its own patterns only, the film's ring in all of them).
        var sum = [Double](repeating: 0, count: ws.pixelCount), count = [Double](repeating: 0, count: ws.pixelCount)
        var prepared = [Float](repeating: 0, count: ws.pixelCount)
        var excluded = [Bool](repeating: false, count: ws.pixelCount)
        var spots = [Spot]()
        let reach = max(q.spotWindow, Float(ws.columns) / 32)
        /// The pixels within `reach` of a spot (centres inside the circle), as rows of column ranges.
        func spotPixels(_ s: Spot, _ body: (Int, Range<Int>) -> Void) {
            SpotMeasurement.forEachDiscRow(x: s.x, y: s.y, radius: reach, width: ws.columns, height: ws.rows, body)
        }
        try comm.collectively {
            for i in mine {
                try one.withUnsafeMutableBufferPointer { try source.read(positions: i ..< i + 1, into: $0) }
                one.withUnsafeBufferPointer { src in
                    prepared.withUnsafeMutableBufferPointer { d in
                        pipeline.prepare(src, count: 1, into: d)
                        if q.centring { pipeline.centre(d, count: 1) }
                    }
                }
                spots.removeAll(keepingCapacity: true)
                _ = prepared.withUnsafeBufferPointer {
                    pipeline.registrar.register(pattern: $0, appendingSpotsTo: &spots, reconstruction: nil)
                }
                for s in spots.dropFirst() { spotPixels(s) { row, cols in for j in cols { excluded[row * ws.columns + j] = true } } }
                for k in 0 ..< ws.pixelCount where !excluded[k] { sum[k] += Double(prepared[k]); count[k] += 1 }
                for s in spots.dropFirst() { spotPixels(s) { row, cols in for j in cols { excluded[row * ws.columns + j] = false } } }
            }
        }
        comm.allreduce(&sum, .sum)
        comm.allreduce(&count, .sum)
        let mean = zip(sum, count).map { $0.1 > 0 ? Float($0.0 / $0.1) : 0 }
        func points(about guess: EllipticalDistortion?) -> [(x: Double, y: Double)] {
            mean.withUnsafeBufferPointer {
                EllipticalDistortion.ringPoints($0, width: ws.columns, height: ws.rows, centreX: Double(ws.columns) / 2,
                                                centreY: Double(ws.rows) / 2, minRadius: Double(ring.inner),
                                                maxRadius: Double(ring.outer), about: guess)
            }
        }
        let e = try comm.collectively { () throws -> EllipticalDistortion in
            let rays = 180
            var found = points(about: nil)
            guard found.count >= rays / 2 else {
                throw STEMError.invalidParameter(name: "ellipse-ring", value: "\(ring.inner),\(ring.outer)",
                                                 expected: "radii enclosing a ring of the mean pattern (a maximum found on only \(found.count) of \(rays) rays)")
            }
            // Rays whose maximum is a Bragg spot rather than the ring are left out of the fit; then the ring is
            // searched again about the fit (two rounds), so the sector median follows the ellipse.
            var (e, inliers) = try EllipticalDistortion.fitRejectingOutliers(points: found)
            for _ in 0 ..< 2 {
                found = points(about: e)
                guard found.count >= rays / 2 else { break }
                (e, inliers) = try EllipticalDistortion.fitRejectingOutliers(points: found)
            }
            guard inliers.count >= rays / 2 else {
                throw STEMError.invalidParameter(name: "ellipse-ring", value: "\(ring.inner),\(ring.outer)",
                                                 expected: "radii enclosing a ring of the mean pattern (the ring found on only \(inliers.count) of \(rays) rays; the others off the best ellipse)")
            }
            let rms = e.rmsResidual(points: inliers)
            guard rms <= 0.02 else {
                throw STEMError.invalidParameter(name: "ellipse-ring", value: "\(ring.inner),\(ring.outer)",
                                                 expected: String(format: "a continuous ring in the mean pattern (the ring points scatter by %.1f %% of the radius around the best ellipse; at most 2 %% accepted; choose radii about a ring that stands out of the Bragg spots of the mean pattern, or give a known distortion with --ellipse)", 100 * rms))
            }
            return e
        }
        return (mask, e)
    }

    static func writeCSV(_ path: String, comm: Communicator, spots: [Spot], scanIndex: [Int64], scanX: [Int32],
                         scanY: [Int32], noise: [Float], threshold: [Float]) throws {
        for r in 0 ..< comm.size {
            try comm.collectively {
                guard r == comm.rank else { return }
                var text = r == 0 ? spotColumns.joined(separator: ",") + "\n" : ""
                text.reserveCapacity(spots.count * 64)
                for k in spots.indices {
                    let s = spots[k]
                    text += "\(scanIndex[k]),\(scanX[k]),\(scanY[k]),\(s.x),\(s.y),\(s.intensity),\(s.pseudoProminence),\(noise[k]),\(threshold[k])\n"
                }
                if r == 0 {
                    try OutputFile.checkDestination(path, estimatedBytes: 0)
                    guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8)) else {
                        throw STEMError.outputFailed(path: path, detail: "cannot create the CSV file")
                    }
                } else {
                    guard let h = FileHandle(forWritingAtPath: path) else {
                        throw STEMError.outputFailed(path: path, detail: "cannot append to the CSV file")
                    }
                    h.seekToEndOfFile()
                    h.write(Data(text.utf8))
                    h.closeFile()
                }
            }
        }
    }

    /// The parameters as provenance strings.
    public static func describe(_ p: RegistrationParameters) -> [(String, String)] {
        [("binning", "\(p.binning)"), ("binning_factor", "\(p.binningFactor)"), ("centring", "\(p.centring)"),
         ("centring_radius", "\(p.centringInitialRadius)"), ("centring_min_radius", "\(p.centringMinimumRadius)"),
         ("centring_passes", "\(p.centringMaxPasses)"), ("centring_tolerance", "\(p.centringTolerance)"),
         ("far_beam_search", "\(p.searchFarBeam)"),
         ("remove_zingers", "\(p.removeZingers)"), ("scan_mean", "\(p.scanMean)"), ("background", "\(p.backgroundSubtraction)"),
         ("background_radius", "\(p.backgroundRadius)"), ("blur_sigma", "\(p.blurSigma)"),
         ("prominence", p.userProminence.map { "\($0)" } ?? "none"),
         ("default_prominence_grey_levels", "\(p.defaultProminenceGreyLevels)"), ("grey_levels", p.greyLevelScale.rawValue),
         ("shot_noise_test", "\(p.electronValue != nil)"), ("electron_value", p.electronValue.map { "\($0)" } ?? "none"),
         ("max_spots", "\(p.maxSpots)"), ("exclude_edge_maxima", "\(p.excludeEdgeMaxima)"),
         ("reject_ridges", "\(p.rejectRidges)"), ("merge_upper_halves", "\(p.mergeUpperHalves)"),
         ("beam_flank", "\(p.correctBeamFlank)"),
         ("refine_passes", "\(p.refinementPasses)"), ("direct_beam_window", "\(p.directBeamWindow)"),
         ("spot_window", "\(p.spotWindow)"), ("windows_fit_spots", "\(p.windowsFitSpots)"),
         ("disc_centres", "\(p.discCentres)"),
         ("refine_on", p.refinementImage.rawValue),
         ("refine_baseline", "\(p.refinementBaseline)"), ("intensity_disc", "\(p.intensityDiscDiameter)"),
         ("pseudo_prominence_radius_direct", "\(p.pseudoProminenceRadiusDirect)"),
         ("pseudo_prominence_radius_spot", "\(p.pseudoProminenceRadiusSpot)"),
         ("reconstruction_size", "\(p.reconstructionSize)"), ("centre_on_direct_beam", "\(p.centreOnDirectBeam)"),
         ("combined_mode", "\(p.combinedMode)"), ("reconstruction_blur", "\(p.reconstructionBlurSigma)")]
    }
}
