import CHDF5
import Foundation
import HDF5
import MPIShim
import STEMCore

/// `stemrun run`: every configured stage of one dataset, in one MPI job, with stage-level checkpoints.
///
/// Output folder layout (PipelineLayout):
///   stages/<stage>.h5   one committed file per stage (OutputFile: written as .partial, renamed on commit,
///                       root attribute complete = 1, provenance with the stage key)
///   pipeline.json       the stage ledger (keys, per-rank timings), replaced atomically after every stage
///   result.h5           written last: external links /<group> -> stages/<stage>.h5:/<group> for every
///                       top-level group of every stage file (e.g. /virtual, /registration, /nmf), so one
///                       file holds every stage's results; present only when the whole run finished
///   report.html         the self-contained run report
/// One file per stage keeps checkpoints robust under parallel HDF5: a rank killed mid-stage can corrupt only
/// that stage's `.partial` file, never the committed results of earlier stages.
public struct PipelineRunner {
    public let config: PipelineConfig
    /// Skip stages whose committed file carries the same key (parameters and inputs unchanged).
    public var resume: Bool
    public var commandLine: String
    /// The rank in MPI_COMM_WORLD (for fault injection and messages); nil: the communicator's rank.
    public var worldRank: Int?
    /// Progress messages (printed by rank 0).
    public var log: (String) -> Void = { print($0); fflush(stdout) }

    public init(config: PipelineConfig, resume: Bool, commandLine: String = CommandLine.arguments.joined(separator: " ")) {
        self.config = config
        self.resume = resume
        self.commandLine = commandLine
    }

    public struct Summary: Sendable {
        public var computed: [String]
        public var reused: [String]
        public var seconds: Double
        public var reportPath: String?
        public var resultPath: String
    }

