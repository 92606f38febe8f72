import ArgumentParser
import Distributed
import Foundation

/// `stemrun campaign MANIFEST`: many datasets through `stemrun run`, with a durable ledger.
struct CampaignCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "campaign",
        abstract: "Run the pipeline on every dataset of a manifest (TOML or CSV), resumably, recording each in a ledger.",
        discussion: """
        Reruns do only what is not done. Failed datasets are retried when their input or configuration changed, \
        or with --retry-failed. Under a SLURM job array each task takes every N-th dataset \
        (SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN of SLURM_ARRAY_TASK_COUNT). Exit status 1 when a dataset of \
        this task failed (or, with --status, when any dataset is not done).
        """)

    @Argument(help: "Campaign manifest: .toml ([[dataset]] tables) or .csv (name,input[,config]).")
    var manifest: String

    @Option(help: "Pipeline configuration for datasets that do not name one.")
    var config: String?

    @Option(name: .shortAndLong, help: "Output root: dataset NAME goes to OUTPUT/NAME (default: <manifest>-out).")
    var output: String?

    @Option(help: "Ledger file (default: OUTPUT/ledger.jsonl).")
    var ledger: String?

    @Option(help: "Sub-communicators: this many datasets are processed at once, each by size/groups ranks.")
    var groups: Int = 1

    @Option(help: "Array task index (default: from SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_MIN, else 0).")
    var taskIndex: Int?

    @Option(help: "Array task count (default: SLURM_ARRAY_TASK_COUNT, else 1).")
    var taskCount: Int?

    @Flag(help: "Also retry datasets that failed with unchanged input and configuration.")
    var retryFailed = false

    @Flag(help: "Only print the summary table from the ledger.")
    var status = false

    func loadManifest() throws -> CampaignManifest {
        if manifest.lowercased().hasSuffix(".csv") {
            guard let data = FileManager.default.contents(atPath: manifest) else {
                throw ConfigError.syntax(file: manifest, detail: "cannot read the file (missing or unreadable)")
            }
            return try CampaignManifest(csv: String(decoding: data, as: UTF8.self), file: manifest, defaultConfig: config,
                                        output: output, ledger: ledger)
        }
        return try CampaignManifest(table: try TOMLConfigLoader.load(manifest), defaultConfig: config, output: output, ledger: ledger)
    }

    func arrayTask() throws -> (index: Int, count: Int) {
        let env = ProcessInfo.processInfo.environment
        let id = env["SLURM_ARRAY_TASK_ID"].flatMap(Int.init)
        let min = env["SLURM_ARRAY_TASK_MIN"].flatMap(Int.init) ?? 0
        let index = taskIndex ?? id.map { $0 - min } ?? 0
        let count = taskCount ?? env["SLURM_ARRAY_TASK_COUNT"].flatMap(Int.init) ?? 1
        return (index, count)
    }

    func run() throws {
        var failedHere = false
        try runOnWorld { comm in
            let m = try comm.collectively { try loadManifest() }
            if status {
                let records = try comm.collectively { try CampaignLedger(path: m.ledgerPath).records() }
                printOnRoot(comm, CampaignRunner.summaryTable(manifest: m, records: records))
                let last = CampaignLedger.latest(records)
                failedHere = m.entries.contains { last[$0.name]?.state != .done }
                return
            }
            var runner = CampaignRunner(manifest: m, groups: groups, task: try arrayTask()) { entry, folder in
                try PipelineConfig(table: try TOMLConfigLoader.load(entry.config), inputPath: entry.input, outputFolder: folder)
            }
            runner.retryFailed = retryFailed
            let outcome = try runner.run(world: comm)
            if comm.isRoot {
                let records = try CampaignLedger(path: m.ledgerPath).records()
                print("")
                print(CampaignRunner.summaryTable(manifest: m, records: records))
                print("this task: \(outcome.attemptedTotal) attempted; \(outcome.done.count) done, \(outcome.failed.count) failed, \(outcome.pending.count) not done")
                fflush(stdout)
            }
            failedHere = !outcome.failed.isEmpty || !outcome.pending.isEmpty
        }
        if failedHere { throw ExitCode(1) }
    }
}
