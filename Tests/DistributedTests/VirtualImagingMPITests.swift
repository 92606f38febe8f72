import Foundation
import HDF5
import STEMCore
import Testing

/// `stemrun virtual` under mpirun with 1, 2 and 3 ranks: identical maps, equal to a direct computation.
@Suite(.serialized) struct VirtualImagingMPITests {
    let scan = ScanGrid(rows: 7, columns: 5)
    let detector = DetectorShape(rows: 24, columns: 24)

    /// The same maps computed directly in the test, in Double.
    func directMaps(center: (Double, Double), rbf: Double, inner: Double, outer: Double) -> (bf: [Float], adf: [Float], mean: [Float], max: [Float]) {
        let data = SyntheticDataset.patterns(scan: scan, detector: detector)
        let p = detector.pixelCount
        var bf = [Float](), adf = [Float]()
        var sum = [Double](repeating: 0, count: p), mx = [Float](repeating: -.infinity, count: p)
        for i in 0 ..< scan.count {
            var b = 0.0, a = 0.0
            for ky in 0 ..< detector.rows { for kx in 0 ..< detector.columns {
                let v = data[i * p + ky * detector.columns + kx]
                let r2 = pow(Double(kx) - center.0, 2) + pow(Double(ky) - center.1, 2)
                if r2 <= rbf * rbf { b += Double(v) }
                if r2 >= inner * inner && r2 < outer * outer { a += Double(v) }
                sum[ky * detector.columns + kx] += Double(v)
                mx[ky * detector.columns + kx] = max(mx[ky * detector.columns + kx], v)
            } }
            bf.append(Float(b)); adf.append(Float(a))
        }
        return (bf, adf, sum.map { Float($0 / Double(scan.count)) }, mx)
    }

    func readMap(_ file: H5File, _ name: String) throws -> [Float] { try file.dataset(name).readAll(as: Float.self) }

    @Test func sameMapsForOneTwoThreeRanksAndEqualToDirectComputation() throws {
        let dir = StemrunProcess.temporaryFolder()
        let input = dir + "/in.h5"
        try SyntheticDataset.writeHDF5(input, scan: scan, detector: detector, as: UInt16.self, chunked: true) { UInt16($0) }
        let args = ["--center", "12,12", "--bf-radius", "4", "--adf-inner", "8", "--adf-outer", "12"]
        let expected = directMaps(center: (12, 12), rbf: 4, inner: 8, outer: 12)
        var previous: [String: [Float]]?
        for ranks in [1, 2, 3] {
            let out = dir + "/v\(ranks).h5"
            let r = try StemrunProcess.run(["virtual", input, "-o", out, "--png-dir", dir + "/png\(ranks)"] + args, ranks: ranks)
            #expect(r.status == 0, "stderr: \(r.stderr)")
            let f = try H5File.open(out)
            #expect(f.numericAttribute("complete") == [1])
            #expect(try f.group("provenance").numericAttribute("ranks") == [Double(ranks)])
            var maps: [String: [Float]] = [:]
            for name in ["bright_field", "annular_dark_field", "mean_pattern", "max_pattern", "total_intensity"] {
                maps[name] = try readMap(f, "virtual/" + name)
            }
            #expect(try f.dataset("virtual/bright_field").shape == [scan.rows, scan.columns])
            #expect(maps["bright_field"]! == expected.bf)
            #expect(maps["annular_dark_field"]! == expected.adf)
            #expect(maps["max_pattern"]! == expected.max)
            for (a, b) in zip(maps["mean_pattern"]!, expected.mean) { #expect(abs(a - b) <= 1e-4 * max(1, abs(b))) }
            if let prev = previous {
                for (k, v) in maps { #expect(v == prev[k]!, "map \(k) differs with \(ranks) ranks") }
                let first = try H5File.open(dir + "/v1.h5").group("provenance").stringAttribute("input_checksum")
                #expect(try f.group("provenance").stringAttribute("input_checksum") == first)
            }
            previous = maps
            for png in ["bright_field", "annular_dark_field", "mean_pattern"] {
                #expect(FileManager.default.fileExists(atPath: dir + "/png\(ranks)/\(png).png"))
            }
        }
    }

    @Test func automaticCentreFindsTheDisc() throws {
        let dir = StemrunProcess.temporaryFolder()
        let input = dir + "/in.h5"
        try SyntheticDataset.writeHDF5(input, scan: scan, detector: detector, as: Float.self, fourD: false) { $0 }
        let r = try StemrunProcess.run(["virtual", input, "--scan-shape", "7x5", "-o", dir + "/v.h5"], ranks: 2)
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let f = try H5File.open(dir + "/v.h5")
        let c = try #require(try f.group("virtual").numericAttribute("center"))
        // The disc centre drifts by -1, 0, +1 px around (12, 12) with the scan; the mean is near (12, 12).
        #expect(abs(c[0] - 12) < 0.6 && abs(c[1] - 12) < 0.6)
    }
}
