import ArgumentParser
import Distributed
import Foundation
import Readers
import STEMCore

/// `stemrun export`: writes the patterns of any input (raw detector data or a reconstructed dataset in
/// HDF5) as an ASTAR blockfile, a BMP sequence, or float32 `.npy` / raw binary. Every rank streams its own
/// block of scan positions through a bounded chunk and writes it at its place in the shared output.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write patterns as a NanoMEGAS blockfile, a BMP sequence, or float32 .npy / raw (run under mpirun).")

    @OptionGroup var input: InputOptions

    @Option(help: "Output format: blo, bmp, npy or raw.")
    var to: String

    @Option(name: .shortAndLong, help: "Output file (blo, npy, raw) or folder (bmp).")
    var output: String

    @Option(help: "BMP bit depth: 8 or 16.")
    var bitDepth: Int = 8

    @Option(help: "Integer scaling for blo/bmp: clip (round and clamp counts), minmax (the data's range onto the full range), or LOW,HIGH.")
    var scale: String = "clip"

    @Option(help: "Memory per rank for one chunk of patterns, in MiB.")
    var chunkMb: Int = 64

    func run() throws {
        guard let format = ExportFormat(rawValue: to.lowercased()) else {
            throw ValidationError("--to must be one of \(ExportFormat.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        try runOnWorld { comm in
            let source = try comm.collectively { try input.spec().open() }
            let range = ScanPartition(total: source.scan.count, parts: comm.size).range(of: comm.rank)
            let budget = max(1, chunkMb) << 20
            let scaling = try scalingFor(source: source, range: range, budget: budget, comm: comm)
            let start = Date()
            try comm.collectively {
                if comm.isRoot {
                    _ = try format.writer(path: output, scan: source.scan, detector: source.detector, bitDepth: bitDepth,
                                          scaling: scaling, create: true)
                }
            }
            let writer = try comm.collectively {
                try format.writer(path: output, scan: source.scan, detector: source.detector, bitDepth: bitDepth,
                                  scaling: scaling, create: false)
            }
            try comm.collectively {
                try ChunkedScan(source: source, range: range, budgetBytes: budget).forEach { chunk, patterns in
                    try writer.write(firstIndex: chunk.lowerBound, patterns: patterns)
                }
            }
            let seconds = comm.allreduce(Date().timeIntervalSince(start), .max)
            printOnRoot(comm, String(format: "export: %d patterns of %@ (%@) to %@ %@ on %d ranks in %.2f s",
                                     source.scan.count, "\(source.detector)", source.formatName, format.rawValue, output,
                                     comm.size, seconds))
        }
    }

    /// The integer scaling; `minmax` takes the data's global range (one extra read pass).
    func scalingFor(source: PatternSource, range: Range<Int>, budget: Int, comm: Communicator) throws -> IntensityScaling {
        switch scale.lowercased() {
        case "clip": return .clip
        case "minmax":
            var low = Float.infinity, high = -Float.infinity
            try comm.collectively {
                try ChunkedScan(source: source, range: range, budgetBytes: budget).forEach { _, patterns in
                    for v in patterns where v.isFinite { low = min(low, v); high = max(high, v) }
                }
            }
            low = comm.allreduce(low, .min)
            high = comm.allreduce(high, .max)
            return low.isFinite && high > low ? .linear(low: low, high: high) : .clip
        default:
            let v = scale.split(separator: ",").compactMap { Float($0) }
            guard v.count == 2, v[1] > v[0] else {
                throw STEMError.invalidParameter(name: "--scale", value: scale, expected: "clip, minmax or LOW,HIGH with HIGH > LOW")
            }
            return .linear(low: v[0], high: v[1])
        }
    }
}
