import ArgumentParser
import Distributed
import Foundation

/// `stemrun run CONFIG.toml`: the whole pipeline for one dataset in one MPI job, with stage checkpoints.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run every configured stage on one dataset (run under mpirun or srun); see docs/config-schema.md.",
        discussion: """
        Writes OUTPUT/stages/<stage>.h5 (one committed file per stage), OUTPUT/result.h5 (links to every stage), \
        OUTPUT/pipeline.json (stage ledger) and OUTPUT/report.html. With --resume, stages whose committed result has \
        the same parameters and inputs are reused.
        """)

    @Argument(help: "Configuration file (TOML, schema_version = 1).")
    var config: String

    @Flag(help: "Reuse stages already computed with the same parameters and inputs; recompute the rest.")
    var resume = false

    @Option(name: .shortAndLong, help: "Output folder (replaces output.folder of the configuration).")
    var output: String?

    @Option(help: "Input dataset (replaces input.path of the configuration).")
    var input: String?

    func run() throws {
        try runOnWorld { comm in
            let table = try comm.collectively { try TOMLConfigLoader.load(config) }
            let cfg = try comm.collectively { try PipelineConfig(table: table, inputPath: input, outputFolder: output) }
            let runner = PipelineRunner(config: cfg, resume: resume)
            let s = try runner.run(comm: comm)
            printOnRoot(comm, String(format: "run: %d stage(s) computed%@, %d reused%@, %.2f s on %d rank(s)",
                                     s.computed.count, s.computed.isEmpty ? "" : " (" + s.computed.joined(separator: ", ") + ")",
                                     s.reused.count, s.reused.isEmpty ? "" : " (" + s.reused.joined(separator: ", ") + ")",
                                     s.seconds, comm.size))
            printOnRoot(comm, "result: \(s.resultPath)")
            if let r = s.reportPath { printOnRoot(comm, "report: \(r)") }
        }
    }
}
