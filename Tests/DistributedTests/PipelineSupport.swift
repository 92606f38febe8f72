import Foundation
import HDF5
import STEMCore

/// Helpers of the pipeline and campaign tests: running the binary with extra environment (fault
/// injection), writing configurations, and reading results back.
enum PipelineSupport {
    static let scan = ScanGrid(rows: 7, columns: 5)
    static let detector = DetectorShape(rows: 24, columns: 24)

    /// Runs `stemrun ARGS` (under `mpirun -np ranks` when given) with `extra` environment variables.
    @discardableResult
    static func run(_ arguments: [String], ranks: Int? = nil, extra: [String: String] = [:],
                    timeout: TimeInterval = 120) throws -> StemrunProcess.Result {
        let p = Process()
        if let n = ranks {
            p.executableURL = URL(fileURLWithPath: "/usr/bin/mpirun")
            p.arguments = ["-np", "\(n)", StemrunProcess.binary] + arguments
        } else {
            p.executableURL = URL(fileURLWithPath: StemrunProcess.binary)
            p.arguments = arguments
        }
        p.environment = StemrunProcess.environment.merging(extra) { $1 }
        let dir = StemrunProcess.temporaryFolder("stemrun-io")
        let outPath = dir + "/stdout", errPath = dir + "/stderr"
        for path in [outPath, errPath] where !FileManager.default.createFile(atPath: path, contents: nil) {
            throw STEMError.outputFailed(path: path, detail: "cannot create the child's output file")
        }
        p.standardOutput = FileHandle(forWritingAtPath: outPath)
        p.standardError = FileHandle(forWritingAtPath: errPath)
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let deadline = Date().addingTimeInterval(timeout)
        while p.isRunning && Date() < deadline { usleep(20_000) }
        if p.isRunning { kill(p.processIdentifier, SIGKILL) }
        p.waitUntilExit()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        return StemrunProcess.Result(status: p.terminationStatus,
                                     stdout: (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "",
                                     stderr: (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "")
    }

    /// A small dataset `/data` (uint16, 4D) of the known synthetic patterns.
    static func writeDataset(_ path: String, scan: ScanGrid = scan, detector: DetectorShape = detector) throws {
        try SyntheticDataset.writeHDF5(path, scan: scan, detector: detector, as: UInt16.self, chunked: true) { UInt16($0) }
    }

    /// A pipeline configuration with a `[virtual]` section (fixed detector unless `auto`), extra lines appended.
    static func writeConfig(_ path: String, input: String?, output: String?, bfRadius: Double = 4,
                            chunkMiB: Double = 0.01, extra: String = "") throws {
        var t = "schema_version = 1\n[input]\n"
        if let input { t += "path = \"\(input)\"\n" }
        t += "[output]\n"
        if let output { t += "folder = \"\(output)\"\n" }
        t += "[run]\nchunk_mib = \(chunkMiB)\n[virtual]\ncenter = [12.0, 12.0]\nbf_radius = \(bfRadius)\nadf_inner = 8.0\nadf_outer = 12.0\n"
        t += extra
        try t.write(toFile: path, atomically: true, encoding: .utf8)
    }

    static let virtualMaps = ["bright_field", "annular_dark_field", "total_intensity", "mean_pattern", "max_pattern"]

    /// The virtual maps of a result (through result.h5's external links when `path` is a result file).
    static func virtualMaps(_ path: String) throws -> [String: [Float]] {
        let f = try H5File.open(path)
        var out: [String: [Float]] = [:]
        for m in virtualMaps { out[m] = try f.dataset("virtual/" + m).readAll(as: Float.self) }
        return out
    }

    /// Bright field computed directly from the synthetic patterns (centre (12, 12), radius r).
    static func directBrightField(scan: ScanGrid = scan, detector: DetectorShape = detector, radius: Double) -> [Float] {
        let data = SyntheticDataset.patterns(scan: scan, detector: detector)
        let p = detector.pixelCount
        return (0 ..< scan.count).map { i in
            var s = 0.0
            for ky in 0 ..< detector.rows { for kx in 0 ..< detector.columns {
                let r2 = pow(Double(kx) - 12, 2) + pow(Double(ky) - 12, 2)
                if r2 <= radius * radius { s += Double(data[i * p + ky * detector.columns + kx]) }
            } }
            return Float(s)
        }
    }

    static func modificationTime(_ path: String) -> Double? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) * 1e-9
    }

    static func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

    static func json(_ path: String) -> [String: Any]? {
        guard let d = FileManager.default.contents(atPath: path) else { return nil }
        return (try? JSONSerialization.jsonObject(with: d)) as? [String: Any]
    }
}
