import Crystallography
import Foundation
import HDF5
import Imaging
import Matching
import Registration
import STEMCore

/// `stemrun match`: orientation and phase mapping by template matching (methods §2). The template library is
/// built in slices across ranks and gathered with allgatherv (or read from an HDF5 cache); each rank matches its
/// own block of scan positions, streamed in bounded chunks; all ranks write one output file through parallel
/// HDF5; rank 0 renders the PNG maps and writes the `.ang` export.
public enum MatchingJob {
    public struct Parameters: Sendable {
        public var phases: [CrystalStructure]
        public var library: LibraryParameters
        public var matching: MatchingParameters
        /// HDF5 cache of the library: read when it exists (and matches), written after building otherwise.
        public var libraryCache: String?
        /// Threads per rank for matching.
        public var threads = 1
        public var chunkBudgetBytes = ChunkedScan.defaultBudgetBytes
        /// Scan step for the `.ang` export (x, y).
        public var scanStep = (x: 1.0, y: 1.0)
        /// With a direct-beam search (`PatternCentre.directBeam`) about a centre the user did not give: find the
        /// direct beam on the mean of a sample of patterns and search about it instead when it lies more than
        /// half the search radius from the given centre (`nominalBeamCentre`).
        public var locateBeamCentre = false
        /// Patterns sampled, evenly over the scan (the same whatever the rank count), for `locateBeamCentre`.
        public var beamSamplePatterns = 64

        public init(phases: [CrystalStructure], library: LibraryParameters, matching: MatchingParameters) {
            self.phases = phases
            self.library = library
            self.matching = matching
        }
    }

    public struct Summary: Sendable {
        public var positions: Int
        public var templates: Int
        public var libraryFromCache: Bool
        public var librarySeconds: Double
        /// Seconds of the matching pass (read + match) on the slowest rank.
        public var matchSeconds: Double
        public var seconds: Double
        public var indexed: Int
        public var meanCorrelation: Double
        /// The centre the direct-beam search started from when `locateBeamCentre` moved it (pixel indices).
        public var beamCentre: (x: Double, y: Double)?
    }

    /// The direct beam of the mean of every `N / samples`-th pattern (the same sample whatever the rank count),
    /// in pixel indices (pixel centres at integers, as `DirectBeamCentre`): the block-sum centroid of the
    /// brightest 3 x 3-block window (`DirectBeamCentring.brightestRegion`; the beam is the one feature every
    /// pattern shares, the grains' reflections average out), refined by `DirectBeamCentre.locate` within
    /// `radius`. Nil when the mean has no positive pixel.
    public static func nominalBeamCentre(source: PatternSource, samples: Int, radius: Double,
                                         comm: Communicator) throws -> (x: Double, y: Double)? {
        let scan = source.scan, det = source.detector
        let range = ScanPartition(total: scan.count, parts: comm.size).range(of: comm.rank)
        var sum = [Double](repeating: 0, count: det.pixelCount)
        var one = [Float](repeating: 0, count: det.pixelCount)
        try comm.collectively {
            for i in ScanPartition.evenSample(of: range, total: scan.count, samples: samples) {
                try one.withUnsafeMutableBufferPointer { try source.read(positions: i ..< i + 1, into: $0) }
                for k in 0 ..< det.pixelCount where one[k].isFinite { sum[k] += Double(one[k]) }
            }
        }
        comm.allreduce(&sum, .sum)
        let mean = sum.map { Float($0) }
        return mean.withUnsafeBufferPointer { m -> (x: Double, y: Double)? in
            guard let b = DirectBeamCentring.brightestRegion(m, width: det.columns, height: det.rows, radius: 0) else { return nil }
            return DirectBeamCentre.locate(m, detector: det, x0: Double(b.x) - 0.5, y0: Double(b.y) - 0.5, radius: radius)
        }
    }

