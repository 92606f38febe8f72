import Foundation
#if canImport(Glibc)
import Glibc
#endif
import STEMCore

/// The stage ledger of one run folder, `pipeline.json`: which stages ran with which key, where their
/// committed file is, and how long each rank took. Rank 0 replaces it atomically after every stage
/// (`AtomicFile`), so a kill at any moment leaves either the previous or the new version. The committed
/// stage files remain the truth for `--resume` (their `complete` attribute and recorded key); this file
/// carries the timings and says whether the whole run finished (`complete`).
public struct PipelineManifest: Codable, Sendable {
    public struct Stage: Codable, Sendable {
        public var name: String
        public var key: String
        public var parameterHash: String
        public var inputHash: String
        public var parameters: String
        public var file: String
        /// "computed" in this run, or "reused" from an earlier run (resume).
        public var status: String
        public var secondsPerRank: [Double]
        public var finishedAt: String
    }

    public var schemaVersion = 1
    public var stemrunVersion = OutputFile.stemrunVersion
    public var config: String
    public var commandLine: String
    public var input: String
    public var inputFingerprint: String
    public var ranks: Int
    public var hosts: [String]
    public var startedAt: String
    public var finishedAt: String?
    public var complete: Bool
    public var stages: [Stage]

    public static func read(_ path: String) -> PipelineManifest? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return try? JSONDecoder().decode(PipelineManifest.self, from: data)
    }

    public func write(_ path: String) throws {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try enc.encode(self), to: path)
    }
}

/// Replacing a small file so that readers (and a crash at any moment) see either the old or the new
/// content: write `NAME.tmp`, fsync it, rename over NAME, fsync the folder.
public enum AtomicFile {
    public static func write(_ data: Data, to path: String) throws {
        let tmp = path + ".tmp"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw STEMError.outputFailed(path: path, detail: "cannot create \(tmp): \(String(cString: strerror(errno)))") }
        let written = data.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd)
        close(fd)
        guard written == data.count, synced == 0 else {
            unlink(tmp)
            throw STEMError.outputFailed(path: path, detail: "writing \(tmp) failed: \(String(cString: strerror(errno)))")
        }
        guard rename(tmp, path) == 0 else {
            throw STEMError.outputFailed(path: path, detail: "rename from \(tmp): \(String(cString: strerror(errno)))")
        }
        syncFolder(of: path)
    }

    /// fsync of the folder holding `path`, so a rename survives a power cut.
    public static func syncFolder(of path: String) {
        let folder = (path as NSString).deletingLastPathComponent
        let fd = open(folder.isEmpty ? "." : folder, O_RDONLY)
        if fd >= 0 { fsync(fd); close(fd) }
    }
}
