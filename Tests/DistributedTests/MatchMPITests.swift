import Foundation
import HDF5
import STEMCore
import Testing

/// `stemrun match` under mpirun: the same results for 1, 2 and 3 ranks (library built in slices and gathered,
/// positions split across ranks), the library cache reproduces the built library, the `.ang` export and the
/// images are written, and bad input fails cleanly.
@Suite(.serialized) struct MatchMPITests {
    static let datasets = ["phase", "euler", "quaternion", "correlation", "reliability", "phase_reliability",
                           "top_phase", "top_template", "top_correlation", "top_quaternion"]

    static func read(_ path: String) throws -> [String: [Double]] {
        let f = try H5File.open(path)
        #expect(f.numericAttribute("complete") == [1])
        var out: [String: [Double]] = [:]
        for name in datasets { out[name] = try f.dataset("matching/" + name).readAll(as: Double.self) }
        return out
    }

    @Test func identicalResultsForOneTwoThreeRanks() throws {
        let dir = StemrunProcess.temporaryFolder("stemrun-match")
        let input = dir + "/sample.h5"
        let sim = try StemrunProcess.run(["simulate", "-o", input, "--scan", "8x7", "--detector", "64x64", "--grains", "3",
                                          "--phases", "Al,Cu", "--seed", "9"])
        #expect(sim.status == 0, "stderr: \(sim.stderr)")
        var reference: [String: [Double]]?
        var referenceAng: String?
        for ranks in [1, 2, 3] {
            let out = dir + "/m\(ranks).h5", ang = dir + "/m\(ranks).ang"
            var args = ["match", input, "-o", out, "--phases", "Al,Cu", "--step", "3", "--ang", ang]
            if ranks == 2 { args += ["--png-dir", dir + "/png", "--library-cache", dir + "/library.h5"] }
            if ranks == 3 { args += ["--library-cache", dir + "/library.h5"] }   // read back the cache written with 2 ranks
            let r = try StemrunProcess.run(args, ranks: ranks)
            #expect(r.status == 0, "stderr: \(r.stderr)")
            if ranks == 3 { #expect(r.stdout.contains("read from cache")) }
            let maps = try Self.read(out)
            #expect(maps["phase"]!.count == 56)
            #expect(maps["phase"]!.allSatisfy { $0 == 0 || $0 == 1 })
            #expect(maps["correlation"]!.allSatisfy { $0.isFinite && $0 > 0 && $0 <= 1 })
            #expect(maps["top_quaternion"]!.count == 56 * 5 * 4)
            let text = try String(contentsOfFile: ang, encoding: .utf8)
            if let ref = reference {
                for name in Self.datasets { #expect(maps[name]! == ref[name]!, "\(name) differs with \(ranks) ranks") }
                #expect(text == referenceAng, ".ang differs with \(ranks) ranks")
            } else {
                reference = maps; referenceAng = text
            }
        }
        for image in ["phase", "ipf_z", "ipf_key_cubic", "correlation", "reliability", "phase_reliability"] {
            #expect(FileManager.default.fileExists(atPath: dir + "/png/\(image).png"), "\(image).png missing")
        }
    }

    @Test func badInputFailsCleanly() throws {
        let dir = StemrunProcess.temporaryFolder("stemrun-match-bad")
        let input = dir + "/sample.h5"
        _ = try StemrunProcess.run(["simulate", "-o", input, "--scan", "3x3", "--detector", "32x32", "--grains", "1"])
        // Unknown phase.
        var r = try StemrunProcess.run(["match", input, "-o", dir + "/a.h5", "--phases", "Kryptonite"], ranks: 2)
        #expect(r.status != 0 && r.stderr.contains("Kryptonite"))
        #expect(!FileManager.default.fileExists(atPath: dir + "/a.h5"))
        // A calibration that puts every spot off the detector.
        r = try StemrunProcess.run(["match", input, "-o", dir + "/b.h5", "--reciprocal-pixel-size", "0.0001"], ranks: 2)
        #expect(r.status != 0 && r.stderr.contains("no reflections"), "stderr: \(r.stderr)")
        // A cache built for other parameters is refused.
        r = try StemrunProcess.run(["match", input, "-o", dir + "/c.h5", "--step", "5", "--library-cache", dir + "/lib.h5"])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        r = try StemrunProcess.run(["match", input, "-o", dir + "/d.h5", "--step", "4", "--library-cache", dir + "/lib.h5"])
        #expect(r.status != 0 && r.stderr.contains("rebuild the cache"), "stderr: \(r.stderr)")
    }
}