    public func run(comm: Communicator) throws -> Summary {
        let start = Date()
        let folder = config.outputFolder
        let say: (String) -> Void = { if comm.isRoot { self.log($0) } }

        // 1. Before any work: folder creatable and writable, input readable.
        try comm.collectively { if comm.isRoot { try Preflight.prepareFolder(folder) } }
        let source = try comm.collectively { try config.input.open() }
        let fingerprint = comm.broadcast(try comm.collectively { comm.isRoot ? try config.input.fingerprint() : "" })

        // 2. Keys and what is already done (root reads the committed files; everyone gets the verdict).
        var keys: [String: StageKey] = [:]
        var versions: [String: Int] = [:]
        for kind in StageRegistry.kinds { versions[kind.section] = kind.version }
        for stage in config.stages {
            let upstream = stage.dependencies.map { keys[$0]!.value }
            keys[stage.name] = StageKey(stage: stage, version: versions[stage.name] ?? 0, inputFingerprint: fingerprint,
                                        upstreamKeys: upstream)
        }
        var done = [UInt8](repeating: 0, count: config.stages.count)
        if comm.isRoot && resume {
            for (i, stage) in config.stages.enumerated() {
                let file = PipelineLayout.stageFile(folder: folder, stage: stage.name)
                done[i] = Self.isCommitted(file, key: keys[stage.name]!.value) ? 1 : 0
            }
        }
        comm.broadcast(&done, root: 0)

        // 3. Space for what will be computed, checked up front.
        let scan = source.scan, det = source.detector
        let needed = zip(config.stages, done).filter { $0.1 == 0 }.map { Preflight.estimatedBytes($0.0, scan: scan, detector: det) }
            .reduce(Preflight.reportBytes, +)
        try comm.collectively {
            if comm.isRoot { try Preflight.checkSpace(folder, neededBytes: needed, keepFreeBytes: config.minFreeBytes) }
        }

        // 4. The stages.
        let hostBytes = comm.allgatherv(Array((ProcessInfo.processInfo.hostName + "\n").utf8))
        let hosts = String(decoding: hostBytes, as: UTF8.self).split(separator: "\n").map(String.init)
        let old = comm.isRoot ? PipelineManifest.read(PipelineLayout.manifest(folder: folder)) : nil
        var manifest = PipelineManifest(config: config.file, commandLine: commandLine, input: config.input.path,
                                        inputFingerprint: fingerprint, ranks: comm.size, hosts: hosts,
                                        startedAt: Self.now(), finishedAt: nil, complete: false, stages: [])
        if comm.isRoot {
            unlink(PipelineLayout.result(folder: folder))
            try manifest.write(PipelineLayout.manifest(folder: folder))
        }
        var computed: [String] = [], reused: [String] = [], files: [String: String] = [:]
        for (i, stage) in config.stages.enumerated() {
            let key = keys[stage.name]!
            let file = PipelineLayout.stageFile(folder: folder, stage: stage.name)
            var record = PipelineManifest.Stage(name: stage.name, key: key.value, parameterHash: key.parameterHash,
                                                inputHash: key.inputHash, parameters: stage.parameterText,
                                                file: "stages/\(stage.name).h5", status: "reused", secondsPerRank: [],
                                                finishedAt: "")
            if done[i] == 1 {
                let previous = old?.stages.first { $0.name == stage.name && $0.key == key.value }
                record.secondsPerRank = previous?.secondsPerRank ?? []
                record.finishedAt = previous?.finishedAt ?? ""
                reused.append(stage.name)
                say("stage \(stage.name): up to date (key \(key.value.prefix(12))), reused")
            } else {
                say("stage \(stage.name): computing on \(comm.size) rank(s)")
                try comm.collectively { if comm.isRoot { unlink(file) } }
                var prov = Provenance(command: "run/\(stage.name)", commandLine: commandLine, inputPath: config.input.path)
                prov.parameters = [("stage", stage.name), ("stage_key", key.value), ("parameter_hash", key.parameterHash),
                                   ("input_hash", key.inputHash), ("parameters", stage.parameterText),
                                   ("config", config.file), ("input_fingerprint", fingerprint)]
                let stageSource = FaultInjection.wrap(source, worldRank: worldRank ?? comm.rank, stage: stage.name)
                let context = StageContext(source: stageSource, outputFolder: folder, chunkBudgetBytes: config.chunkBudgetBytes,
                                           provenance: prov, upstreamFiles: files)
                let t0 = Date()
                try stage.run(comm: comm, context: context)
                let seconds = Date().timeIntervalSince(t0)
                record.secondsPerRank = comm.allgatherv([seconds])
                record.status = "computed"
                record.finishedAt = Self.now()
                computed.append(stage.name)
                say(String(format: "stage %@: done in %.2f s (slowest rank)", stage.name, record.secondsPerRank.max() ?? seconds))
            }
            files[stage.name] = file
            manifest.stages.append(record)
            if comm.isRoot { try manifest.write(PipelineLayout.manifest(folder: folder)) }
        }

        // 5. The linking result file, the report, then the ledger says complete.
        var reportPath: String?
        try comm.collectively {
            guard comm.isRoot else { return }
            try Self.writeResultFile(folder: folder, stages: config.stages.map(\.name), manifest: manifest)
            manifest.finishedAt = Self.now()
            if config.writeReport {
                let path = PipelineLayout.report(folder: folder)
                try RunReport(manifest: manifest, folder: folder, stages: config.stages, scan: scan, detector: det,
                              wallSeconds: Date().timeIntervalSince(start)).write(to: path)
                reportPath = path
            }
            manifest.complete = true
            try manifest.write(PipelineLayout.manifest(folder: folder))
        }
        return Summary(computed: computed, reused: reused, seconds: Date().timeIntervalSince(start),
                       reportPath: reportPath, resultPath: PipelineLayout.result(folder: folder))
    }

    /// A committed stage file with the expected key: complete = 1 and /provenance/parameters stage_key.
    public static func isCommitted(_ file: String, key: String) -> Bool {
        guard FileManager.default.fileExists(atPath: file), let f = try? H5File.open(file) else { return false }
        guard f.numericAttribute("complete") == [1], let params = try? f.group("provenance/parameters") else { return false }
        return params.stringAttribute("stage_key") == key
    }

