import ArgumentParser

/// stemrun: distributed batch processing of 4D-STEM data. Run under `mpirun -np N stemrun ...`.
@main
struct Stemrun: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stemrun",
        abstract: "Distributed batch processing of 4D-STEM data on MPI.",
        version: StemrunVersion.string,
        subcommands: [
            InfoCommand.self, SimulateCommand.self, VirtualCommand.self, RegisterCommand.self, MatchCommand.self, NMFCommand.self,
            OperandoCommand.self, ExportCommand.self, RunCommand.self, CampaignCommand.self, BenchReadCommand.self,
        ])
}

enum StemrunVersion {
    static let string = "0.1.0"
}
