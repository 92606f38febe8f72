import Foundation
import HDF5
import STEMCore
import Testing

/// `stemrun simulate` is deterministic for a seed whatever the rank count, writes ground truth, and its
/// raw output holds the same patterns as its HDF5 output.
@Suite(.serialized) struct SimulateMPITests {
    @Test func sameDatasetForOneTwoThreeRanks() throws {
        let dir = StemrunProcess.temporaryFolder()
        var reference: [UInt16]?
        for ranks in [1, 2, 3] {
            let out = dir + "/s\(ranks).h5"
            let r = try StemrunProcess.run(["simulate", "-o", out, "--scan", "9x7", "--detector", "32x32", "--grains", "3",
                                            "--seed", "5", "--raw-output", dir + "/s\(ranks).raw"], ranks: ranks)
            #expect(r.status == 0, "stderr: \(r.stderr)")
            let f = try H5File.open(out)
            #expect(f.numericAttribute("complete") == [1])
            let data = try f.dataset("data")
            #expect(data.shape == [9, 7, 32, 32])
            let values = try data.readAll(as: UInt16.self)
            #expect(values.contains { $0 > 0 })
            if let ref = reference { #expect(values == ref, "different data with \(ranks) ranks") } else { reference = values }
            let grainID = try f.dataset("ground_truth/grain_id").readAll(as: Int32.self)
            #expect(grainID.count == 63 && Set(grainID).isSubset(of: [0, 1, 2]))
            #expect(try f.dataset("ground_truth/grains/quaternion_wxyz").shape == [3, 4])
            #expect(try f.readStrings("ground_truth/phase_names") == ["Al"])
            let raw = try Data(contentsOf: URL(fileURLWithPath: dir + "/s\(ranks).raw"))
            let rawValues = raw.withUnsafeBytes { Array($0.bindMemory(to: UInt16.self)) }
            #expect(rawValues == values)
        }
    }

    @Test func badParametersFailCleanly() throws {
        let dir = StemrunProcess.temporaryFolder()
        let r = try StemrunProcess.run(["simulate", "-o", dir + "/x.h5", "--phases", "Unobtainium"], ranks: 2)
        #expect(r.status != 0)
        #expect(r.stderr.contains("Unobtainium"))
        #expect(!FileManager.default.fileExists(atPath: dir + "/x.h5"))
    }
}
