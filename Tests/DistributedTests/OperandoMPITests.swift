import Foundation
import HDF5
import STEMCore
import Testing

/// `stemrun operando` under mpirun: the simulator's data, the integrated profiles and every analysis output
/// are identical for 1, 2 and 3 ranks, and the dead / slow maps match the simulated ground truth.
@Suite(.serialized) struct OperandoMPITests {
    static let analysisDatasets = [
        "operando/activity", "operando/fractions", "operando/activity_by_depth", "operando/depth",
        "operando/fast/stage", "operando/fast/d_spacing", "operando/fast/phase_fractions", "operando/fast/activity",
        "operando/fast/stage_fractions", "operando/fast/inactive_by_depth", "operando/fast/voltage",
        "operando/fast/peaks/d_spacing", "operando/fast/peaks/height", "operando/fast/peaks/fwhm", "operando/fast/peaks/area",
        "operando/slow/stage", "operando/slow/d_spacing", "operando/slow/activity", "operando/slow/stage_fractions",
    ]

    func read(_ path: String, _ names: [String]) throws -> [String: [Double]] {
        let f = try H5File.open(path)
        #expect(f.numericAttribute("complete") == [1], "\(path) not complete")
        var out: [String: [Double]] = [:]
        for n in names { out[n] = try f.dataset(n).readAll(as: Double.self) }
        return out
    }

    func analyse(_ sim: String, _ out: String, ranks: Int, extra: [String] = []) throws {
        let r = try StemrunProcess.run(["operando", "analyse", "--fast", sim + "/fast.h5", "--fast-echem", sim + "/fast.csv",
                                        "--slow", sim + "/slow.h5", "--slow-echem", sim + "/slow.csv", "-o", out,
                                        "--png-dir", out + "-png"] + extra, ranks: ranks)
        #expect(r.status == 0, "stderr: \(r.stderr)")
    }

    func accuracy(_ analysis: String, truth: String) throws -> Double {
        let got = try H5File.open(analysis).dataset("operando/activity").readAll(as: UInt8.self)
        let want = try H5File.open(truth).dataset("truth/activity").readAll(as: UInt8.self)
        return Double(zip(got, want).filter { $0 == $1 }.count) / Double(want.count)
    }

