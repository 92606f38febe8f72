import Foundation
import STEMCore

/// One step of `stemrun run`: it reads the dataset (and the committed files of the stages it depends on)
/// and writes one committed HDF5 file, `stages/<name>.h5`, through `OutputFile` (write-then-rename, root
/// attribute `complete = 1`). A stage's identity for checkpointing is the hash of its kind, version,
/// parameters and inputs (`StageKey`); `--resume` skips a stage whose committed file carries the same key.
public protocol PipelineStage {
    /// The config section and the stage name ("virtual", "register", ...).
    var name: String { get }
    /// Stages whose outputs this one reads (by name); they run first and their keys enter this stage's key.
    var dependencies: [String] { get }
    /// The resolved parameters, canonical text (defaults filled in): what the parameter hash covers.
    var parameterText: String { get }
    /// Bytes the stage's output file needs, for the check made before any work starts.
    func estimatedBytes(scan: ScanGrid, detector: DetectorShape) -> Int
    /// Runs collectively on every rank of `comm` and commits `context.stageFile(name)`.
    func run(comm: Communicator, context: StageContext) throws
    /// What the run report shows for this stage, read back from its committed file (rank 0, serial).
    func report(stageFile: String, context: ReportContext) throws -> [ReportBlock]
}

/// What a running stage gets: the dataset, where to write, the chunk budget, the provenance to record and
/// the committed files of the stages it depends on.
public struct StageContext {
    public let source: PatternSource
    public let outputFolder: String
    public let chunkBudgetBytes: Int
    /// Provenance prefilled with the command line, input path and the stage key.
    public let provenance: Provenance
    /// Committed files of earlier stages, by stage name.
    public let upstreamFiles: [String: String]

    /// The committed file of stage `name`.
    public func stageFile(_ name: String) -> String { PipelineLayout.stageFile(folder: outputFolder, stage: name) }
}

/// A kind of stage the pipeline knows: the config section that enables it, its documented keys, and how
/// to build the stage from its section. `StageRegistry.kinds` lists them in execution order.
public struct StageKind: Sendable {
    /// The config section (`[virtual]`) and stage name.
    public let section: String
    /// One line for `docs/config-schema.md` and `stemrun run --help-config`.
    public let summary: String
    /// Bumped when the stage's algorithm changes results, so old checkpoints are not reused.
    public let version: Int
    /// The keys the section accepts, with their defaults and meaning.
    public let keys: [ConfigKey]
    /// Builds the stage from its section (unknown keys already rejected against `keys`).
    public let make: @Sendable (ConfigTable) throws -> PipelineStage

    public init(section: String, summary: String, version: Int, keys: [ConfigKey],
                make: @escaping @Sendable (ConfigTable) throws -> PipelineStage) {
        self.section = section
        self.summary = summary
        self.version = version
        self.keys = keys
        self.make = make
    }
}

/// A documented configuration key.
public struct ConfigKey: Sendable {
    public let name: String
    public let type: String
    public let defaultValue: String
    public let meaning: String
    public init(_ name: String, _ type: String, default defaultValue: String, _ meaning: String) {
        self.name = name
        self.type = type
        self.defaultValue = defaultValue
        self.meaning = meaning
    }
}

/// The stage kinds of `stemrun run`, in the order they execute. To add a stage: write a type conforming
/// to `PipelineStage` with a `static let kind: StageKind` and add it here (see docs/config-schema.md).
public enum StageRegistry {
    public static let kinds: [StageKind] = [
        VirtualStage.kind,
        RegisterStage.kind,
        MatchStage.kind,
        NMFStage.kind,
    ]

    public static func kind(_ section: String) -> StageKind? { kinds.first { $0.section == section } }
}

/// Where things live in a run's output folder.
public enum PipelineLayout {
    /// One committed HDF5 file per stage.
    public static func stageFile(folder: String, stage: String) -> String { folder + "/stages/" + stage + ".h5" }
    /// The stage ledger (JSON, atomically replaced).
    public static func manifest(folder: String) -> String { folder + "/pipeline.json" }
    /// The file that links every stage's results (HDF5 external links), written last.
    public static func result(folder: String) -> String { folder + "/result.h5" }
    public static func report(folder: String) -> String { folder + "/report.html" }
}
