import Foundation

/// Runs the real `stemrun` binary, alone or under `mpirun -np N`, the way users do. The test process never
/// initialises MPI itself; the child's environment is cleaned of the variables an MPI-initialised parent
/// would export (a child `mpirun` that inherits them exits without output).
public enum StemrunProcess {
    public struct Result {
        public var status: Int32
        public var stdout: String
        public var stderr: String
    }

    /// The package root (three levels above this file).
    public static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The binary under test: $STEMRUN_BIN, else the release build, else the debug build.
    public static var binary: String {
        if let b = ProcessInfo.processInfo.environment["STEMRUN_BIN"] { return b }
        let release = packageRoot.appendingPathComponent(".build/release/stemrun").path
        if FileManager.default.isExecutableFile(atPath: release) { return release }
        return packageRoot.appendingPathComponent(".build/debug/stemrun").path
    }

    static var environment: [String: String] {
        var env = ProcessInfo.processInfo.environment.filter { key, _ in
            !(key.hasPrefix("OMPI_") || key.hasPrefix("PMIX_") || key.hasPrefix("ORTE_") || key.hasPrefix("OPAL_"))
        }
        env["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
        env["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
        env["OMPI_MCA_rmaps_base_oversubscribe"] = "1"
        env["OMPI_MCA_btl_vader_single_copy_mechanism"] = "none"
        env["OPENBLAS_NUM_THREADS"] = "1"
        return env
    }

    /// Runs `stemrun ARGS` under `mpirun -np ranks` (ranks nil: directly, as a singleton).
    @discardableResult
    public static func run(_ arguments: [String], ranks: Int? = nil, timeout: TimeInterval = 300,
                           extraEnvironment: [String: String] = [:]) throws -> Result {
        let p = Process()
        if let n = ranks {
            p.executableURL = URL(fileURLWithPath: "/usr/bin/mpirun")
            p.arguments = ["-np", "\(n)", binary] + arguments
        } else {
            p.executableURL = URL(fileURLWithPath: binary)
            p.arguments = arguments
        }
        p.environment = environment.merging(extraEnvironment) { $1 }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        try p.run()
        // Drain pipes while waiting so a chatty child cannot block.
        final class Box: @unchecked Sendable { var data = Data() }
        let outData = Box(), errData = Box()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async { outData.data = out.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        group.enter()
        DispatchQueue.global().async { errData.data = err.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        let deadline = Date().addingTimeInterval(timeout)
        while p.isRunning && Date() < deadline { usleep(20_000) }
        if p.isRunning { p.terminate(); kill(p.processIdentifier, SIGKILL) }
        group.wait()
        p.waitUntilExit()
        return Result(status: p.terminationStatus, stdout: String(decoding: outData.data, as: UTF8.self),
                      stderr: String(decoding: errData.data, as: UTF8.self))
    }

    /// A fresh temporary folder.
    public static func temporaryFolder(_ label: String = "stemrun-test") -> String {
        let path = NSTemporaryDirectory() + "\(label)-\(UUID().uuidString.prefix(8))"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}
