#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import STEMCore

/// A file written by absolute offsets (`pwrite`): writers place each block of patterns where it belongs,
/// so ranks (or threads) can write disjoint parts of one file in any order.
public final class WritableFile: @unchecked Sendable {
    public let path: String
    private let descriptor: Int32

    /// Opens `path` for writing; `truncate` empties an existing file (the creating rank does this once).
    public init(path: String, truncate: Bool) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | (truncate ? O_TRUNC : 0), 0o644)
        guard fd >= 0 else { throw STEMError.outputFailed(path: path, detail: String(cString: strerror(errno))) }
        self.path = path
        self.descriptor = fd
    }

    deinit { close(descriptor) }

    public func write(at offset: Int, bytes: UnsafeRawBufferPointer) throws {
        var done = 0
        while done < bytes.count {
            let n = pwrite(descriptor, bytes.baseAddress! + done, bytes.count - done, off_t(offset + done))
            if n < 0 {
                if errno == EINTR { continue }
                throw STEMError.outputFailed(path: path, detail: "pwrite at offset \(offset + done): \(String(cString: strerror(errno)))")
            }
            done += n
        }
    }

    public func write(at offset: Int, _ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write(at: offset, bytes: $0) }
    }

    /// Sets the file length (pre-sizing lets ranks write their parts independently).
    public func resize(to length: Int) throws {
        guard ftruncate(descriptor, off_t(length)) == 0 else {
            throw STEMError.outputFailed(path: path, detail: "cannot resize to \(length) bytes: \(String(cString: strerror(errno)))")
        }
    }
}

/// How Float pattern values become 8- or 16-bit integers in exported files.
public enum IntensityScaling: Sendable, Equatable {
    /// Round to nearest and clamp to the type's range (values already in counts).
    case clip
    /// Map `low...high` linearly onto the full range of the type, clamping outside.
    case linear(low: Float, high: Float)

    /// Converts one value to an integer in `0...maximum`. NaN becomes 0.
    @inline(__always) func quantize(_ v: Float, maximum: Float) -> Float {
        var x = v
        if case let .linear(low, high) = self {
            let span = high - low
            x = span > 0 ? (v - low) / span * maximum : 0
        }
        if !(x > 0) { return 0 }  // also NaN
        return min((x + 0.5).rounded(.down), maximum)
    }
}
