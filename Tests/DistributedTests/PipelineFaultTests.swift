import Foundation
import HDF5
import STEMCore
import Testing

/// Faults: a rank killed in the middle of a stage, and output destinations that cannot work, found before
/// any work starts.
@Suite(.serialized) struct PipelineFaultTests {
    typealias S = PipelineSupport

    @Test func killedRankEndsTheJobIncompleteAndResumeMatchesAnUninterruptedRun() throws {
        let dir = StemrunProcess.temporaryFolder()
        try S.writeDataset(dir + "/in.h5")
        try S.writeConfig(dir + "/clean.toml", input: "in.h5", output: "clean")
        try S.writeConfig(dir + "/killed.toml", input: "in.h5", output: "killed")
        #expect(try S.run(["run", dir + "/clean.toml"], ranks: 2).status == 0)

        // Rank 1 owns 17 positions; with 4-pattern chunks it reads 5 times: die before the 4th read.
        let killed = try S.run(["run", dir + "/killed.toml"], ranks: 2,
                               extra: ["STEMRUN_FAULT_KILL_RANK": "1", "STEMRUN_FAULT_AFTER_READS": "3"])
        #expect(killed.status != 0)
        #expect(killed.stderr.contains("rank 1") && killed.stderr.contains("signal 9"), "stderr: \(killed.stderr)")
        #expect(killed.stdout.contains("stage virtual: computing"))
        #expect(!killed.stdout.contains("stage virtual: done"))
        // Nothing looks complete: no committed stage, no result file, the ledger says incomplete.
        #expect(!S.exists(dir + "/killed/stages/virtual.h5"))
        #expect(!S.exists(dir + "/killed/result.h5"))
        #expect(S.json(dir + "/killed/pipeline.json")?["complete"] as? Bool == false)

        let resumed = try S.run(["run", dir + "/killed.toml", "--resume"], ranks: 2)
        #expect(resumed.status == 0, "stderr: \(resumed.stderr)")
        #expect(resumed.stdout.contains("1 stage(s) computed (virtual)"))
        let clean = try S.virtualMaps(dir + "/clean/result.h5")
        let after = try S.virtualMaps(dir + "/killed/result.h5")
        for m in S.virtualMaps { #expect(clean[m] == after[m], "map \(m) differs after kill and resume") }
        let c1 = try H5File.open(dir + "/clean/stages/virtual.h5").group("provenance").stringAttribute("input_checksum")
        let c2 = try H5File.open(dir + "/killed/stages/virtual.h5").group("provenance").stringAttribute("input_checksum")
        #expect(c1 != nil && c1 == c2)
        #expect(S.json(dir + "/killed/pipeline.json")?["complete"] as? Bool == true)
    }

    /// Mounts a tmpfs of `size` (read-only when asked) at a fresh folder; nil when mounting is not allowed.
    func tmpfs(size: String, readOnly: Bool) -> String? {
        let dir = StemrunProcess.temporaryFolder("stemrun-tmpfs")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/mount")
        p.arguments = ["-t", "tmpfs", "-o", "size=\(size)" + (readOnly ? ",ro" : ""), "tmpfs", dir]
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return nil }
        p.waitUntilExit()
        return p.terminationStatus == 0 ? dir : nil
    }

    func unmount(_ dir: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/umount")
        p.arguments = [dir]
        try? p.run()
        p.waitUntilExit()
    }

    func expectRefused(_ config: String, mentions: [String]) throws {
        let r = try S.run(["run", config], ranks: 2)
        #expect(r.status == 1)
        for m in mentions { #expect(r.stderr.contains(m), "stderr should mention \(m): \(r.stderr)") }
        #expect(!r.stdout.contains("computing"), "refused before any stage started")
    }

    @Test func unwritableOutputFolderIsRefusedBeforeWork() throws {
        let dir = StemrunProcess.temporaryFolder()
        try S.writeDataset(dir + "/in.h5")
        // A folder path under a regular file.
        try "x".write(toFile: dir + "/file", atomically: true, encoding: .utf8)
        try S.writeConfig(dir + "/a.toml", input: "in.h5", output: dir + "/file/out")
        try expectRefused(dir + "/a.toml", mentions: [dir + "/file/out", "cannot create the output folder"])
        // A read-only file system (root ignores permission bits, so chmod alone would not do).
        if geteuid() != 0 {
            try FileManager.default.createDirectory(atPath: dir + "/ro", withIntermediateDirectories: true)
            chmod(dir + "/ro", 0o555)
            try S.writeConfig(dir + "/b.toml", input: "in.h5", output: dir + "/ro")
            try expectRefused(dir + "/b.toml", mentions: [dir + "/ro", "not writable"])
        } else if let ro = tmpfs(size: "64k", readOnly: true) {
            defer { unmount(ro) }
            try S.writeConfig(dir + "/b.toml", input: "in.h5", output: ro)
            try expectRefused(dir + "/b.toml", mentions: [ro, "not writable"])
            try S.writeConfig(dir + "/c.toml", input: "in.h5", output: ro + "/sub")
            try expectRefused(dir + "/c.toml", mentions: [ro + "/sub", "cannot create the output folder"])
        }
    }

    @Test func notEnoughDiskSpaceIsRefusedBeforeWork() throws {
        let dir = StemrunProcess.temporaryFolder()
        try S.writeDataset(dir + "/in.h5")
        // More kept free than any disk has.
        try S.writeConfig(dir + "/a.toml", input: "in.h5", output: "out", extra: "")
        var text = try String(contentsOfFile: dir + "/a.toml", encoding: .utf8)
        text = text.replacingOccurrences(of: "folder = \"out\"", with: "folder = \"out\"\nmin_free_mib = 1000000000")
        try text.write(toFile: dir + "/a.toml", atomically: true, encoding: .utf8)
        try expectRefused(dir + "/a.toml", mentions: ["not enough disk space", "min_free_mib"])
        // A real small file system: 64 KiB cannot hold the stage file and the report.
        if let small = tmpfs(size: "64k", readOnly: false) {
            defer { unmount(small) }
            try S.writeConfig(dir + "/b.toml", input: "in.h5", output: small + "/out")
            try expectRefused(dir + "/b.toml", mentions: [small + "/out", "not enough disk space"])
            #expect(!S.exists(small + "/out/stages/virtual.h5"))
        }
    }
}
