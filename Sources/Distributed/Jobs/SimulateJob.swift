import Crystallography
import Foundation
import HDF5
import Simulation
import STEMCore

/// `stemrun simulate`: every rank renders its own block of scan positions of the synthetic polycrystal
/// (Simulation target) in bounded chunks and writes it into one HDF5 file through parallel HDF5, with the
/// ground truth beside the data; optionally also as raw binary.
public enum SimulateJob {
    public struct Options: Sendable {
        /// On-disk type of the patterns: uint16 (detector counts, clipped at 65535) or float32.
        public var elementType: ElementType = .uint16
        /// Also write the patterns as raw binary (little endian, no headers) to this path.
        public var rawOutput: String?
        public var chunkBudgetBytes = ChunkedScan.defaultBudgetBytes
        public init() {}
    }

    public struct Summary: Sendable {
        public var positions: Int
        public var seconds: Double
        public var bytes: Int
    }

    public static func run(simulator: PolycrystalSimulator, comm: Communicator, outputPath: String, options: Options,
                           provenance: Provenance) throws -> Summary {
        let start = Date()
        let p = simulator.parameters
        let scan = p.scan, det = p.detector
        guard options.elementType == .uint16 || options.elementType == .float32 else {
            throw STEMError.invalidParameter(name: "--dtype", value: options.elementType.rawValue, expected: "uint16 or float32")
        }
        let range = ScanPartition(total: scan.count, parts: comm.size).range(of: comm.rank)
        let bytes = scan.count * det.pixelCount * options.elementType.byteSize
        let output = try OutputFile(path: outputPath, comm: comm, provenance: provenance, estimatedBytes: bytes + bytes / 10)
        defer { output.abandon() } // on an error: closed on every rank and removed; no-op after commit
        var raw: RawFrameWriter?
        if let r = options.rawOutput {
            raw = try RawFrameWriter(path: r, frameBytes: det.pixelCount * options.elementType.byteSize,
                                     frames: scan.count, comm: comm)
        }
        if options.elementType == .uint16 {
            try writePatterns(simulator, output: output, range: range, options: options, raw: raw) {
                UInt16(max(0, min(65535, $0.rounded())))
            }
        } else {
            try writePatterns(simulator, output: output, range: range, options: options, raw: raw) { $0 }
        }
        try writeGroundTruth(simulator.groundTruth, parameters: p, output: output, range: range)
        try output.commit()
        try raw?.commit()
        return Summary(positions: scan.count, seconds: Date().timeIntervalSince(start), bytes: bytes)
    }

    /// Renders and writes this rank's positions chunk by chunk. Every rank makes the same number of
    /// collective write calls (ranks with fewer chunks join the last rounds with empty selections).
    private static func writePatterns<T: H5Scalar>(_ simulator: PolycrystalSimulator, output: OutputFile, range: Range<Int>,
                                                   options: Options, raw: RawFrameWriter?,
                                                   convert: (Float) -> T) throws {
        let p = simulator.parameters
        let det = p.detector, scan = p.scan
        let pixels = det.pixelCount
        let chunk = max(1, options.chunkBudgetBytes / (pixels * 4))
        let chunks = ScanPartition.chunks(of: range, size: chunk)
        let rounds = output.comm.allreduce(chunks.count, .max)
        var floats = [Float](repeating: 0, count: min(chunk, max(range.count, 1)) * pixels)
        var typed = [T](repeating: T(), count: floats.count)
        let ds = try output.comm.collectively {
            try output.root.createDataset("data", of: T.self, shape: [scan.rows, scan.columns, det.rows, det.columns])
        }
        try ds.setAttribute("reciprocal_pixel_size_per_angstrom", p.reciprocalPixelSize)
        try ds.setAttribute("accelerating_voltage_V", p.conditions.voltage)
        try ds.setAttribute("units", "counts")
        try ds.setAttribute("axes", "scan_y, scan_x, detector_y, detector_x")
        for round in 0 ..< rounds {
            let positions = round < chunks.count ? chunks[round] : range.upperBound ..< range.upperBound
            try output.comm.collectively {
                if !positions.isEmpty {
                    try floats.withUnsafeMutableBufferPointer { try simulator.generate(positions: positions, into: $0) }
                    for i in 0 ..< positions.count * pixels { typed[i] = convert(floats[i]) }
                }
                try typed.withUnsafeBufferPointer {
                    try ds.write(scanRange: positions, scanDims: 2, from: UnsafeBufferPointer(rebasing: $0[0 ..< positions.count * pixels]),
                                 transfer: output.transfer)
                }
                if let raw, !positions.isEmpty {
                    try typed.withUnsafeBytes { try raw.write(frames: positions, bytes: UnsafeRawBufferPointer(rebasing: $0[0 ..< positions.count * pixels * MemoryLayout<T>.size])) }
                }
            }
        }
    }

    private static func writeGroundTruth(_ truth: GroundTruth, parameters p: SimulationParameters, output: OutputFile,
                                         range: Range<Int>) throws {
        let writer = ScanMapWriter(output: output, scan: p.scan, range: range)
        let g = try output.root.createGroup("ground_truth")
        try g.setAttribute("description", "Truth of the simulated polycrystal: grain per position, its orientation (Bunge ZXZ, sample to crystal), the beam centre (descan) per position in detector pixels.")
        try g.setAttribute("seed", Int64(bitPattern: p.seed))
        try g.setAttribute("reciprocal_pixel_size_per_angstrom", p.reciprocalPixelSize)
        try g.setAttribute("accelerating_voltage_V", p.conditions.voltage)
        try g.setAttribute("calibration_center", [truth.calibration.centreX, truth.calibration.centreY])
        try g.setAttribute("ellipticity", p.ellipticity)
        let slice = range
        try writer.write("ground_truth/grain_id", Array(truth.grainID[slice]))
        try writer.write("ground_truth/secondary_grain_id", Array(truth.secondaryGrainID[slice]))
        try writer.write("ground_truth/dominant_weight", Array(truth.dominantWeight[slice]))
        try writer.write("ground_truth/beam_center_x", Array(truth.beamCentreX[slice]))
        try writer.write("ground_truth/beam_center_y", Array(truth.beamCentreY[slice]))
        try writer.write("ground_truth/phase_index", slice.map { Int32(truth.phaseIndex(at: $0)) })
        let grains = truth.grains
        try writer.writeReplicated("ground_truth/grains/phase_index", grains.map { Int32($0.phaseIndex) }, shape: [grains.count])
        try writer.writeReplicated("ground_truth/grains/euler_bunge_rad",
                                   grains.flatMap { [$0.euler.phi1, $0.euler.Phi, $0.euler.phi2] }, shape: [grains.count, 3])
        try writer.writeReplicated("ground_truth/grains/quaternion_wxyz",
                                   grains.flatMap { [$0.quaternion.w, $0.quaternion.x, $0.quaternion.y, $0.quaternion.z] },
                                   shape: [grains.count, 4])
        try output.comm.collectively {
            try output.root.writeStrings("ground_truth/phase_names", p.phases.map { $0.name })
        }
    }
}
