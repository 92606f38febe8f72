import Foundation
import HDF5
import Testing

/// The whole pipeline (virtual, register, match, nmf) on a small simulated polycrystal, and a resume after a change
/// of one stage's parameters recomputing that stage only.
@Suite(.serialized) struct PipelineStagesTests {
    typealias S = PipelineSupport

    func config(_ dir: String, kMax: Int, output: String = "out", file: String = "run.toml") throws {
        try """
        schema_version = 1
        [input]
        path = "sim.h5"
        [output]
        folder = "\(output)"
        [run]
        chunk_mib = 0.05
        [virtual]
        [register]
        reconstruction = false
        [match]
        step = 4.0
        [nmf]
        k_range = [2, \(kMax)]
        k = 3
        max_iterations = 60
        loss_iterations = 20
        restarts = 0

        """.write(toFile: dir + "/" + file, atomically: true, encoding: .utf8)
    }

    @Test func wholePipelineOnASimulatedDatasetAndStageLevelResume() throws {
        let dir = StemrunProcess.temporaryFolder()
        let sim = try S.run(["simulate", "-o", dir + "/sim.h5", "--scan", "12x12", "--detector", "48x48", "--grains", "3"], ranks: 2)
        #expect(sim.status == 0, "stderr: \(sim.stderr)")
        try config(dir, kMax: 4)
        let r = try S.run(["run", dir + "/run.toml"], ranks: 2, timeout: 300)
        #expect(r.status == 0, "stderr: \(r.stderr)")
        #expect(r.stdout.contains("4 stage(s) computed (virtual, register, match, nmf)"), "\(r.stdout)")
        let result = try H5File.open(dir + "/out/result.h5")
        #expect(try result.dataset("virtual/bright_field").shape == [12, 12])
        #expect(try result.dataset("registration/maps/spot_count").shape == [12, 12])
        #expect(try result.dataset("nmf/raw/ks").readAll(as: Int32.self) == [2, 3, 4])
        #expect(try result.dataset("matching/phase").shape == [12, 12])
        // Most positions of a single-phase (Al) polycrystal are indexed.
        let phase = try result.dataset("matching/phase").readAll(as: Int32.self)
        #expect(phase.filter { $0 == 0 }.count > 100, "indexed: \(phase.filter { $0 == 0 }.count) of 144")
        #expect(try result.dataset("nmf/raw/labels").shape == [12, 12])
        let html = try String(contentsOfFile: dir + "/out/report.html", encoding: .utf8)
        for words in ["Stage: register", "Stage: nmf", "k-loss curve (raw)", "data:image/svg+xml;base64,",
                      "IQA: representative vs raw mean (raw)", "Overlap map (raw)", "Cluster labels",
                      "Stage: match", "Phase map", "Orientation map (IPF-Z)", "IPF-Z colour key (cubic)"] {
            #expect(html.contains(words), "report lacks \(words)")
        }

        // Only the NMF parameters change: virtual and register are reused, nmf recomputed.
        let registerTime = S.modificationTime(dir + "/out/stages/register.h5")
        try config(dir, kMax: 5)
        let again = try S.run(["run", dir + "/run.toml", "--resume"], ranks: 2, timeout: 300)
        #expect(again.status == 0, "stderr: \(again.stderr)")
        #expect(again.stdout.contains("1 stage(s) computed (nmf), 3 reused (virtual, register, match)"), "\(again.stdout)")
        #expect(S.modificationTime(dir + "/out/stages/register.h5") == registerTime)
        #expect(try H5File.open(dir + "/out/result.h5").dataset("nmf/raw/ks").readAll(as: Int32.self) == [2, 3, 4, 5])
    }

    @Test func rankKilledInTheMatchStageThenResumeReusesEarlierStagesAndMatchesACleanRun() throws {
        let dir = StemrunProcess.temporaryFolder()
        #expect(try S.run(["simulate", "-o", dir + "/sim.h5", "--scan", "10x10", "--detector", "48x48", "--grains", "3"], ranks: 2).status == 0)
        try config(dir, kMax: 4, output: "clean", file: "clean.toml")
        try config(dir, kMax: 4, output: "killed", file: "killed.toml")
        #expect(try S.run(["run", dir + "/clean.toml"], ranks: 2, timeout: 300).status == 0)
        // Rank 1 reads its 50 positions in chunks of 5 patterns: it dies before its 4th read of the match stage.

        let killed = try S.run(["run", dir + "/killed.toml"], ranks: 2,
                               extra: ["STEMRUN_FAULT_KILL_RANK": "1", "STEMRUN_FAULT_STAGE": "match", "STEMRUN_FAULT_AFTER_READS": "3"],
                               timeout: 300)
        #expect(killed.status != 0)
        #expect(killed.stderr.contains("signal 9"), "stderr: \(killed.stderr)")
        #expect(killed.stdout.contains("stage register: done") && !killed.stdout.contains("stage match: done"), "\(killed.stdout)")
        for s in ["virtual", "register"] { #expect(S.exists(dir + "/killed/stages/\(s).h5")) }
        for s in ["match", "nmf"] { #expect(!S.exists(dir + "/killed/stages/\(s).h5")) }
        #expect(!S.exists(dir + "/killed/result.h5"))
        let registerTime = S.modificationTime(dir + "/killed/stages/register.h5")

        let resumed = try S.run(["run", dir + "/killed.toml", "--resume"], ranks: 2, timeout: 300)
        #expect(resumed.status == 0, "stderr: \(resumed.stderr)")
        #expect(resumed.stdout.contains("2 stage(s) computed (match, nmf), 2 reused (virtual, register)"), "\(resumed.stdout)")
        #expect(S.modificationTime(dir + "/killed/stages/register.h5") == registerTime)
        let a = try H5File.open(dir + "/clean/result.h5"), b = try H5File.open(dir + "/killed/result.h5")
        for path in ["virtual/bright_field", "registration/maps/spot_count", "matching/correlation", "nmf/raw/weights"] {
            #expect(try a.dataset(path).readAll(as: Float.self) == b.dataset(path).readAll(as: Float.self), "\(path) differs")
        }
        for path in ["matching/phase", "nmf/raw/labels"] {
            #expect(try a.dataset(path).readAll(as: Int32.self) == b.dataset(path).readAll(as: Int32.self), "\(path) differs")
        }
    }
}