    /// Builds the library with each rank computing a contiguous slice of templates, then allgatherv of the flat
    /// arrays (spot offsets rebased by the spots of the lower ranks).
    public static func buildLibrary(phases: [CrystalStructure], parameters: LibraryParameters, comm: Communicator) throws -> TemplateLibrary {
        let builder = try comm.collectively { try TemplateLibraryBuilder(phases: phases, parameters: parameters) }
        let slice = ScanPartition(total: builder.templateCount, parts: comm.size).range(of: comm.rank)
        let mine = try comm.collectively { try builder.build(range: slice) }.flat
        let spotCounts = comm.allgatherv([Int32(mine.spotReals.count / 5)])
        let base = spotCounts.prefix(comm.rank).reduce(0, +)
        var ints: [Int32] = []
        ints.reserveCapacity(mine.templateIntegers.count)
        for t in 0 ..< slice.count { ints.append(mine.templateIntegers[2 * t]); ints.append(mine.templateIntegers[2 * t + 1] + base) }
        var all = comm.allgatherv(ints)
        all.append(spotCounts.reduce(0, +))
        let flat = FlatTemplateLibrary(templateIntegers: all, templateReals: comm.allgatherv(mine.templateReals),
                                       spotReals: comm.allgatherv(mine.spotReals), parametersHash: mine.parametersHash)
        let library = try comm.collectively { try TemplateLibrary(flat: flat, phases: phases, parameters: parameters) }
        // A phase with no spot anywhere is an error (one rank's slice alone cannot tell).
        try comm.collectively {
            for (p, s) in phases.enumerated() {
                var spots = 0
                for t in 0 ..< library.count where library.templatePhase[t] == Int32(p) { spots += library.spots(of: t).count }
                if spots == 0 {
                    throw MatchingError.noReflections(phase: s.name, detail: "no spot between \(parameters.minimumRadius) and \(parameters.maximumRadius) px")
                }
            }
        }
        return library
    }

    public static func run(source: PatternSource, parameters: Parameters, comm: Communicator, outputPath: String,
                           pngFolder: String?, angPath: String?, provenance: Provenance) throws -> Summary {
        let start = Date()
        let scan = source.scan, det = source.detector
        let p = parameters

        // Library: cache or build.
        let libraryStart = Date()
        var library: TemplateLibrary
        var fromCache = false
        if let cache = p.libraryCache, FileManager.default.fileExists(atPath: cache) {
            library = try comm.collectively { try TemplateLibraryCache.read(cache, phases: p.phases, parameters: p.library) }
            fromCache = true
        } else {
            library = try buildLibrary(phases: p.phases, parameters: p.library, comm: comm)
            if let cache = p.libraryCache {
                try comm.collectively { if comm.isRoot { try TemplateLibraryCache.write(library, to: cache) } }
            }
        }
        let librarySeconds = comm.allreduce(Date().timeIntervalSince(libraryStart), .max)
        let builder = try comm.collectively { try TemplateLibraryBuilder(phases: p.phases, parameters: p.library) }
        // A direct beam far from the centre the search would start from (a camera whose optical axis is off its
        // centre): the search starts from where the sampled patterns have it.
        var matching = p.matching
        var beamCentre: (x: Double, y: Double)?
        if p.locateBeamCentre, case let .directBeam(x0, y0, r) = matching.centre,
           let c = try nominalBeamCentre(source: source, samples: p.beamSamplePatterns, radius: 2 * r, comm: comm),
           ((c.x - x0) * (c.x - x0) + (c.y - y0) * (c.y - y0)).squareRoot() > r / 2 {
            matching.centre = .directBeam(x: c.x, y: c.y, searchRadius: r)
            beamCentre = c
        }
        let matcher = try comm.collectively { [matching] in
            try PatternMatcher(library: library, detector: det, parameters: matching, builder: matching.refine ? builder : nil)
        }

        // Matching of this rank's positions.
        let range = ScanPartition(total: scan.count, parts: comm.size).range(of: comm.rank)
        var results: [MatchResult] = []
        results.reserveCapacity(range.count)
        var checksum: UInt64 = 0
        let progress = ProgressLine(label: "match", total: range.count, rank: comm.rank)
        let reader = ChunkedScan(source: source, range: range, budgetBytes: p.chunkBudgetBytes)
        let matchStart = Date()
        try comm.collectively {
            try reader.forEach { chunk, patterns in
                results += matcher.match(patterns: patterns, count: chunk.count, threads: p.threads)
                for k in 0 ..< chunk.count {
                    let h = PatternChecksum.hash(UnsafeBufferPointer(rebasing: patterns[k * det.pixelCount ..< (k + 1) * det.pixelCount]))
                    checksum = checksum &+ PatternChecksum.contribution(hash: h, scanIndex: chunk.lowerBound + k)
                }
                progress.update(chunk.upperBound - range.lowerBound, bytes: (chunk.upperBound - range.lowerBound) * source.bytesPerPattern)
            }
        }
        let matchSeconds = comm.allreduce(Date().timeIntervalSince(matchStart), .max)
        checksum = comm.allreduce(checksum, .sum)

        var prov = provenance
        prov.inputBytes = scan.count * source.bytesPerPattern
        prov.inputChecksum = checksum
        prov.parameters += [("templates", "\(library.count)"), ("library_hash", String(library.parametersHash, radix: 16))]
        if let c = beamCentre { prov.parameters += [("beam_search_centre", String(format: "%.2f,%.2f", c.x, c.y))] }
        let topN = p.matching.topN
        let output = try OutputFile(path: outputPath, comm: comm, provenance: prov,
                                    estimatedBytes: scan.count * (64 + topN * 48))
        defer { output.abandon() } // on an error: closed on every rank and removed; no-op after commit
        let maps = ResultArrays(results, topN: topN, phases: library.phases)
        try write(maps, output: output, scan: scan, range: range, library: library, parameters: p)
        try renderAndExport(maps, output: output, scan: scan, range: range, library: library, pngFolder: pngFolder,
                            angPath: angPath, step: p.scanStep)
        try output.commit()

        let indexed = comm.allreduce(results.filter(\.isIndexed).count, .sum)
        let qSum = comm.allreduce(results.reduce(0.0) { $0 + Double($1.correlation) }, .sum)
        return Summary(positions: scan.count, templates: library.count, libraryFromCache: fromCache,
                       librarySeconds: librarySeconds, matchSeconds: matchSeconds, seconds: Date().timeIntervalSince(start),
                       indexed: indexed, meanCorrelation: qSum / Double(max(1, scan.count)), beamCentre: beamCentre)
    }

