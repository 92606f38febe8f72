import Foundation
import STEMCore

/// The fault-injection hook the kill-and-resume tests use (documented in docs/running.md):
/// with `STEMRUN_FAULT_KILL_RANK=r` and `STEMRUN_FAULT_AFTER_READS=n` in the environment, world rank `r`
/// kills itself with SIGKILL (no cleanup, no MPI_Abort: exactly like a node failure) when it is about to
/// make its (n+1)-th pattern read of the process — in the middle of a stage, or of a campaign. With
/// `STEMRUN_FAULT_STAGE=name` only the reads of that pipeline stage count.
public enum FaultInjection {
    struct Plan { let rank: Int; let afterReads: Int; let stage: String? }

    static let plan: Plan? = {
        let env = ProcessInfo.processInfo.environment
        guard let r = env["STEMRUN_FAULT_KILL_RANK"].flatMap(Int.init),
              let n = env["STEMRUN_FAULT_AFTER_READS"].flatMap(Int.init) else { return nil }
        return Plan(rank: r, afterReads: n, stage: env["STEMRUN_FAULT_STAGE"])
    }()

    nonisolated(unsafe) static var reads = 0

    /// Wraps `source` (as read by pipeline stage `stage`) when a fault is planned for `worldRank` and that
    /// stage; returns it unchanged otherwise.
    public static func wrap(_ source: PatternSource, worldRank: Int, stage: String) -> PatternSource {
        guard let p = plan, p.rank == worldRank, p.stage == nil || p.stage == stage else { return source }
        return FaultySource(base: source, plan: p)
    }

    /// Called before every read on the doomed rank (HDF5 is used from one thread per rank).
    static func willRead(_ plan: Plan) {
        if reads >= plan.afterReads {
            FileHandle.standardError.write("stemrun: fault injection: rank \(plan.rank) kills itself (SIGKILL) after \(reads) reads\n".data(using: .utf8)!)
            raise(SIGKILL)
        }
        reads += 1
    }
}

/// A `PatternSource` that counts reads and dies on schedule.
final class FaultySource: PatternSource {
    let base: PatternSource
    let plan: FaultInjection.Plan
    init(base: PatternSource, plan: FaultInjection.Plan) { self.base = base; self.plan = plan }
    var formatName: String { base.formatName }
    var path: String { base.path }
    var scan: ScanGrid { base.scan }
    var detector: DetectorShape { base.detector }
    var elementType: ElementType { base.elementType }
    var metadata: [(String, String)] { base.metadata }
    func read(positions: Range<Int>, into destination: UnsafeMutableBufferPointer<Float>) throws {
        FaultInjection.willRead(plan)
        try base.read(positions: positions, into: destination)
    }
}
