import Distributed
import Foundation
import HDF5
import STEMCore
import Testing

/// `stemrun campaign`: 25 datasets of which 5 are broken on purpose, a runner killed midway, reruns,
/// sub-communicators, and array tasks sharing one ledger concurrently.
@Suite(.serialized) struct CampaignTests {
    typealias S = PipelineSupport
    static let detector = DetectorShape(rows: 16, columns: 16)
    static func scan(_ i: Int) -> ScanGrid { ScanGrid(rows: 3 + i % 3, columns: 4) }

    /// Pipeline configuration shared by the datasets (input and output come from the manifest).
    static let config = """
    schema_version = 1
    [run]
    chunk_mib = 0.002
    [virtual]
    center = [8.0, 8.0]
    bf_radius = 3.0
    adf_inner = 5.0
    adf_outer = 8.0

    """

    /// Writes `good` good datasets and the broken ones, a CSV manifest and the configs; returns the folder.
    func makeCampaign(good: Int, broken: Bool) throws -> (dir: String, names: [String], bad: [String: String]) {
        let dir = StemrunProcess.temporaryFolder("stemrun-campaign")
        try FileManager.default.createDirectory(atPath: dir + "/data", withIntermediateDirectories: true)
        try Self.config.write(toFile: dir + "/pipeline.toml", atomically: true, encoding: .utf8)
        var csv = "# test campaign\nname,input,config\n"
        var names: [String] = []
        for i in 0 ..< good {
            let name = String(format: "good-%02d", i)
            try SyntheticDataset.writeHDF5(dir + "/data/\(name).h5", scan: Self.scan(i), detector: Self.detector,
                                           as: UInt16.self) { UInt16($0) }
            csv += "\(name),data/\(name).h5,\n"
            names.append(name)
        }
        // Broken on purpose, each with the words its error must contain.
        var bad: [String: String] = [:]
        if broken {
            csv += "missing,data/missing.h5,\n"
            bad["missing"] = "no such file"
            try Data((0 ..< 5000).map { UInt8(truncatingIfNeeded: $0 &* 2654435761 >> 7) }).write(to: URL(fileURLWithPath: dir + "/data/garbage.bin"))
            csv += "garbage,data/garbage.bin,\n"
            bad["garbage"] = "raw"
            try SyntheticDataset.writeHDF5(dir + "/data/nan.h5", scan: Self.scan(0), detector: Self.detector, as: Float.self) {
                $0 > 150 ? .nan : $0
            }
            csv += "nan,data/nan.h5,\n"
            bad["nan"] = "NaN"
            let whole = try Data(contentsOf: URL(fileURLWithPath: dir + "/data/good-00.h5"))
            try whole.prefix(whole.count / 3).write(to: URL(fileURLWithPath: dir + "/data/truncated.h5"))
            csv += "truncated,data/truncated.h5,\n"
            bad["truncated"] = "truncated.h5"
            try (Self.config + "threshold = 3\n").write(toFile: dir + "/badkey.toml", atomically: true, encoding: .utf8)
            try SyntheticDataset.writeHDF5(dir + "/data/badkey.h5", scan: Self.scan(1), detector: Self.detector,
                                           as: UInt16.self) { UInt16($0) }
            csv += "badkey,data/badkey.h5,badkey.toml\n"
            bad["badkey"] = "unknown key 'virtual.threshold'"
        }
        try csv.write(toFile: dir + "/campaign.csv", atomically: true, encoding: .utf8)
        return (dir, names, bad)
    }

    func ledger(_ dir: String) throws -> [CampaignLedger.Record] {
        try CampaignLedger(path: dir + "/campaign-out/ledger.jsonl").records()
    }

    func stageTimes(_ dir: String, _ names: [String]) -> [String: Double] {
        var out: [String: Double] = [:]
        for n in names { out[n] = S.modificationTime(dir + "/campaign-out/\(n)/stages/virtual.h5") }
        return out
    }

    func direct(_ i: Int) -> [Float] {
        let data = SyntheticDataset.patterns(scan: Self.scan(i), detector: Self.detector)
        let p = Self.detector.pixelCount
        return (0 ..< Self.scan(i).count).map { k in
            var s = 0.0
            for ky in 0 ..< 16 { for kx in 0 ..< 16 where pow(Double(kx) - 8, 2) + pow(Double(ky) - 8, 2) <= 9 {
                s += Double(data[k * p + ky * 16 + kx])
            } }
            return Float(s)
        }
    }