    /// Per-position result columns of one rank.
    struct ResultArrays {
        var phase: [Int32] = [], euler: [Double] = [], quaternion: [Double] = []
        var correlation: [Float] = [], reliability: [Float] = [], phaseReliability: [Float] = []
        var topPhase: [Int32] = [], topTemplate: [Int32] = [], topCorrelation: [Float] = []
        var topQuaternion: [Double] = [], topAngle: [Float] = []
        var ipf: [Float] = []

        init(_ results: [MatchResult], topN: Int, phases: [TemplatePhase]) {
            for r in results {
                phase.append(Int32(r.phase))
                let e = r.euler, q = r.orientation.quaternion
                euler += r.isIndexed ? [e.phi1, e.Phi, e.phi2] : [0, 0, 0]
                quaternion += [q.w, q.x, q.y, q.z]
                correlation.append(r.correlation); reliability.append(r.reliability); phaseReliability.append(r.phaseReliability)
                for k in 0 ..< topN {
                    if k < r.candidates.count {
                        let c = r.candidates[k], cq = c.orientation.quaternion
                        topPhase.append(Int32(c.phase)); topTemplate.append(Int32(c.template)); topCorrelation.append(c.correlation)
                        topQuaternion += [cq.w, cq.x, cq.y, cq.z]; topAngle.append(Float(c.inPlaneAngle))
                    } else {
                        topPhase.append(-1); topTemplate.append(-1); topCorrelation.append(0)
                        topQuaternion += [1, 0, 0, 0]; topAngle.append(0)
                    }
                }
                if r.isIndexed {
                    let c = InversePoleFigure.colour(r.orientation, symmetry: phases[r.phase].symmetry)
                    ipf += [c.0, c.1, c.2]
                } else {
                    ipf += [0, 0, 0]
                }
            }
        }
    }

