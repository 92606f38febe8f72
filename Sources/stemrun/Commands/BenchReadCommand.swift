import ArgumentParser
import Distributed
import Foundation

/// `stemrun bench-read`: read throughput per rank (GB/s) of any input, for docs/benchmarks.md.
struct BenchReadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-read", abstract: "Measure read throughput per rank (run under mpirun; warm the page cache first).")

    @OptionGroup var input: InputOptions

    @Option(help: "Memory per rank for one chunk of patterns, in MiB.")
    var chunkMb: Int = 4

    func run() throws {
        try runOnWorld { comm in
            let source = try comm.collectively { try input.spec().open() }
            let r = try ReadBenchmarkJob.run(source: source, comm: comm, budgetBytes: max(1, chunkMb) << 20)
            let maxBytes = r.bytesPerRank.max() ?? 0
            printOnRoot(comm, String(format: "bench-read: format %@, %d ranks, %.3f GB per rank in %.3f s: %.2f GB/s per rank, %.2f GB/s total; peak RSS per rank %.0f MB; checksum %016llx",
                                     source.formatName, comm.size, Double(maxBytes) / 1e9, r.seconds,
                                     Double(maxBytes) / r.seconds / 1e9, Double(r.bytesPerRank.reduce(0, +)) / r.seconds / 1e9,
                                     Double(r.peakResidentBytesPerRank.max() ?? 0) / 1e6, r.checksum))
        }
    }
}
