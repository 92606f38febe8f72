import Foundation

/// One dataset of a campaign: a unique name (its output folder), the input file and its pipeline config.
public struct CampaignEntry: Sendable, Equatable {
    public var name: String
    public var input: String
    public var config: String
    /// Where the manifest declared it (file:line), for messages.
    public var origin: String

    public init(name: String, input: String, config: String, origin: String) {
        self.name = name
        self.input = input
        self.config = config
        self.origin = origin
    }

    /// What a ledger state refers to: the name, the input's path, size and modification time, and the
    /// configuration's bytes. A done dataset whose input or configuration changed is done no more (its
    /// unchanged stages are still reused), and a failed one is tried again.
    public func identity() -> String {
        let cfg = FileManager.default.contents(atPath: config).map { String(decoding: $0, as: UTF8.self) } ?? "<unreadable>"
        var st = stat()
        let file = stat(input, &st) == 0 ? "\(st.st_size)/\(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec)" : "<missing>"
        return StableHash.hex([name, input, file, cfg].joined(separator: "\u{1}"))
    }
}

/// A campaign manifest: the datasets to process and where results and the ledger go. Two spellings:
///
/// TOML (schema_version = 1):
///     schema_version = 1
///     config = "pipeline.toml"        # default configuration of every dataset
///     output = "campaign-out"         # dataset NAME goes to output/NAME (default: <manifest>-out)
///     ledger = "campaign-out/ledger.jsonl"   # default: <output>/ledger.jsonl
///     [[dataset]]
///     name = "grain-01"
///     input = "data/grain-01.h5"
///     config = "special.toml"         # optional
///
/// CSV: a header `name,input` or `name,input,config`, then one dataset per line; `#` starts a comment.
/// Relative paths are relative to the manifest's folder.
public struct CampaignManifest: Sendable {
    public var file: String
    public var entries: [CampaignEntry]
    public var outputRoot: String
    public var ledgerPath: String

    public static let keys = ["schema_version", "config", "output", "ledger", "dataset"]
    public static let datasetKeys = ["name", "input", "config"]

    static func resolver(_ file: String) -> (String) -> String {
        let base = (file as NSString).deletingLastPathComponent
        return { p in p.hasPrefix("/") || base.isEmpty ? p : base + "/" + p }
    }

    static func defaultOutput(_ file: String) -> String {
        let stem = ((file as NSString).lastPathComponent as NSString).deletingPathExtension
        return resolver(file)(stem + "-out")
    }

    /// A TOML manifest already parsed into a table.
    public init(table t: ConfigTable, defaultConfig: String? = nil, output: String? = nil, ledger: String? = nil) throws {
        file = t.file
        let resolve = Self.resolver(t.file)
        guard let v = try t.integer("schema_version") else {
            throw ConfigError.missingKey(file: file, key: "schema_version", hint: "start the manifest with schema_version = 1")
        }
        guard v == 1 else { throw ConfigError.unsupportedSchema(file: file, found: v, supported: 1) }
        try t.rejectUnknownKeys(Self.keys)
        let fallbackConfig = try defaultConfig ?? t.string("config").map(resolve)
        outputRoot = try output ?? t.string("output").map(resolve) ?? Self.defaultOutput(file)
        ledgerPath = try ledger ?? t.string("ledger").map(resolve) ?? outputRoot + "/ledger.jsonl"
        guard case let .array(items)? = t.values["dataset"] else {
            throw ConfigError.missingKey(file: file, key: "dataset", hint: "list datasets as [[dataset]] tables with name and input")
        }
        entries = try items.enumerated().map { i, item in
            guard case var .table(d) = item else {
                throw ConfigError.wrongType(file: t.file, key: "dataset[\(i)]", expected: "a table [[dataset]]", found: item.typeName)
            }
            d.section = "dataset[\(i)]"
            try d.rejectUnknownKeys(Self.datasetKeys)
            guard let name = try d.string("name") else { throw ConfigError.missingKey(file: t.file, key: "dataset[\(i)].name", hint: "") }
            guard let input = try d.string("input") else { throw ConfigError.missingKey(file: t.file, key: "dataset[\(i)].input", hint: "") }
            guard let config = try d.string("config").map(resolve) ?? fallbackConfig else {
                throw ConfigError.missingKey(file: t.file, key: "dataset[\(i)].config", hint: "or a top-level config = ... or --config")
            }
            return CampaignEntry(name: name, input: resolve(input), config: config, origin: "\(t.file): dataset[\(i)]")
        }
        try validate()
    }

    /// A CSV manifest.
    public init(csv text: String, file: String, defaultConfig: String? = nil, output: String? = nil, ledger: String? = nil) throws {
        self.file = file
        let resolve = Self.resolver(file)
        outputRoot = output ?? Self.defaultOutput(file)
        ledgerPath = ledger ?? outputRoot + "/ledger.jsonl"
        var header: [String]?
        var entries: [CampaignEntry] = []
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            if fields.allSatisfy(\.isEmpty) { continue }
            guard let h = header else {
                guard fields.first == "name", fields.count >= 2, fields[1] == "input", fields.count <= 3,
                      fields.count < 3 || fields[2] == "config" else {
                    throw ConfigError.invalidValue(file: file, key: "line \(n + 1)", value: line, expected: "the header name,input or name,input,config")
                }
                header = fields
                continue
            }
            guard fields.count == h.count || (fields.count == 2 && h.count == 3) else {
                throw ConfigError.invalidValue(file: file, key: "line \(n + 1)", value: line, expected: "\(h.count) comma-separated fields (\(h.joined(separator: ",")))")
            }
            let cfg = fields.count == 3 && !fields[2].isEmpty ? resolve(fields[2]) : defaultConfig
            guard let config = cfg else {
                throw ConfigError.missingKey(file: file, key: "line \(n + 1): config", hint: "give a config column or --config")
            }
            entries.append(CampaignEntry(name: fields[0], input: resolve(fields[1]), config: config, origin: "\(file):\(n + 1)"))
        }
        guard header != nil else { throw ConfigError.missingKey(file: file, key: "header line", hint: "name,input[,config]") }
        self.entries = entries
        try validate()
    }

    func validate() throws {
        guard !entries.isEmpty else { throw ConfigError.missingKey(file: file, key: "dataset", hint: "the manifest lists no dataset") }
        var seen = Set<String>()
        let allowed = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
        for e in entries {
            guard !e.name.isEmpty, e.name.unicodeScalars.allSatisfy(allowed.contains), e.name != ".", e.name != ".." else {
                throw ConfigError.invalidValue(file: e.origin, key: "name", value: e.name, expected: "letters, digits, '.', '_' or '-' (it names the output folder)")
            }
            guard seen.insert(e.name).inserted else {
                throw ConfigError.invalidValue(file: e.origin, key: "name", value: e.name, expected: "a name used once in the manifest")
            }
        }
    }

    /// The entries of SLURM array task `index` of `count`: every count-th entry, starting at `index`.
    public func share(task index: Int, of count: Int) -> [CampaignEntry] {
        entries.enumerated().filter { $0.offset % max(1, count) == index }.map(\.element)
    }

    public func outputFolder(_ e: CampaignEntry) -> String { outputRoot + "/" + e.name }
}
