import Foundation
import HDF5
import Imaging
import STEMCore
import VirtualImaging

/// `stemrun virtual`: virtual bright-field and annular dark-field images, the total intensity, and the mean
/// and maximum pattern, computed by every rank on its own block of scan positions (streamed in bounded
/// chunks) and written by all ranks into one HDF5 file through parallel HDF5.
public enum VirtualImagingJob {
    public struct Parameters: Sendable {
        /// Direct-beam centre in detector pixels; nil: found from the mean of a sample of patterns.
        public var center: (x: Float, y: Float)?
        /// Bright-field disc radius in pixels; nil: 1.1 x the direct-beam radius found.
        public var brightFieldRadius: Float?
        /// Annular dark-field radii; nil: inner = 2 x the bright-field radius, outer = half the detector.
        public var annularInner: Float?
        public var annularOuter: Float?
        /// Patterns per rank used to find the centre.
        public var samplePerRank = 64
        public var chunkBudgetBytes = ChunkedScan.defaultBudgetBytes

        public init() {}
    }

    public struct Summary: Sendable {
        public var detector: VirtualDetector
        public var positions: Int
        public var seconds: Double
        public var bytesRead: Int
        /// Seconds of the streaming pass (read + virtual detectors) on the slowest rank.
        public var streamSeconds: Double
        /// Peak resident memory of the largest rank.
        public var peakResidentBytes: Int
    }

    /// Finds the virtual detector: from the parameters, completed by a direct-beam estimate on the mean of
    /// up to `samplePerRank` patterns per rank (evenly spaced in each rank's block).
    static func resolveDetector(_ p: Parameters, source: PatternSource, range: Range<Int>,
                                comm: Communicator) throws -> VirtualDetector {
        let det = source.detector
        var estimate: DirectBeamEstimate.Result?
        if p.center == nil || p.brightFieldRadius == nil {
            var sum = [Float](repeating: 0, count: det.pixelCount)
            let step = max(1, range.count / max(1, p.samplePerRank))
            var one = [Float](repeating: 0, count: det.pixelCount)
            try comm.collectively {
                for i in stride(from: range.lowerBound, to: range.upperBound, by: step) {
                    try one.withUnsafeMutableBufferPointer { try source.read(positions: i ..< i + 1, into: $0) }
                    for k in 0 ..< one.count where one[k].isFinite { sum[k] += one[k] }
                }
            }
            comm.allreduce(&sum, .sum)
            estimate = DirectBeamEstimate.estimate(sum, detector: det)
        }
        let cx = p.center?.x ?? estimate!.centerX
        let cy = p.center?.y ?? estimate!.centerY
        let rbf = p.brightFieldRadius ?? max(1, 1.1 * estimate!.radius)
        let inner = p.annularInner ?? 2 * rbf
        let outer = p.annularOuter ?? Float(min(det.rows, det.columns)) / 2
        guard rbf > 0, inner >= 0, outer > inner else {
            throw STEMError.invalidParameter(name: "virtual detector radii", value: "bf \(rbf), adf \(inner)..\(outer)",
                                             expected: "bf > 0 and adf outer > inner >= 0")
        }
        return VirtualDetector(centerX: cx, centerY: cy, brightFieldRadius: rbf, annularInner: inner, annularOuter: outer)
    }

