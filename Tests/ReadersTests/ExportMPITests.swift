import Foundation
import Readers
import STEMCore
import Testing

/// Runs the release `stemrun` binary under `mpirun -np ranks` with an environment cleaned of MPI variables
/// (see the DistributedTests support for why).
func runStemrun(_ arguments: [String], ranks: Int) throws -> (status: Int32, output: String) {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let binary = ProcessInfo.processInfo.environment["STEMRUN_BIN"] ?? root.appendingPathComponent(".build/release/stemrun").path
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/mpirun")
    p.arguments = ["-np", "\(ranks)", binary] + arguments
    var env = ProcessInfo.processInfo.environment.filter { k, _ in
        !(k.hasPrefix("OMPI_") || k.hasPrefix("PMIX_") || k.hasPrefix("ORTE_") || k.hasPrefix("OPAL_"))
    }
    env["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
    env["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
    env["OMPI_MCA_rmaps_base_oversubscribe"] = "1"
    env["OMPI_MCA_btl_vader_single_copy_mechanism"] = "none"
    p.environment = env
    let out = Pipe()
    p.standardOutput = out
    p.standardError = out
    p.standardInput = FileHandle.nullDevice
    try p.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// The float32 payload of a `.npy` file written by `stemrun export --to npy`, and its shape.
func readNPY(_ path: String) throws -> (shape: [Int], values: [Float]) {
    let file = try PositionalFile(path: path)
    let head = try file.bytes(at: 0, count: 10)
    let headerLength = Int(head[8]) | Int(head[9]) << 8
    let dict = String(decoding: try file.bytes(at: 10, count: headerLength), as: UTF8.self)
    let shapeText = dict.split(separator: "(")[1].split(separator: ")")[0]
    let shape = shapeText.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
    let n = (file.length - 10 - headerLength) / 4
    var values = [Float](repeating: 0, count: n)
    try values.withUnsafeMutableBytes { try file.read(at: 10 + headerLength, count: n * 4, into: $0.baseAddress!) }
    return (shape, values)
}

@Suite(.serialized) struct ExportMPITests {
    /// Inputs of four formats, each with the patterns the readers must deliver.
    func inputs(_ folder: String) throws -> [(path: String, scan: ScanGrid, detector: DetectorShape, values: [Float], extra: [String])] {
        let scan = ScanGrid(rows: 3, columns: 5), d = DetectorShape(rows: 8, columns: 8)
        let values = testPatterns(count: scan.count, pixels: 64, maximum: 256, seed: 77)
        // Blockfile.
        let blo = try BlockfileWriter(path: folder + "/in.blo", scan: scan, patternSize: 8)
        try blo.write(PatternBlock(firstIndex: 0, count: scan.count, detector: d, pixels: values))
        // Merlin, processed 16-bit, scan from the .hdr; the reader flips rows.
        var mib: [UInt8] = []
        for f in 0 ..< scan.count {
            mib += merlinHeader(sequence: f + 1, depthName: "U16", width: 8, height: 8)
            for v in values[f * 64 ..< (f + 1) * 64] { mib += be(UInt16(v)) }
        }
        try writeFile(folder + "/in.mib", mib)
        try writeFile(folder + "/in.hdr", Array("HDR,\nFrames in Acquisition (Number):\t15\nFrames per Trigger (Number):\t5\nEnd\t\n".utf8))
        // DM4 4D.
        try writeFile(folder + "/in.dm4", DMWriter(version: 4).file(dims: [8, 8, 5, 3], dataType: 6, arrayType: 10,
                                                                   payload: values.map { UInt8($0) }, elementSize: 1))
        // BMP sequence.
        try BMPSequenceWriter(folder: folder + "/bmp", scan: scan, detector: d).write(PatternBlock(firstIndex: 0, count: 15, detector: d, pixels: values))
        return [(folder + "/in.blo", scan, d, values, []), (folder + "/in.mib", scan, d, flipped(values, detector: d), []),
                (folder + "/in.dm4", scan, d, values, []), (folder + "/bmp", scan, d, values, ["--scan-shape", "3x5"])]
    }

    @Test func oneTwoThreeRanksExportIdenticalPatternsForEveryFormat() throws {
        let folder = temporaryFolder("export")
        for input in try inputs(folder) {
            for ranks in 1 ... 3 {
                let npy = folder + "/out\(ranks).npy"
                let r = try runStemrun(["export", input.path, "--to", "npy", "-o", npy] + input.extra, ranks: ranks)
                #expect(r.status == 0, "\(input.path) on \(ranks) ranks: \(r.output)")
                let (shape, values) = try readNPY(npy)
                #expect(shape == [3, 5, 8, 8], "\(input.path)")
                #expect(values == input.values, "\(input.path) on \(ranks) ranks")
                let blo = folder + "/out\(ranks).blo"
                #expect(try runStemrun(["export", input.path, "--to", "blo", "-o", blo] + input.extra, ranks: ranks).status == 0)
                #expect(try BlockfilePatternSource(path: blo).readBlock(0 ..< 15).pixels == input.values, "\(input.path) blo, \(ranks) ranks")
            }
        }
    }

    @Test func exportRejectsNonSquareBlockfileAndUnknownFormat() throws {
        let folder = temporaryFolder("exportbad")
        let d = DetectorShape(rows: 4, columns: 6)
        try BMPSequenceWriter(folder: folder + "/bmp", scan: ScanGrid(rows: 1, columns: 2), detector: d)
            .write(PatternBlock(firstIndex: 0, count: 2, detector: d))
        let square = try runStemrun(["export", folder + "/bmp", "--to", "blo", "-o", folder + "/x.blo"], ranks: 2)
        #expect(square.status != 0 && square.output.contains("square patterns"))
        let unknown = try runStemrun(["export", folder + "/bmp", "--to", "xyz", "-o", folder + "/x"], ranks: 1)
        #expect(unknown.status != 0 && unknown.output.contains("blo, bmp, npy, raw"))
    }
}
