import Foundation
import Readers
import STEMCore

/// A `stemrun run` configuration (schema_version = 1, see docs/config-schema.md): the input, the output
/// folder, resources, and one section per stage to run. Every key is checked: unknown keys and keys of the
/// wrong type are errors naming the key and the file. Relative paths are relative to the config file.
public struct PipelineConfig {
    public static let schemaVersion = 1

    /// The top-level keys and sections besides the stage sections.
    public static let topLevelKeys = ["schema_version", "input", "output", "run"]
    public static let inputKeys: [ConfigKey] = [
        ConfigKey("path", "string", default: "(required)", "The dataset file (HDF5, raw binary, instrument format)."),
        ConfigKey("format", "string", default: "\"auto\"", "auto, hdf5, raw, or an instrument format."),
        ConfigKey("dataset", "string", default: "the largest 3D/4D dataset", "HDF5 dataset path."),
        ConfigKey("scan_shape", "[ny, nx]", default: "from the file", "Scan shape (needed for 3D stacks and raw files)."),
        ConfigKey("detector_shape", "[ky, kx]", default: "-", "Raw files: detector shape."),
        ConfigKey("dtype", "string", default: "-", "Raw files: uint8, uint16, uint32, int16, int32, float32, float64."),
        ConfigKey("byte_order", "string", default: "\"little\"", "Raw files: little or big."),
        ConfigKey("header_bytes", "integer", default: "0", "Raw files: bytes before the first frame."),
        ConfigKey("frame_header_bytes", "integer", default: "0", "Raw files: bytes before each frame."),
        ConfigKey("frame_footer_bytes", "integer", default: "0", "Raw files: bytes after each frame."),
    ]
    public static let outputKeys: [ConfigKey] = [
        ConfigKey("folder", "string", default: "(required, or --output)", "Output folder: stages/*.h5, result.h5, pipeline.json, report.html."),
        ConfigKey("min_free_mib", "integer", default: "0", "Refuse to start unless this much space stays free after the estimated outputs."),
        ConfigKey("report", "boolean", default: "true", "Write report.html."),
    ]
    public static let runKeys: [ConfigKey] = [
        ConfigKey("chunk_mib", "number", default: "\(ChunkedScan.defaultBudgetBytes >> 20)", "Memory per rank for one chunk of patterns, MiB (does not change results)."),
    ]

    /// The file the configuration was read from.
    public var file: String
    public var input: InputSpec
    public var outputFolder: String
    public var minFreeBytes: Int = 0
    public var writeReport = true
    public var chunkBudgetBytes = ChunkedScan.defaultBudgetBytes
    /// The stages to run, in registry order.
    public var stages: [PipelineStage]

    /// Builds a configuration from a parsed file; `inputPath` and `outputFolder` (from the command line or
    /// a campaign manifest) replace the file's values.
    public init(table: ConfigTable, inputPath: String? = nil, outputFolder: String? = nil) throws {
        file = table.file
        let base = (table.file as NSString).deletingLastPathComponent
        func resolve(_ p: String) -> String { p.hasPrefix("/") || base.isEmpty ? p : base + "/" + p }

        guard let version = try table.integer("schema_version") else {
            throw ConfigError.missingKey(file: file, key: "schema_version", hint: "start the file with schema_version = \(Self.schemaVersion)")
        }
        guard version == Self.schemaVersion else {
            throw ConfigError.unsupportedSchema(file: file, found: version, supported: Self.schemaVersion)
        }
        try table.rejectUnknownKeys(Self.topLevelKeys + StageRegistry.kinds.map(\.section))

        let inp = try table.table("input")
        try inp.rejectUnknownKeys(Self.inputKeys.map(\.name))
        guard let path = try inputPath ?? inp.string("path").map(resolve) else {
            throw ConfigError.missingKey(file: file, key: "input.path", hint: "the dataset to process")
        }
        var spec = InputSpec(path: path, format: try inp.string("format") ?? "auto", datasetPath: try inp.string("dataset"))
        if let s = try Self.shape(inp, "scan_shape") { spec.scanShape = ScanGrid(rows: s.0, columns: s.1) }
        if let d = try Self.shape(inp, "detector_shape") { spec.detectorShape = DetectorShape(rows: d.0, columns: d.1) }
        if let t = try inp.string("dtype") {
            guard let e = ElementType(userName: t) else {
                throw ConfigError.invalidValue(file: file, key: "input.dtype", value: t,
                                               expected: "uint8, uint16, uint32, int16, int32, float32 or float64")
            }
            spec.elementType = e
        }
        if let o = try inp.string("byte_order") {
            guard let order = ByteOrder(rawValue: o.lowercased()) else {
                throw ConfigError.invalidValue(file: file, key: "input.byte_order", value: o, expected: "little or big")
            }
            spec.byteOrder = order
        }
        spec.headerBytes = try Self.nonNegative(inp, "header_bytes") ?? 0
        spec.frameHeaderBytes = try Self.nonNegative(inp, "frame_header_bytes") ?? 0
        spec.frameFooterBytes = try Self.nonNegative(inp, "frame_footer_bytes") ?? 0
        input = spec

        let out = try table.table("output")
        try out.rejectUnknownKeys(Self.outputKeys.map(\.name))
        guard let folder = try outputFolder ?? out.string("folder").map(resolve) else {
            throw ConfigError.missingKey(file: file, key: "output.folder", hint: "or pass --output FOLDER")
        }
        self.outputFolder = folder
        minFreeBytes = (try Self.nonNegative(out, "min_free_mib") ?? 0) << 20
        writeReport = try out.boolean("report") ?? true

        let run = try table.table("run")
        try run.rejectUnknownKeys(Self.runKeys.map(\.name))
        if let mib = try run.number("chunk_mib") {
            guard mib > 0, mib.isFinite else {
                throw ConfigError.invalidValue(file: file, key: "run.chunk_mib", value: "\(mib)", expected: "a positive number of MiB")
            }
            chunkBudgetBytes = max(1, Int(mib * 1_048_576))
        }

        var stages: [PipelineStage] = []
        for kind in StageRegistry.kinds where table.has(kind.section) {
            stages.append(try kind.make(try table.table(kind.section)))
        }
        guard !stages.isEmpty else {
            throw ConfigError.missingKey(file: file, key: "a stage section",
                                         hint: "add at least one of " + StageRegistry.kinds.map { "[\($0.section)]" }.joined(separator: ", "))
        }
        let names = Set(stages.map(\.name))
        for s in stages {
            for d in s.dependencies where !names.contains(d) {
                throw ConfigError.missingKey(file: file, key: d, hint: "stage [\(s.name)] needs stage [\(d)]; add its section")
            }
        }
        self.stages = stages
    }

    static func shape(_ t: ConfigTable, _ key: String) throws -> (Int, Int)? {
        guard let v = try t.numbers(key) else { return nil }
        guard v.count == 2, v.allSatisfy({ $0 >= 1 && $0 == $0.rounded() }) else {
            throw ConfigError.invalidValue(file: t.file, key: t.qualified(key), value: "\(v)", expected: "two positive integers [rows, columns]")
        }
        return (Int(v[0]), Int(v[1]))
    }

    static func nonNegative(_ t: ConfigTable, _ key: String) throws -> Int? {
        guard let v = try t.integer(key) else { return nil }
        guard v >= 0 else {
            throw ConfigError.invalidValue(file: t.file, key: t.qualified(key), value: "\(v)", expected: "an integer >= 0")
        }
        return v
    }
}
