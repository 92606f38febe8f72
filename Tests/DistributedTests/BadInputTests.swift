import Foundation
import HDF5
import STEMCore
import Testing

/// Every bad input gives one clear error naming the file, a non-zero status from every rank (no hang),
/// and no output file that looks complete.
@Suite(.serialized) struct BadInputTests {
    let scan = ScanGrid(rows: 4, columns: 3)
    let detector = DetectorShape(rows: 16, columns: 16)

    func expectFailure(_ args: [String], output: String, mentions: [String], ranks: Int = 2) throws {
        let r = try StemrunProcess.run(args + ["-o", output], ranks: ranks, timeout: 60)
        #expect(r.status != 0)
        for m in mentions { #expect(r.stderr.contains(m), "stderr should mention \(m): \(r.stderr)") }
        #expect(!FileManager.default.fileExists(atPath: output), "no complete-looking output after failure")
    }

    @Test func missingFile() throws {
        let dir = StemrunProcess.temporaryFolder()
        try expectFailure(["virtual", dir + "/nope.h5"], output: dir + "/o.h5", mentions: ["nope.h5", "no such file"])
    }

    @Test func wrongDatasetPath() throws {
        let dir = StemrunProcess.temporaryFolder()
        try SyntheticDataset.writeHDF5(dir + "/in.h5", scan: scan, detector: detector, as: UInt8.self) { UInt8(min($0, 255)) }
        try expectFailure(["virtual", dir + "/in.h5", "--dataset", "/entry/missing"], output: dir + "/o.h5",
                          mentions: ["in.h5", "/entry/missing"])
    }

    @Test func datasetOfWrongRank() throws {
        let dir = StemrunProcess.temporaryFolder()
        let f = try H5File.create(dir + "/in.h5")
        try f.writeDataset("flat", [Float](repeating: 1, count: 50), shape: [5, 10])
        try f.close()
        try expectFailure(["virtual", dir + "/in.h5", "--dataset", "flat"], output: dir + "/o.h5",
                          mentions: ["in.h5", "rank 4", "rank 2"])
    }

    @Test func rawFileShorterThanShape() throws {
        let dir = StemrunProcess.temporaryFolder()
        let bytes = [UInt8](repeating: 3, count: 10 * 16 * 16 * 2)
        try #require(FileManager.default.createFile(atPath: dir + "/in.raw", contents: Data(bytes)))
        try expectFailure(["virtual", dir + "/in.raw", "--format", "raw", "--scan-shape", "4x3", "--detector-shape", "16x16",
                           "--dtype", "uint16"], output: dir + "/o.h5", mentions: ["in.raw", "6144 bytes", "5120 bytes"])
    }

    @Test func unsupportedDtype() throws {
        let dir = StemrunProcess.temporaryFolder()
        try expectFailure(["virtual", dir + "/x.raw", "--format", "raw", "--scan-shape", "4x3", "--detector-shape", "16x16",
                           "--dtype", "complex64"], output: dir + "/o.h5", mentions: ["--dtype", "complex64"], ranks: 1)
    }

    @Test func unsupportedHDF5Type() throws {
        let dir = StemrunProcess.temporaryFolder()
        let f = try H5File.create(dir + "/in.h5")
        try f.writeStrings("labels", ["a", "b", "c", "d"], shape: [1, 1, 2, 2])
        try f.close()
        try expectFailure(["virtual", dir + "/in.h5", "--dataset", "labels"], output: dir + "/o.h5",
                          mentions: ["in.h5", "unsupported data type string"])
    }

    @Test func nanValues() throws {
        let dir = StemrunProcess.temporaryFolder()
        try SyntheticDataset.writeHDF5(dir + "/in.h5", scan: scan, detector: detector, as: Float.self) { $0 }
        // Put a NaN into the pattern at scan (row 3, column 1), owned by the second of two ranks.
        do {
            let f = try H5File.open(dir + "/in.h5", writable: true)
            let nan: [Float] = [.nan]
            try nan.withUnsafeBufferPointer { try f.dataset("data").write(start: [3, 1, 5, 5], count: [1, 1, 1, 1], from: $0) }
        }
        try expectFailure(["virtual", dir + "/in.h5"], output: dir + "/o.h5", mentions: ["in.h5", "row 3, column 1", "NaN"])
    }

    @Test func scanShapeNotMatchingFrameCount() throws {
        let dir = StemrunProcess.temporaryFolder()
        try SyntheticDataset.writeHDF5(dir + "/in.h5", scan: scan, detector: detector, as: Int16.self, fourD: false) { Int16($0) }
        try expectFailure(["virtual", dir + "/in.h5", "--scan-shape", "5x3"], output: dir + "/o.h5",
                          mentions: ["in.h5", "15 frames", "12 frames"])
    }

    @Test func unwritableOutputFolderFailsBeforeWork() throws {
        let dir = StemrunProcess.temporaryFolder()
        try SyntheticDataset.writeHDF5(dir + "/in.h5", scan: scan, detector: detector, as: UInt8.self) { UInt8(min($0, 255)) }
        try expectFailure(["virtual", dir + "/in.h5"], output: dir + "/no/such/folder/o.h5", mentions: ["does not exist"])
    }
}
