#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import STEMCore

/// A read-only file accessed only by absolute offsets (`pread`), so that one open file can serve any
/// number of threads and a reader never has to hold more than the bytes it was asked for.
public final class PositionalFile: @unchecked Sendable {
    public let path: String
    /// Length of the file in bytes, taken when it was opened.
    public let length: Int
    private let descriptor: Int32

    public init(path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw STEMError.fileNotFound(path: path) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            close(fd)
            throw STEMError.fileNotFound(path: path)
        }
        if (info.st_mode & S_IFMT) == S_IFDIR {
            close(fd)
            throw STEMError.badFormat(path: path, location: "path", expected: "a file", found: "a folder")
        }
        self.path = path
        self.length = Int(info.st_size)
        self.descriptor = fd
    }

    deinit { close(descriptor) }

    /// Reads exactly `count` bytes at `offset` into `destination`; a read past the end is a
    /// `STEMError.truncated` naming the offset, so callers need not pre-check.
    public func read(at offset: Int, count: Int, into destination: UnsafeMutableRawPointer) throws {
        guard offset >= 0, count >= 0, offset <= length, count <= length - offset else {
            throw STEMError.truncated(path: path, offset: offset, needed: count, available: length)
        }
        var done = 0
        while done < count {
            let n = pread(descriptor, destination + done, count - done, off_t(offset + done))
            if n < 0 {
                if errno == EINTR { continue }
                throw STEMError.library(call: "pread(\(path), offset \(offset + done))",
                                        detail: String(cString: strerror(errno)))
            }
            if n == 0 { throw STEMError.truncated(path: path, offset: offset, needed: count, available: offset + done) }
            done += n
        }
    }

    /// Reads `count` bytes at `offset` as a new array (for headers and other small pieces).
    public func bytes(at offset: Int, count: Int) throws -> [UInt8] {
        let n = max(0, count)
        return try [UInt8](unsafeUninitializedCapacity: n) { buffer, initialized in
            if n > 0 { try read(at: offset, count: count, into: buffer.baseAddress!) }
            initialized = n
        }
    }

    /// Up to `count` bytes at `offset`, fewer if the file ends first (for content probes).
    public func prefix(_ count: Int, at offset: Int = 0) throws -> [UInt8] {
        let n = max(0, min(count, length - offset))
        return n == 0 ? [] : try bytes(at: offset, count: n)
    }
}