    /// result.h5: external links to the top-level groups of every stage file, plus the run's provenance;
    /// written as .partial then renamed.
    static func writeResultFile(folder: String, stages: [String], manifest: PipelineManifest) throws {
        let path = PipelineLayout.result(folder: folder)
        let partial = path + ".partial"
        unlink(partial)
        do {
            let f = try H5File.create(partial)
            var linked: Set<String> = ["provenance"]
            for s in stages {
                // Every top-level group of the stage file except its provenance (e.g. /virtual, /registration).
                let members = try H5File.open(PipelineLayout.stageFile(folder: folder, stage: s)).memberNames()
                for m in members where !linked.contains(m) {
                    linked.insert(m)
                    let status = H5Lcreate_external("stages/\(s).h5", "/\(m)", f.id, m, shim_H5P_DEFAULT(), shim_H5P_DEFAULT())
                    guard status >= 0 else { throw STEMError.library(call: "H5Lcreate_external", detail: "link /\(m) in \(path)") }
                }
            }
            let prov = try f.createGroup("provenance")
            try prov.setAttribute("stemrun_version", OutputFile.stemrunVersion)
            try prov.setAttribute("command", "run")
            try prov.setAttribute("command_line", manifest.commandLine)
            try prov.setAttribute("config", manifest.config)
            try prov.setAttribute("input_path", manifest.input)
            try prov.setAttribute("input_fingerprint", manifest.inputFingerprint)
            try prov.setAttribute("ranks", Int64(manifest.ranks))
            try prov.setAttribute("stages", manifest.stages.map { "\($0.name):\($0.key)" }.joined(separator: " "))
            try f.setAttribute("complete", Int32(1))
            try f.setAttribute("stemrun_output", "run")
            try f.close()
        }
        guard rename(partial, path) == 0 else {
            throw STEMError.outputFailed(path: path, detail: "rename from \(partial): \(String(cString: strerror(errno)))")
        }
        AtomicFile.syncFolder(of: path)
    }

    static func now() -> String { ISO8601DateFormatter().string(from: Date()) }
}

/// The checks made before any work starts.
public enum Preflight {
    /// Creates the output folder (and stages/) and proves it writable by creating and removing a probe
    /// file (`access(W_OK)` alone says yes to root on a read-only mount).
    public static func prepareFolder(_ folder: String) throws {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: folder, isDirectory: &isDir), !isDir.boolValue {
            throw STEMError.outputFailed(path: folder, detail: "exists and is not a folder")
        }
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw STEMError.outputFailed(path: folder, detail: "cannot create the output folder: \((error as NSError).localizedDescription)")
        }
        let probe = folder + "/.stemrun-write-probe-\(getpid())"
        let fd = open(probe, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else {
            throw STEMError.outputFailed(path: folder, detail: "the output folder is not writable (\(String(cString: strerror(errno))))")
        }
        let ok = write(fd, "ok", 2) == 2
        close(fd)
        unlink(probe)
        guard ok else { throw STEMError.outputFailed(path: folder, detail: "writing to the output folder failed (\(String(cString: strerror(errno))))") }
        do {
            try FileManager.default.createDirectory(atPath: folder + "/stages", withIntermediateDirectories: true)
        } catch {
            throw STEMError.outputFailed(path: folder, detail: "cannot create \(folder)/stages: \((error as NSError).localizedDescription)")
        }
    }

    /// Fails when the file system holding `folder` has less than `neededBytes + keepFreeBytes` available.
    public static func checkSpace(_ folder: String, neededBytes: Int, keepFreeBytes: Int) throws {
        var fs = statvfs()
        guard statvfs(folder, &fs) == 0 else { return }
        let free = Int(fs.f_bavail) * Int(fs.f_frsize)
        if free < neededBytes + keepFreeBytes {
            throw STEMError.outputFailed(path: folder, detail: String(
                format: "not enough disk space: the stages to run need about %.1f MB%@, only %.1f MB are free",
                Double(neededBytes) / 1e6, keepFreeBytes > 0 ? String(format: " (+ %.1f MB kept free by output.min_free_mib)", Double(keepFreeBytes) / 1e6) : "",
                Double(free) / 1e6))
        }
    }

    /// A stage's estimate plus HDF5 metadata overhead (64 KiB per file).
    public static func estimatedBytes(_ stage: PipelineStage, scan: ScanGrid, detector: DetectorShape) -> Int {
        stage.estimatedBytes(scan: scan, detector: detector) + (64 << 10)
    }

    /// The report and result file: a few dozen embedded figures of about 256 x 256 RGB pixels (PNG, base64
    /// 4/3), tables and links: 4 MiB is a generous bound.
    public static let reportBytes = 4 << 20
}