    @Test func twentyFiveDatasetsWithBrokenOnesKilledRunnerAndReruns() throws {
        let (dir, names, bad) = try makeCampaign(good: 20, broken: true)
        let args = ["campaign", dir + "/campaign.csv", "--config", dir + "/pipeline.toml", "--groups", "2"]

        // 1. The runner is killed midway (rank 0 dies after 24 pattern reads, in about its 4th dataset).
        let killed = try S.run(args, ranks: 2, extra: ["STEMRUN_FAULT_KILL_RANK": "0", "STEMRUN_FAULT_AFTER_READS": "24"])
        #expect(killed.status != 0)
        let before = CampaignLedger.latest(try ledger(dir))
        let doneBefore = before.filter { $0.value.state == .done }.map(\.key)
        let failedBefore = before.filter { $0.value.state == .failed }.map(\.key)
        #expect(doneBefore.count >= 4 && doneBefore.count < 20, "done before the kill: \(doneBefore.count)")
        #expect(before.values.contains { $0.state == .running }, "the dataset in progress is recorded as running")
        let timesBefore = stageTimes(dir, doneBefore)

        // 2. Rerun: finishes everything, redoes nothing that was done; the broken ones fail with their errors.
        let rerun = try S.run(args, ranks: 2)
        #expect(rerun.status == 1, "non-zero status when a dataset failed; stderr: \(rerun.stderr)")
        let last = CampaignLedger.latest(try ledger(dir))
        for n in names { #expect(last[n]?.state == .done, "\(n): \(String(describing: last[n]))") }
        for (n, words) in bad {
            #expect(last[n]?.state == .failed)
            #expect(last[n]?.error?.contains(words) == true, "\(n) error: \(last[n]?.error ?? "none")")
            #expect(rerun.stdout.contains(n) && rerun.stdout.contains(words), "summary lists \(n) with its error")
        }
        #expect(rerun.stdout.contains("total: 25; done 20, failed 5, running 0, pending 0"), "\(rerun.stdout)")
        #expect(rerun.stdout.contains("this task: \(25 - doneBefore.count - failedBefore.count) attempted"), "\(rerun.stdout)")
        #expect(stageTimes(dir, doneBefore) == timesBefore, "datasets done before the kill were not recomputed")
        for (i, n) in names.enumerated() {
            let f = try H5File.open(dir + "/campaign-out/\(n)/result.h5")
            #expect(try f.dataset("virtual/bright_field").readAll(as: Float.self) == direct(i), "\(n) bright field")
        }

        // 3. A rerun with nothing changed does nothing and writes nothing.
        let ledgerBytes = FileManager.default.contents(atPath: dir + "/campaign-out/ledger.jsonl")
        let times = stageTimes(dir, names)
        let idle = try S.run(args, ranks: 2)
        #expect(idle.status == 1)
        #expect(idle.stdout.contains("this task: 0 attempted; 20 done, 5 failed"), "\(idle.stdout)")
        #expect(FileManager.default.contents(atPath: dir + "/campaign-out/ledger.jsonl") == ledgerBytes)
        #expect(stageTimes(dir, names) == times)

        // 4. Fixing a broken input makes it eligible again (its identity changed); only it runs.
        try SyntheticDataset.writeHDF5(dir + "/data/missing.h5", scan: Self.scan(2), detector: Self.detector, as: UInt16.self) { UInt16($0) }
        let fixed = try S.run(args, ranks: 2)
        #expect(fixed.stdout.contains("this task: 1 attempted; 21 done, 4 failed"), "\(fixed.stdout)")
        let status = try S.run(["campaign", dir + "/campaign.csv", "--config", dir + "/pipeline.toml", "--status"])
        #expect(status.status == 1 && status.stdout.contains("done 21, failed 4"))
        // Every ledger line is one whole JSON record.
        let lines = try String(contentsOfFile: dir + "/campaign-out/ledger.jsonl", encoding: .utf8).split(separator: "\n")
        #expect(lines.count == (try ledger(dir)).count)
    }

    @Test func arrayTasksShareOneLedgerConcurrently() throws {
        let (dir, names, _) = try makeCampaign(good: 12, broken: false)
        // Three array tasks at once (as SLURM would start them), each a two-rank job with two groups, and each
        // with an OpenMPI session directory of its own, as jobs on a node have (mpiruns started at once race to
        // create a shared one when it does not exist yet: OpenMPI 4.1 fails the loser, "mkdir ... File exists").
        final class Box: @unchecked Sendable { var results: [Int: StemrunProcess.Result] = [:]; let lock = NSLock() }
        let box = Box()
        DispatchQueue.concurrentPerform(iterations: 3) { t in
            let r = try? S.run(["campaign", dir + "/campaign.csv", "--config", dir + "/pipeline.toml", "--groups", "2"],
                               ranks: 2, extra: ["SLURM_ARRAY_TASK_ID": "\(t + 4)", "SLURM_ARRAY_TASK_MIN": "4",
                                                 "SLURM_ARRAY_TASK_COUNT": "3",
                                                 "OMPI_MCA_orte_tmpdir_base": dir + "/mpi-session-\(t)"])
            box.lock.lock(); box.results[t] = r; box.lock.unlock()
        }
        for t in 0 ..< 3 {
            let r = try #require(box.results[t])
            #expect(r.status == 0, "task \(t): \(r.stderr)")
            #expect(r.stdout.contains("this task: 4 attempted; 4 done"), "task \(t): \(r.stdout)")
        }
        let records = try ledger(dir)
        // Exactly one running and one done record per dataset, each written by the task that owns it.
        for (i, n) in names.enumerated() {
            let mine = records.filter { $0.dataset == n }
            #expect(mine.map(\.state) == [.running, .done], "\(n): \(mine.map(\.state))")
            #expect(mine.allSatisfy { $0.task == i % 3 })
        }
        let text = try String(contentsOfFile: dir + "/campaign-out/ledger.jsonl", encoding: .utf8)
        #expect(text.split(separator: "\n").count == 24 && text.hasSuffix("\n"))
    }

    @Test func ledgerIgnoresATornTailAndTerminatesIt() throws {
        let dir = StemrunProcess.temporaryFolder()
        let ledger = try CampaignLedger(path: dir + "/sub/ledger.jsonl")
        try ledger.finish("a", identity: "x", run: "r1", task: 0, seconds: 1, error: nil)
        // A crash in the middle of a line leaves a fragment without a newline.
        let h = try #require(FileHandle(forWritingAtPath: dir + "/sub/ledger.jsonl"))
        h.seekToEndOfFile(); h.write(Data("{\"dataset\":\"b\",\"sta".utf8)); try h.close()
        #expect(try ledger.records().map(\.dataset) == ["a"])
        try ledger.finish("c", identity: "y", run: "r1", task: 0, seconds: 2, error: "boom\nsecond line")
        let records = try ledger.records()
        #expect(records.map(\.dataset) == ["a", "c"])
        #expect(records[1].state == .failed && records[1].error == "boom\nsecond line")
        // A claim skips done work and this run's attempts, and takes a stale "running" of an older run.
        try ledger.append(.init(time: "t", dataset: "d", state: .running, run: "dead", task: 0, host: "h", pid: 1, identity: "z"))
        let cands = [(name: "a", identity: "x"), (name: "c", identity: "y"), (name: "d", identity: "z")]
        #expect(try ledger.claim(cands, run: "r2", task: 0) == 2)
        #expect(try ledger.claim(cands, run: "r2", task: 0) == nil)
        #expect(try ledger.claim(cands, run: "r3", task: 0, retryFailed: true) == 1)
        // A "running" record of a live process on this host is not taken (another invocation works on it).
        try ledger.append(.init(time: "t", dataset: "e", state: .running, run: "live", task: 0,
                                host: ProcessInfo.processInfo.hostName, pid: getppid(), identity: "w"))
        #expect(try ledger.claim([(name: "e", identity: "w")], run: "r5", task: 0) == nil)
        // A changed identity makes a done dataset eligible again.
        #expect(try ledger.claim([(name: "a", identity: "x2")], run: "r4", task: 0) == 0)
    }

    @Test func manifestMistakesNameTheLineOrKey() throws {
        let bad: [(String, String)] = [
            ("name,input\na,x.h5\na,y.h5\n", "used once"),
            ("name,file\na,x.h5\n", "header"),
            ("name,input\na b,x.h5\n", "letters, digits"),
            ("name,input\na,x.h5,extra\n", "line 2"),
        ]
        for (text, words) in bad {
            #expect(throws: ConfigError.self) { try CampaignManifest(csv: text, file: "/m/c.csv", defaultConfig: "p.toml") }
            do { _ = try CampaignManifest(csv: text, file: "/m/c.csv", defaultConfig: "p.toml") } catch {
                #expect("\(error)".contains(words) && "\(error)".contains("/m/c.csv"), "\(error)")
            }
        }
        let m = try CampaignManifest(csv: "name,input,config\na,x.h5,\nb,/abs/y.h5,q.toml\n", file: "/m/c.csv", defaultConfig: "/p.toml")
        #expect(m.entries.map(\.input) == ["/m/x.h5", "/abs/y.h5"] && m.entries.map(\.config) == ["/p.toml", "/m/q.toml"])
        #expect(m.ledgerPath == "/m/c-out/ledger.jsonl")
        #expect(m.share(task: 1, of: 2).map(\.name) == ["b"])
        let t = ConfigTable(values: ["schema_version": .integer(1), "output": .string("o"),
                                     "dataset": .array([.table(ConfigTable(values: ["name": .string("a"), "input": .string("x.h5"),
                                                                                    "cfg": .string("p")], file: "/m/c.toml"))])],
                            file: "/m/c.toml")
        #expect(throws: ConfigError.unknownKey(file: "/m/c.toml", key: "dataset[0].cfg", known: ["dataset[0].name", "dataset[0].input", "dataset[0].config"])) {
            try CampaignManifest(table: t)
        }
    }
}