    public static func run(source: PatternSource, parameters: Parameters, comm: Communicator, outputPath: String,
                           pngFolder: String?, provenance: Provenance) throws -> Summary {
        let start = Date()
        let scan = source.scan, det = source.detector
        let range = ScanPartition(total: scan.count, parts: comm.size).range(of: comm.rank)
        let vd = try resolveDetector(parameters, source: source, range: range, comm: comm)

        var acc = VirtualImageAccumulator(detector: det, virtualDetector: vd)
        var bf = [Float](repeating: 0, count: range.count)
        var adf = bf, total = bf
        var checksum: UInt64 = 0
        let progress = ProgressLine(label: "virtual", total: range.count, rank: comm.rank)
        let reader = ChunkedScan(source: source, range: range, budgetBytes: parameters.chunkBudgetBytes)
        let streamStart = Date()
        try comm.collectively {
            try reader.forEach { chunk, patterns in
                let off = chunk.lowerBound - range.lowerBound
                let bad = bf.withUnsafeMutableBufferPointer { b in
                    adf.withUnsafeMutableBufferPointer { a in
                        total.withUnsafeMutableBufferPointer { t in
                            acc.accumulate(patterns, count: chunk.count, brightField: b.baseAddress! + off,
                                           annular: a.baseAddress! + off, total: t.baseAddress! + off)
                        }
                    }
                }
                if let k = bad {
                    let (row, col) = scan.position(of: chunk.lowerBound + k)
                    throw STEMError.invalidValues(path: source.path, location: "scan position (row \(row), column \(col))",
                                                  detail: "pattern contains NaN or Inf; stemrun needs finite detector values")
                }
                for k in 0 ..< chunk.count {
                    let h = PatternChecksum.hash(UnsafeBufferPointer(rebasing: patterns[k * det.pixelCount ..< (k + 1) * det.pixelCount]))
                    checksum = checksum &+ PatternChecksum.contribution(hash: h, scanIndex: chunk.lowerBound + k)
                }
                progress.update(chunk.upperBound - range.lowerBound, bytes: (chunk.upperBound - range.lowerBound) * source.bytesPerPattern)
            }
        }
        let streamSeconds = comm.allreduce(Date().timeIntervalSince(streamStart), .max)
        var mean = acc.sumPattern
        comm.allreduce(&mean, .sum)
        for i in mean.indices { mean[i] /= Float(scan.count) }
        var maxPattern = acc.maxPattern
        comm.allreduce(&maxPattern, .max)
        checksum = comm.allreduce(checksum, .sum)

        var prov = provenance
        prov.inputBytes = scan.count * source.bytesPerPattern
        prov.inputChecksum = checksum
        prov.parameters += [("center_x", "\(vd.centerX)"), ("center_y", "\(vd.centerY)"),
                            ("bright_field_radius", "\(vd.brightFieldRadius)"),
                            ("annular_inner", "\(vd.annularInner)"), ("annular_outer", "\(vd.annularOuter)")]
        let output = try OutputFile(path: outputPath, comm: comm, provenance: prov,
                                    estimatedBytes: 3 * scan.count * 4 + 2 * det.pixelCount * 4)
        defer { output.abandon() } // on an error: closed on every rank and removed; no-op after commit
        try writeResults(output: output, scan: scan, range: range, detector: det, vd: vd,
                         maps: [("bright_field", bf), ("annular_dark_field", adf), ("total_intensity", total)],
                         mean: mean, maxPattern: maxPattern, pngFolder: pngFolder)
        try output.commit()
        return Summary(detector: vd, positions: scan.count, seconds: Date().timeIntervalSince(start),
                       bytesRead: comm.allreduce(range.count * source.bytesPerPattern, .max), streamSeconds: streamSeconds,
                       peakResidentBytes: comm.allreduce(ResourceUsage.peakResidentBytes, .max))
    }

    private static func writeResults(output: OutputFile, scan: ScanGrid, range: Range<Int>, detector: DetectorShape,
                                     vd: VirtualDetector, maps: [(String, [Float])], mean: [Float],
                                     maxPattern: [Float], pngFolder: String?) throws {
        let writer = ScanMapWriter(output: output, scan: scan, range: range)
        let group = try output.root.createGroup("virtual")
        try group.setAttribute("center", [vd.centerX, vd.centerY])
        try group.setAttribute("bright_field_radius", vd.brightFieldRadius)
        try group.setAttribute("annular_radii", [vd.annularInner, vd.annularOuter])
        for (name, values) in maps { try writer.write("virtual/" + name, values) }
        try writer.writeReplicated("virtual/mean_pattern", mean, shape: [detector.rows, detector.columns])
        try writer.writeReplicated("virtual/max_pattern", maxPattern, shape: [detector.rows, detector.columns])
        let images = MapImages(folder: pngFolder, scan: scan)
        var gathered: [(String, [Float])] = []
        for (name, values) in maps { if let full = writer.gather(values) { gathered.append((name, full)) } }
        try output.comm.collectively {
            guard output.comm.isRoot, let folder = pngFolder else { return }
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            for (name, full) in gathered {
                try images.scalar(name, full, colormap: name == "bright_field" ? .gray : .viridis)
            }
            try images.pattern("mean_pattern", mean, detector: detector)
            try images.pattern("max_pattern", maxPattern, detector: detector)
        }
    }
}
