import Distributed
import Foundation
import Testing

/// The configuration schema in process: defaults, path resolution, stage keys, and the documentation
/// listing every key the code accepts.
struct PipelineConfigTests {
    func table(_ values: [String: ConfigValue], file: String = "/cfg/run.toml") -> ConfigTable {
        var t = ConfigTable(values: [:], file: file)
        for (k, v) in values {
            if case var .table(sub) = v { sub.file = file; sub.section = k; t.values[k] = .table(sub) } else { t.values[k] = v }
        }
        return t
    }

    func section(_ values: [String: ConfigValue]) -> ConfigValue { .table(ConfigTable(values: values, file: "")) }

    @Test func defaultsAndRelativePaths() throws {
        let c = try PipelineConfig(table: table([
            "schema_version": .integer(1), "input": section(["path": .string("data/a.h5")]),
            "output": section(["folder": .string("out")]), "virtual": section([:]),
        ]))
        #expect(c.input.path == "/cfg/data/a.h5" && c.outputFolder == "/cfg/out")
        #expect(c.input.format == "auto" && c.minFreeBytes == 0 && c.writeReport && c.chunkBudgetBytes == ChunkedScan.defaultBudgetBytes)
        #expect(c.stages.map(\.name) == ["virtual"])
        #expect(c.stages[0].parameterText == "center=auto bf_radius=auto adf_inner=auto adf_outer=auto sample_per_rank=64")
        let o = try PipelineConfig(table: table(["schema_version": .integer(1), "virtual": section([:])]),
                                   inputPath: "/x.h5", outputFolder: "/o")
        #expect(o.input.path == "/x.h5" && o.outputFolder == "/o")
    }

    @Test func stageKeysFollowParametersAndInputsOnly() throws {
        func key(_ v: [String: ConfigValue], run: [String: ConfigValue] = [:], fingerprint: String = "f") throws -> String {
            let c = try PipelineConfig(table: table(["schema_version": .integer(1), "virtual": section(v), "run": section(run)]),
                                       inputPath: "/x.h5", outputFolder: "/o")
            return StageKey(stage: c.stages[0], version: 1, inputFingerprint: fingerprint, upstreamKeys: []).value
        }
        let base = try key(["bf_radius": .float(4)])
        #expect(try key(["bf_radius": .integer(4)]) == base)                        // 4 and 4.0 are the same radius
        #expect(try key(["bf_radius": .float(4)], run: ["chunk_mib": .integer(1)]) == base)
        #expect(try key(["bf_radius": .float(5)]) != base)
        #expect(try key(["bf_radius": .float(4)], fingerprint: "g") != base)
        #expect(try key(["bf_radius": .float(4), "center": .array([.float(1), .float(2)])]) != base)
    }

    @Test func wrongValuesNameTheKey() throws {
        let cases: [([String: ConfigValue], String)] = [
            (["virtual": section(["center": .array([.float(1)])])], "'virtual.center' = [1.0]: expected [x, y]"),
            (["virtual": section(["bf_radius": .float(-1)])], "'virtual.bf_radius' = -1.0"),
            (["virtual": section([:]), "run": section(["chunk_mib": .float(0)])], "'run.chunk_mib' = 0.0"),
            (["virtual": section([:]), "input": section(["scan_shape": .array([.integer(0), .integer(3)])])], "'input.scan_shape'"),
            (["virtual": section([:]), "input": section(["dtype": .string("int128")])], "'input.dtype' = int128"),
            (["virtual": .integer(3)], "'virtual' must be a table [virtual]"),
        ]
        for (values, words) in cases {
            var v = values
            v["schema_version"] = .integer(1)
            do {
                _ = try PipelineConfig(table: table(v), inputPath: "/x.h5", outputFolder: "/o")
                Issue.record("accepted \(values)")
            } catch {
                #expect("\(error)".contains(words) && "\(error)".hasPrefix("/cfg/run.toml"), "\(error)")
            }
        }
    }

    @Test func schemaDocumentListsEveryKey() throws {
        let doc = try String(contentsOf: StemrunProcess.packageRoot.appendingPathComponent("docs/config-schema.md"), encoding: .utf8)
        var keys = PipelineConfig.inputKeys + PipelineConfig.outputKeys + PipelineConfig.runKeys
        for kind in StageRegistry.kinds {
            #expect(doc.contains("## `[\(kind.section)]`"), "docs/config-schema.md lacks section [\(kind.section)]")
            keys += kind.keys
        }
        for k in keys { #expect(doc.contains("| `\(k.name)` |"), "docs/config-schema.md lacks key \(k.name)") }
    }
}
