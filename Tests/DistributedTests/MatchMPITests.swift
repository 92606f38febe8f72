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

    /// A direct beam 18 px off the centre of 128 px patterns (a camera whose optical axis is off its centre):
    /// without --centre the beam search starts from the beam of the sampled patterns (a note says where) and
    /// the orientations equal those of the same scan centred at 85 % of the positions or more (the shift moves
    /// some reflections off the detector); searched about the detector centre (--centre), at under 30 %.
    @Test func beamOffTheDetectorCentre() throws {
        let dir = StemrunProcess.temporaryFolder("stemrun-match-offaxis")
        let centred = dir + "/centred.h5", shifted = dir + "/shifted.h5"
        let sim = try StemrunProcess.run(["simulate", "-o", centred, "--scan", "6x6", "--grains", "3", "--seed", "5"])
        #expect(sim.status == 0, "stderr: \(sim.stderr)")
        let w = 128, (sx, sy) = (14, 12)
        let data = try H5File.open(centred).dataset("data").readAll(as: UInt16.self)
        var moved = [UInt16](repeating: 0, count: data.count)
        for k in 0 ..< 36 { for y in sy ..< w { for x in sx ..< w {
            moved[k * w * w + y * w + x] = data[k * w * w + (y - sy) * w + (x - sx)]
        } } }
        do { // released (the file closed) before stemrun opens it
            let f = try H5File.create(shifted)
            let ds = try f.createDataset("data", of: UInt16.self, shape: [6, 6, w, w])
            try moved.withUnsafeBufferPointer { try ds.write(start: [0, 0, 0, 0], count: [6, 6, w, w], from: $0) }
        }
        func quaternions(_ input: String, _ extra: [String]) throws -> (q: [Double], stdout: String) {
            let out = input + extra.joined() + ".m.h5"
            let r = try StemrunProcess.run(["match", input, "-o", out, "--step", "2", "--reciprocal-pixel-size", "0.02"] + extra, ranks: 2)
            #expect(r.status == 0, "stderr: \(r.stderr)")
            return (try H5File.open(out).dataset("matching/quaternion").readAll(as: Double.self), r.stdout)
        }
        func agreement(_ a: [Double], _ b: [Double]) -> Double {
            let n = a.count / 4, limit = cos(0.5 * Double.pi / 180)
            var same = 0
            for i in 0 ..< n {
                var dot = 0.0
                for c in 0 ..< 4 { dot += a[4 * i + c] * b[4 * i + c] }
                if abs(dot) > limit { same += 1 }
            }
            return Double(same) / Double(n)
        }
        let reference = try quaternions(centred, [])
        #expect(!reference.stdout.contains("note: the direct beam"), "stdout: \(reference.stdout)")
        let located = try quaternions(shifted, [])
        #expect(located.stdout.contains("note: the direct beam of the sampled patterns is at"), "stdout: \(located.stdout)")
        let fixed = try quaternions(shifted, ["--centre", "63.5,63.5"])
        let a = agreement(reference.q, located.q), b = agreement(reference.q, fixed.q)
        #expect(a >= 0.85, "beam located: \(a) of the orientations equal the centred scan's")
        #expect(b < 0.3, "searched about the detector centre: \(b)")
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
