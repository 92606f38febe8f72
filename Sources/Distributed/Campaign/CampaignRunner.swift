import Foundation
import STEMCore

/// `stemrun campaign`: many datasets, each through `PipelineRunner` with `--resume` semantics, recorded
/// in a `CampaignLedger`.
///
/// Work is spread two ways, which combine: the world communicator is split into `groups` sub-communicators
/// (each processes one dataset at a time; groups take the next dataset from the ledger, so fast groups do
/// more), and a SLURM job array gives each task every count-th dataset of the manifest. A failing dataset
/// is recorded as failed with its error and the group moves on.
public struct CampaignRunner {
    public let manifest: CampaignManifest
    public var groups: Int
    public var task: (index: Int, count: Int)
    public var retryFailed = false
    /// Builds the pipeline configuration of one dataset (the command line supplies TOML parsing).
    public let loadConfig: (CampaignEntry, _ outputFolder: String) throws -> PipelineConfig
    /// Progress messages (printed by group roots).
    public var log: (String) -> Void = { print($0); fflush(stdout) }

    public init(manifest: CampaignManifest, groups: Int = 1, task: (index: Int, count: Int) = (0, 1),
                loadConfig: @escaping (CampaignEntry, String) throws -> PipelineConfig) {
        self.manifest = manifest
        self.groups = groups
        self.task = task
        self.loadConfig = loadConfig
    }

    public struct Outcome: Sendable {
        /// Datasets of this task's share by final state.
        public var done: [String] = []
        public var failed: [(name: String, error: String)] = []
        public var pending: [String] = []
        /// Datasets attempted by this rank's group in this invocation.
        public var attempted: [String] = []
        /// Datasets attempted by all groups in this invocation.
        public var attemptedTotal = 0
    }

    public func run(world: Communicator) throws -> Outcome {
        guard task.count >= 1, (0 ..< task.count).contains(task.index) else {
            throw STEMError.invalidParameter(name: "array task", value: "\(task.index) of \(task.count)", expected: "0 <= index < count")
        }
        let ledger = try world.collectively { try CampaignLedger(path: manifest.ledgerPath) }
        let groupCount = max(1, min(groups, world.size))
        let color = world.rank * groupCount / world.size
        let group = world.split(color: color, key: world.rank)
        let runID = world.broadcast(world.isRoot ? UUID().uuidString : "")
        let share = manifest.share(task: task.index, of: task.count)
        if world.isRoot {
            log("campaign: \(share.count) dataset(s) in this task's share (task \(task.index) of \(task.count)), \(groupCount) group(s) of ranks, ledger \(manifest.ledgerPath)")
        }

        var attempted: [String] = []
        var outcome = Outcome()
        // Identities (input size and time, configuration bytes) as of the start of this invocation.
        let ids = group.isRoot ? share.map { (name: $0.name, identity: $0.identity()) } : []
        while true {
            var claimed = [-1]
            var identity = ""
            try group.collectively {
                guard group.isRoot else { return }
                if let i = try ledger.claim(ids, run: runID, task: task.index, retryFailed: retryFailed) {
                    claimed[0] = i
                    identity = ids[i].identity
                }
            }
            group.broadcast(&claimed, root: 0)
            guard claimed[0] >= 0 else { break }
            let entry = share[claimed[0]]
            attempted.append(entry.name)
            let t0 = Date()
            var failure: String?
            do {
                let config = try group.collectively { try loadConfig(entry, manifest.outputFolder(entry)) }
                var runner = PipelineRunner(config: config, resume: true)
                runner.worldRank = world.rank
                let prefix = "[\(entry.name)] "
                let log = self.log
                runner.log = { log(prefix + $0) }
                _ = try runner.run(comm: group)
            } catch {
                failure = (error as? RankFailure)?.message ?? String(describing: error)
            }
            let seconds = Date().timeIntervalSince(t0)
            if group.isRoot {
                if let f = failure { log("[\(entry.name)] FAILED: \(f)") } else { log(String(format: "[%@] done in %.2f s", entry.name, seconds)) }
                // A ledger that cannot be written is fatal for the whole campaign: report and stop.
                do {
                    try ledger.finish(entry.name, identity: identity, run: runID, task: task.index, seconds: seconds, error: failure)
                } catch {
                    group.abort("cannot record \(entry.name) in the ledger: \(error)", code: 3)
                }
            }
        }
        outcome.attempted = attempted
        outcome.attemptedTotal = world.allreduce(group.isRoot ? attempted.count : 0, .sum)

        // The final states of this task's share, as the ledger records them.
        let last = CampaignLedger.latest(try world.collectively { try ledger.records() })
        for e in share {
            switch last[e.name]?.state {
            case .done?: outcome.done.append(e.name)
            case .failed?: outcome.failed.append((e.name, last[e.name]?.error ?? ""))
            default: outcome.pending.append(e.name)
            }
        }
        return outcome
    }

    /// The summary table of every dataset of the manifest, from the ledger.
    public static func summaryTable(manifest: CampaignManifest, records: [CampaignLedger.Record]) -> String {
        let last = CampaignLedger.latest(records)
        let attempts = Dictionary(grouping: records.filter { $0.state != .running }, by: \.dataset).mapValues(\.count)
        let width = max(7, manifest.entries.map(\.name.count).max() ?? 7)
        func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
        var lines = [pad("dataset", width) + "  state    attempts  seconds  error"]
        var counts: [CampaignLedger.State: Int] = [:]
        for e in manifest.entries {
            let r = last[e.name]
            let state = r?.state ?? .pending
            counts[state, default: 0] += 1
            let secs = r?.seconds.map { String(format: "%7.2f", $0) } ?? "      -"
            lines.append(pad(e.name, width) + "  " + pad(state.rawValue, 7) + "  " + pad(String(attempts[e.name] ?? 0), 8) + "  "
                         + secs + "  " + (state == .failed ? (r?.error ?? "") : ""))
        }
        lines.append("total: \(manifest.entries.count); done \(counts[.done] ?? 0), failed \(counts[.failed] ?? 0), "
                     + "running \(counts[.running] ?? 0), pending \(counts[.pending] ?? 0)")
        return lines.joined(separator: "\n")
    }
}
