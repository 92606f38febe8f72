import Foundation

/// A progress line on rank 0 for long runs: at most one line every `interval` seconds, on stderr, with the
/// rate of this rank (all ranks progress at about the same rate on balanced partitions).
public final class ProgressLine {
    private let label: String
    private let total: Int
    private let enabled: Bool
    private let start = Date()
    private var last = Date()
    private let interval: TimeInterval

    public init(label: String, total: Int, rank: Int, interval: TimeInterval = 2) {
        self.label = label
        self.total = total
        self.enabled = rank == 0
        self.interval = interval
    }

    /// Reports that `done` of `total` items of this rank are finished.
    public func update(_ done: Int, bytes: Int = 0) {
        guard enabled, Date().timeIntervalSince(last) >= interval else { return }
        last = Date()
        let t = Date().timeIntervalSince(start)
        let rate = t > 0 ? Double(done) / t : 0
        var line = String(format: "%@: %d/%d positions on rank 0 (%.0f%%), %.0f patterns/s", label, done, total,
                          100 * Double(done) / Double(max(total, 1)), rate)
        if bytes > 0 { line += String(format: ", %.2f GB/s", Double(bytes) / t / 1e9) }
        FileHandle.standardError.write((line + "\n").data(using: .utf8)!)
    }
}
