import Foundation
import HDF5
import STEMCore
import Testing

/// `stemrun run`: the pipeline on one dataset, its result files, stage checkpoints and `--resume`.
@Suite(.serialized) struct PipelineRunTests {
    typealias S = PipelineSupport

    @Test func runWritesCommittedStagesLinkedResultLedgerAndReport() throws {
        let dir = StemrunProcess.temporaryFolder()
        try S.writeDataset(dir + "/in.h5")
        try S.writeConfig(dir + "/run.toml", input: "in.h5", output: "out")
        let r = try S.run(["run", dir + "/run.toml"], ranks: 2)
        #expect(r.status == 0, "stderr: \(r.stderr)")
        #expect(r.stdout.contains("report: \(dir)/out/report.html"))
        // The stage file is committed and carries its key; result.h5 reaches it through an external link.
        let stage = try H5File.open(dir + "/out/stages/virtual.h5")
        #expect(stage.numericAttribute("complete") == [1])
        let key = try stage.group("provenance/parameters").stringAttribute("stage_key")
        let manifest = try #require(S.json(dir + "/out/pipeline.json"))
        #expect(manifest["complete"] as? Bool == true)
        let stages = try #require(manifest["stages"] as? [[String: Any]])
        #expect(stages.count == 1 && stages[0]["key"] as? String == key && stages[0]["status"] as? String == "computed")
        #expect((stages[0]["secondsPerRank"] as? [Double])?.count == 2)
        let result = try H5File.open(dir + "/out/result.h5")
        #expect(result.numericAttribute("complete") == [1])
        let maps = try S.virtualMaps(dir + "/out/result.h5")
        #expect(maps["bright_field"] == S.directBrightField(radius: 4))
        #expect(try result.dataset("virtual/bright_field").shape == [S.scan.rows, S.scan.columns])
        #expect(S.exists(dir + "/out/report.html"))
        #expect(!S.exists(dir + "/out/stages/virtual.h5.partial"))
    }

    @Test func resumeReusesUnchangedStagesAndRecomputesWhenParametersOrInputChange() throws {
        let dir = StemrunProcess.temporaryFolder()
        let stageFile = dir + "/out/stages/virtual.h5"
        try S.writeDataset(dir + "/in.h5")
        try S.writeConfig(dir + "/run.toml", input: "in.h5", output: "out")
        #expect(try S.run(["run", dir + "/run.toml"], ranks: 2).status == 0)
        let t1 = try #require(S.modificationTime(stageFile))

        // Unchanged: reused, the committed file untouched.
        let again = try S.run(["run", dir + "/run.toml", "--resume"], ranks: 2)
        #expect(again.status == 0, "stderr: \(again.stderr)")
        #expect(again.stdout.contains("0 stage(s) computed, 1 reused (virtual)"), "\(again.stdout)")
        #expect(S.modificationTime(stageFile) == t1)
        #expect(((S.json(dir + "/out/pipeline.json")?["stages"] as? [[String: Any]])?.first?["status"] as? String) == "reused")

        // A parameter changed: recomputed with the new parameter.
        try S.writeConfig(dir + "/run.toml", input: "in.h5", output: "out", bfRadius: 5)
        let changed = try S.run(["run", dir + "/run.toml", "--resume"], ranks: 2)
        #expect(changed.stdout.contains("1 stage(s) computed (virtual)"), "\(changed.stdout)")
        #expect(try S.virtualMaps(dir + "/out/result.h5")["bright_field"] == S.directBrightField(radius: 5))
        let t2 = try #require(S.modificationTime(stageFile))
        #expect(t2 != t1)

        // The chunk size does not change results, so it does not invalidate the checkpoint.
        try S.writeConfig(dir + "/run.toml", input: "in.h5", output: "out", bfRadius: 5, chunkMiB: 1)
        #expect(try S.run(["run", dir + "/run.toml", "--resume"], ranks: 1).stdout.contains("1 reused"))

        // The input rewritten (new modification time): recomputed.
        usleep(20_000)
        try S.writeDataset(dir + "/in.h5")
        let touched = try S.run(["run", dir + "/run.toml", "--resume"], ranks: 2)
        #expect(touched.stdout.contains("1 stage(s) computed (virtual)"), "\(touched.stdout)")

        // Without --resume everything is recomputed.
        let fresh = try S.run(["run", dir + "/run.toml"], ranks: 2)
        #expect(fresh.stdout.contains("1 stage(s) computed (virtual)"))
    }

    @Test func configurationMistakesNameTheKeyAndTheFile() throws {
        let dir = StemrunProcess.temporaryFolder()
        try S.writeDataset(dir + "/in.h5")
        let cases: [(String, [String])] = [
            ("[virtual]\nbf_radiuss = 3\n", ["unknown key 'virtual.bf_radiuss'"]),
            ("[segmentation]\nk = 3\n", ["unknown key 'segmentation'"]),
            ("[run]\nthreads = 4\n", ["unknown key 'run.threads'"]),
        ]
        for (i, (extra, mentions)) in cases.enumerated() {
            let cfg = dir + "/bad\(i).toml"
            // Appended sections repeat [virtual]/[run] keys only through new tables, so write them whole.
            var text = "schema_version = 1\n[input]\npath = \"in.h5\"\n[output]\nfolder = \"out\"\n"
            text += extra.hasPrefix("[virtual]") ? extra : "[virtual]\n" + extra
            try text.write(toFile: cfg, atomically: true, encoding: .utf8)
            let r = try S.run(["run", cfg])
            #expect(r.status != 0)
            for m in mentions + [cfg] { #expect(r.stderr.contains(m), "stderr should mention \(m): \(r.stderr)") }
        }
        let more: [(String, String)] = [
            ("schema_version = 2\n[input]\npath = \"in.h5\"\n[virtual]\n", "schema_version = 2 is not supported"),
            ("[input]\npath = \"in.h5\"\n[virtual]\n", "missing 'schema_version'"),
            ("schema_version = 1\n[input]\npath = \"in.h5\"\n[output]\nfolder = \"o\"\n[virtual]\nbf_radius = \"big\"\n", "'virtual.bf_radius' must be a number"),
            ("schema_version = 1\n[input]\npath = \"in.h5\"\n[output]\nfolder = \"o\"\n", "add at least one of [virtual]"),
            ("schema_version = 1\n[output]\nfolder = \"o\"\n[virtual]\n", "missing 'input.path'"),
            ("schema_version = 1\n[input\npath = 3\n", "not valid TOML"),
        ]
        for (i, (text, mention)) in more.enumerated() {
            let cfg = dir + "/more\(i).toml"
            try text.write(toFile: cfg, atomically: true, encoding: .utf8)
            let r = try S.run(["run", cfg])
            #expect(r.status != 0)
            #expect(r.stderr.contains(mention) && r.stderr.contains(cfg), "stderr: \(r.stderr)")
        }
        #expect(!S.exists(dir + "/out/result.h5"))
    }
}
