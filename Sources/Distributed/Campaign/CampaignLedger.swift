import Foundation
import STEMCore

/// The durable record of a campaign: an append-only log of JSON lines, one per state change
/// (running, done, failed with its error); a dataset with no record is pending, and its state is that of
/// its last record.
///
/// Why a log and not SQLite: no extra dependency, the history is kept (when each attempt ran, on which
/// host and task, and why it failed), and it is readable with `cat` and `grep`. Durability and concurrency
/// come from three rules: every change is one `write(2)` of one complete line to a file opened with
/// O_APPEND, under an exclusive `flock` (so lines of concurrent SLURM array tasks never interleave, and a
/// claim — read the log, pick a dataset, append "running" — is atomic); every append is followed by
/// `fsync` before it counts; lines that do not parse (a torn tail after a crash) are ignored, and the next
/// append first terminates such a tail with a newline. A kill at any moment therefore loses at most the
/// change being written, which then reads as the previous state (the dataset is simply done again).
/// flock works across nodes on NFSv4 and Lustre (mounted with `flock`); see docs/clusters.md.
public final class CampaignLedger {
    public enum State: String, Codable, Sendable { case pending, running, done, failed }

    public struct Record: Codable, Sendable, Equatable {
        public var time: String
        public var dataset: String
        public var state: State
        /// The campaign invocation that wrote it (one id per `stemrun campaign` run).
        public var run: String
        public var task: Int
        public var host: String
        public var pid: Int32
        /// The dataset identity (name, input, configuration bytes) the state refers to.
        public var identity: String
        public var seconds: Double?
        public var error: String?

        public init(time: String, dataset: String, state: State, run: String, task: Int, host: String, pid: Int32,
                    identity: String, seconds: Double? = nil, error: String? = nil) {
            self.time = time
            self.dataset = dataset
            self.state = state
            self.run = run
            self.task = task
            self.host = host
            self.pid = pid
            self.identity = identity
            self.seconds = seconds
            self.error = error
        }
    }

    public let path: String

    /// Opens (creating if needed, with its folder) the ledger at `path`.
    public init(path: String) throws {
        self.path = path
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty {
            do { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) } catch {
                throw STEMError.outputFailed(path: path, detail: "cannot create the ledger folder \(folder)")
            }
        }
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        guard fd >= 0 else { throw STEMError.outputFailed(path: path, detail: "cannot open the ledger: \(String(cString: strerror(errno)))") }
        close(fd)
    }

    /// Runs `body` holding the exclusive lock, with a descriptor open for reading and appending.
    func locked<T>(_ body: (Int32) throws -> T) throws -> T {
        let fd = open(path, O_RDWR | O_APPEND)
        guard fd >= 0 else { throw STEMError.outputFailed(path: path, detail: "cannot open the ledger: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else { throw STEMError.outputFailed(path: path, detail: "flock: \(String(cString: strerror(errno)))") }
        }
        defer { flock(fd, LOCK_UN) }
        return try body(fd)
    }

    /// Every record that parses, in file order (with the lock held by the caller or a shared lock).
    func read(_ fd: Int32) -> (records: [Record], tornTail: Bool) {
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        var offset: off_t = 0
        while true {
            let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, offset) }
            if n <= 0 { break }
            data.append(contentsOf: buffer[0 ..< n])
            offset += off_t(n)
        }
        let decoder = JSONDecoder()
        var records: [Record] = []
        for line in data.split(separator: UInt8(ascii: "\n")) {
            if let r = try? decoder.decode(Record.self, from: Data(line)) { records.append(r) }
        }
        return (records, !data.isEmpty && data.last != UInt8(ascii: "\n"))
    }

    func append(_ record: Record, fd: Int32, tornTail: Bool) throws {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        var line = try enc.encode(record)   // JSON escapes newlines inside strings: one line per record
        line.append(UInt8(ascii: "\n"))
        if tornTail { line.insert(UInt8(ascii: "\n"), at: 0) }
        let written = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == line.count, fsync(fd) == 0 else {
            throw STEMError.outputFailed(path: path, detail: "appending to the ledger failed: \(String(cString: strerror(errno)))")
        }
    }

    /// Appends one record (locked, fsynced).
    public func append(_ record: Record) throws {
        try locked { fd in try append(record, fd: fd, tornTail: read(fd).tornTail) }
    }

    /// All records (under the lock, so never a half-written line of a concurrent writer).
    public func records() throws -> [Record] { try locked { read($0).records } }

    /// The last record of each dataset.
    public static func latest(_ records: [Record]) -> [String: Record] {
        var out: [String: Record] = [:]
        for r in records { out[r.dataset] = r }
        return out
    }

    /// Atomically picks the first of `candidates` (with their identities) that is not done (with the same
    /// identity), not failed with the same identity (unless `retryFailed`), and not already attempted by
    /// this campaign invocation `run`, and records it as running.
    /// A "running" record of another invocation is stale — that runner died — since every dataset belongs
    /// to exactly one array task; except when its process is still alive on this host (two invocations
    /// started on one machine by mistake do not work on the same dataset).
    /// Returns the index into `candidates`, or nil when nothing is left.
    public func claim(_ candidates: [(name: String, identity: String)], run: String, task: Int,
                      retryFailed: Bool = false) throws -> Int? {
        try locked { fd in
            let (records, torn) = read(fd)
            let last = Self.latest(records)
            let ranHere = Set(records.filter { $0.run == run }.map(\.dataset))
            for (i, c) in candidates.enumerated() {
                if let r = last[c.name], r.identity == c.identity, r.state == .done || (r.state == .failed && !retryFailed) {
                    continue
                }
                if ranHere.contains(c.name) { continue }
                if let r = last[c.name], r.state == .running, Self.isAlive(r) { continue }
                try append(Record(time: Self.now(), dataset: c.name, state: .running, run: run, task: task,
                                  host: ProcessInfo.processInfo.hostName, pid: getpid(), identity: c.identity),
                           fd: fd, tornTail: torn)
                return i
            }
            return nil
        }
    }

    /// A "running" record whose process still exists on this host (another invocation working on it now).
    /// Records of other hosts cannot be checked; array tasks never share datasets, so those are stale.
    static func isAlive(_ r: Record) -> Bool {
        guard r.host == ProcessInfo.processInfo.hostName, r.pid > 0, r.pid != getpid() else { return false }
        guard kill(r.pid, 0) == 0 || errno == EPERM else { return false }
        // A zombie (killed, not yet reaped) is dead too.
        if let stat = try? String(contentsOfFile: "/proc/\(r.pid)/stat", encoding: .utf8),
           let close = stat.range(of: ") ", options: .backwards) {
            return stat[close.upperBound...].first != "Z"
        }
        return true
    }

    static func now() -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.string(from: Date())
    }

    /// A finished attempt.
    public func finish(_ name: String, identity: String, run: String, task: Int, seconds: Double, error: String?) throws {
        try append(Record(time: Self.now(), dataset: name, state: error == nil ? .done : .failed, run: run, task: task,
                          host: ProcessInfo.processInfo.hostName, pid: getpid(), identity: identity, seconds: seconds,
                          error: error))
    }
}
