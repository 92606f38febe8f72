import Foundation
import STEMCore

/// Streams every rank's block of the input through the bounded chunk buffer and checksums it, timing the
/// read alone: the read throughput figure of the benchmarks.
public enum ReadBenchmarkJob {
    public struct Result: Sendable {
        /// Bytes of pattern data read by each rank (on-disk type), and the slowest rank's seconds.
        public var bytesPerRank: [Int]
        public var seconds: Double
        public var checksum: UInt64
        public var peakResidentBytesPerRank: [Int]
    }

    public static func run(source: PatternSource, comm: Communicator, budgetBytes: Int) throws -> Result {
        let range = ScanPartition(total: source.scan.count, parts: comm.size).range(of: comm.rank)
        let p = source.detector.pixelCount
        comm.barrier()
        let start = Date()
        var checksum: UInt64 = 0
        try comm.collectively {
            try ChunkedScan(source: source, range: range, budgetBytes: budgetBytes).forEach { chunk, patterns in
                for k in 0 ..< chunk.count {
                    let h = PatternChecksum.hash(UnsafeBufferPointer(rebasing: patterns[k * p ..< (k + 1) * p]))
                    checksum = checksum &+ PatternChecksum.contribution(hash: h, scanIndex: chunk.lowerBound + k)
                }
            }
        }
        let mine = Date().timeIntervalSince(start)
        let seconds = comm.allreduce(mine, .max)
        return Result(bytesPerRank: comm.allgatherv([range.count * source.bytesPerPattern]), seconds: seconds,
                      checksum: comm.allreduce(checksum, .sum),
                      peakResidentBytesPerRank: comm.allgatherv([ResourceUsage.peakResidentBytes]))
    }
}