    private static func write(_ m: ResultArrays, output: OutputFile, scan: ScanGrid, range: Range<Int>,
                              library: TemplateLibrary, parameters p: Parameters) throws {
        let writer = ScanMapWriter(output: output, scan: scan, range: range)
        let group = try output.comm.collectively { try output.root.createGroup("matching") }
        try output.comm.collectively {
            try group.setAttribute("phases", library.phases.map(\.name).joined(separator: ","))
            try group.setAttribute("point_groups", library.phases.map(\.symmetry.name).joined(separator: ","))
            try group.setAttribute("templates", library.count)
            try group.setAttribute("step_degrees", p.library.stepDegrees)
            try group.setAttribute("reciprocal_pixel_size_per_angstrom", p.library.reciprocalPixelSize)
            try group.setAttribute("accelerating_voltage_V", p.library.conditions.voltage)
            try group.setAttribute("precession_angle_rad", p.library.conditions.precessionAngle)
            try group.setAttribute("radius_range_px", [p.library.minimumRadius, p.library.maximumRadius])
            try group.setAttribute("reliability_minimum_angle_degrees", p.matching.reliabilityMinimumAngle)
            try group.setAttribute("convention", "orientation maps sample to crystal (Bunge ZXZ, radians; quaternion w,x,y,z with w >= 0); sample x = scan/detector columns, y = rows, z = beam; phase -1 = not indexed")
        }
        let n = p.matching.topN
        try writer.write("matching/phase", m.phase)
        try writer.write("matching/euler", m.euler, trailing: [3])
        try writer.write("matching/quaternion", m.quaternion, trailing: [4])
        try writer.write("matching/correlation", m.correlation)
        try writer.write("matching/reliability", m.reliability)
        try writer.write("matching/phase_reliability", m.phaseReliability)
        try writer.write("matching/top_phase", m.topPhase, trailing: [n])
        try writer.write("matching/top_template", m.topTemplate, trailing: [n])
        try writer.write("matching/top_correlation", m.topCorrelation, trailing: [n])
        try writer.write("matching/top_quaternion", m.topQuaternion, trailing: [n, 4])
        try writer.write("matching/top_in_plane_angle", m.topAngle, trailing: [n])
        try writer.write("matching/ipf_z", m.ipf, trailing: [3])
    }

    private static func renderAndExport(_ m: ResultArrays, output: OutputFile, scan: ScanGrid, range: Range<Int>,
                                        library: TemplateLibrary, pngFolder: String?, angPath: String?,
                                        step: (x: Double, y: Double)) throws {
        let comm = output.comm
        let phase = comm.gatherv(m.phase, root: 0)
        let correlation = comm.gatherv(m.correlation, root: 0)
        let reliability = comm.gatherv(m.reliability, root: 0)
        let phaseReliability = comm.gatherv(m.phaseReliability, root: 0)
        let quaternion = comm.gatherv(m.quaternion, root: 0)
        let ipf = comm.gatherv(m.ipf, root: 0)
        try comm.collectively {
            guard comm.isRoot, let phase, let correlation, let reliability, let phaseReliability, let quaternion, let ipf else { return }
            if let folder = pngFolder {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
                let images = MapImages(folder: folder, scan: scan)
                let s = MapRenderer.upscale(forWidth: scan.columns, height: scan.rows)
                try MapRenderer.labels(phase.map { Int($0) }, width: scan.columns, height: scan.rows, scale: s)
                    .write(to: folder + "/phase.png")
                try images.scalar("correlation", correlation)
                try images.scalar("reliability", reliability)
                try images.scalar("phase_reliability", phaseReliability)
                var colours: [(Float, Float, Float)] = []
                colours.reserveCapacity(scan.count)
                for i in 0 ..< scan.count {
                    let r: Float = ipf[3 * i], g: Float = ipf[3 * i + 1], b: Float = ipf[3 * i + 2]
                    colours.append((r, g, b))
                }
                try MapRenderer.rgb(colours, width: scan.columns, height: scan.rows, scale: s).write(to: folder + "/ipf_z.png")
                var systems: [CrystalSystem] = []
                for ph in library.phases where !systems.contains(ph.symmetry.system) { systems.append(ph.symmetry.system) }
                for system in systems {
                    let key = InversePoleFigure.key(system: system, width: 256)
                    try MapRenderer.rgb(key.colours, width: key.width, height: key.height)
                        .write(to: folder + "/ipf_key_\(system.rawValue).png")
                }
            }
            if let angPath {
                var results: [MatchResult] = []
                results.reserveCapacity(scan.count)
                for i in 0 ..< scan.count {
                    let q = Quaternion(w: quaternion[4 * i], x: quaternion[4 * i + 1], y: quaternion[4 * i + 2], z: quaternion[4 * i + 3])
                    results.append(MatchResult(phase: Int(phase[i]), orientation: Orientation(quaternion: q),
                                               correlation: correlation[i], reliability: reliability[i],
                                               phaseReliability: phaseReliability[i], candidates: [], centreX: 0, centreY: 0))
                }
                try AngWriter.write(results: results, scan: scan, stepX: step.x, stepY: step.y, phases: library.phases, to: angPath)
            }
        }
    }
}