    @Test func profilesGiveIdenticalResultsForOneTwoThreeRanksAndMatchTheTruth() throws {
        let dir = StemrunProcess.temporaryFolder("operando")
        for ranks in [1, 3] {
            let r = try StemrunProcess.run(["operando", "simulate", "-o", dir + "/sim\(ranks)", "--scan-shape", "16x30",
                                            "--steps", "8"], ranks: ranks)
            #expect(r.status == 0, "stderr: \(r.stderr)")
        }
        // The simulator's data do not depend on the rank count.
        for name in ["fast.h5", "slow.h5"] {
            let a = try read(dir + "/sim1/" + name, ["operando/profiles"]), b = try read(dir + "/sim3/" + name, ["operando/profiles"])
            #expect(a == b, "\(name) differs between 1 and 3 simulating ranks")
        }
        var first: [String: [Double]]?
        for ranks in [1, 2, 3] {
            let out = dir + "/a\(ranks).h5"
            try analyse(dir + "/sim1", out, ranks: ranks)
            let maps = try read(out, Self.analysisDatasets)
            if let f = first {
                for n in Self.analysisDatasets { #expect(maps[n] == f[n], "\(n) differs with \(ranks) ranks") }
            } else {
                first = maps
            }
            for png in ["activity.png", "activity_fast.png", "activity_slow.png"] {
                #expect(FileManager.default.fileExists(atPath: out + "-png/" + png))
            }
            for svg in ["stage_fractions_fast.svg", "activity_depth.svg", "inactive_depth_fast.svg"] {
                let text = try String(contentsOfFile: out + "-png/" + svg, encoding: .utf8)
                #expect(text.contains("<svg") && text.contains("polyline"))
            }
        }
        let acc = try accuracy(dir + "/a1.h5", truth: dir + "/sim1/truth.h5")
        #expect(acc >= 0.95, "dead/slow/active pixel accuracy \(acc)")

        // The same series as one file per time step gives the same results.
        var perStep: [String: String] = [:]
        for name in ["fast", "slow"] {
            let f = try H5File.open(dir + "/sim1/\(name).h5")
            let ds = try f.dataset("operando/profiles")
            let shape = ds.shape, all = try ds.readAll(as: Float.self)
            let per = shape[1] * shape[2] * shape[3]
            var files: [String] = []
            for t in 0 ..< shape[0] {
                let path = dir + "/\(name)_t\(t).h5"
                let out = try H5File.create(path)
                let d = try out.writeDataset("profiles", Array(all[t * per ..< (t + 1) * per]), shape: Array(shape[1...]))
                try d.setAttribute("radial_unit", ds.stringAttribute("radial_unit")!)
                try d.setAttribute("radial_lower", ds.numericAttribute("radial_lower")![0])
                try d.setAttribute("radial_width", ds.numericAttribute("radial_width")![0])
                try out.close()
                files.append(path)
            }
            perStep[name] = files.joined(separator: ",")
        }
        let split = dir + "/split.h5"
        let r = try StemrunProcess.run(["operando", "analyse", "--fast", perStep["fast"]!, "--fast-echem", dir + "/sim1/fast.csv",
                                        "--slow", perStep["slow"]!, "--slow-echem", dir + "/sim1/slow.csv", "-o", split], ranks: 2)
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let maps = try read(split, Self.analysisDatasets)
        for n in Self.analysisDatasets { #expect(maps[n] == first?[n], "\(n) differs for one file per step") }
    }

    @Test func patternsAreIntegratedIdenticallyOnAnyRankCount() throws {
        let dir = StemrunProcess.temporaryFolder("operando-patterns")
        let r = try StemrunProcess.run(["operando", "simulate", "-o", dir + "/sim", "--patterns", "--scan-shape", "10x16",
                                        "--steps", "6"], ranks: 2)
        #expect(r.status == 0, "stderr: \(r.stderr)")
        var first: [String: [Double]]?
        for ranks in [1, 3] {
            let out = dir + "/a\(ranks).h5"
            try analyse(dir + "/sim", out, ranks: ranks, extra: ["--save-profiles"])
            let maps = try read(out, Self.analysisDatasets + ["operando/fast/profiles"])
            if let f = first {
                for (n, v) in maps { #expect(v == f[n], "\(n) differs with \(ranks) ranks") }
            } else {
                first = maps
            }
            // `integrate` alone writes the same profiles.
            let prof = dir + "/p\(ranks).h5"
            let i = try StemrunProcess.run(["operando", "integrate", dir + "/sim/fast.h5", "-o", prof,
                                            "--poni", dir + "/sim/geometry.poni"], ranks: ranks)
            #expect(i.status == 0, "stderr: \(i.stderr)")
            #expect(try read(prof, ["operando/profiles"])["operando/profiles"] == maps["operando/fast/profiles"])
        }
        let acc = try accuracy(dir + "/a1.h5", truth: dir + "/sim/truth.h5")
        #expect(acc >= 0.95, "dead/slow/active pixel accuracy from 2D patterns \(acc)")
    }

    @Test func badOperandoInputFailsCleanly() throws {
        let dir = StemrunProcess.temporaryFolder("operando-bad")
        let r = try StemrunProcess.run(["operando", "simulate", "-o", dir + "/sim", "--scan-shape", "6x8", "--steps", "5"])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        // Electrochemistry with the wrong number of rows.
        try "time,voltage\n0,3.4\n1,3.5\n".write(toFile: dir + "/short.csv", atomically: true, encoding: .utf8)
        let out = dir + "/o.h5"
        let a = try StemrunProcess.run(["operando", "analyse", "--fast", dir + "/sim/fast.h5", "--fast-echem", dir + "/short.csv",
                                        "-o", out], ranks: 2)
        #expect(a.status != 0)
        #expect(a.stderr.contains("short.csv") || a.stderr.contains("electrochemistry"), "\(a.stderr)")
        #expect(a.stderr.contains("5 rows"), "\(a.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out))
        // Missing series file.
        let b = try StemrunProcess.run(["operando", "analyse", "--fast", dir + "/none.h5", "-o", out], ranks: 2)
        #expect(b.status != 0 && b.stderr.contains("none.h5"), "\(b.stderr)")
        // A NaN detector pixel that is not masked.
        let p = try StemrunProcess.run(["operando", "simulate", "-o", dir + "/simp", "--patterns", "--scan-shape", "2x3",
                                        "--steps", "2", "--detector-shape", "16x64"])
        #expect(p.status == 0, "stderr: \(p.stderr)")
        let nanFile = dir + "/nan.h5"
        do {
            let src = try H5File.open(dir + "/simp/fast.h5").dataset("operando/patterns")
            var all = try src.readAll(as: Float.self)
            all[(1 * 6 + 4) * 16 * 64 + 8 * 64 + 30] = .nan   // step 1, position 4 = (row 1, column 1)
            let f = try H5File.create(nanFile)
            let d = try f.writeDataset("operando/patterns", all, shape: src.shape)
            for key in ["dist", "poni1", "poni2", "rot1", "rot2", "rot3", "pixel1", "pixel2", "wavelength"] {
                try d.setAttribute(key, src.numericAttribute(key)![0])
            }
            try f.close()
        }
        let q = try StemrunProcess.run(["operando", "integrate", nanFile, "-o", out, "--radial-range", "0.5:2.5", "--bins", "50"],
                                       ranks: 2)
        #expect(q.status != 0)
        #expect(q.stderr.contains("time step 1, scan position (row 1, column 1)") && q.stderr.contains("--mask"), "\(q.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out))
        // Profiles cannot be integrated.
        let c = try StemrunProcess.run(["operando", "integrate", dir + "/sim/fast.h5", "-o", out], ranks: 1)
        #expect(c.status != 0, "\(c.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out))
    }
}
