#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One reusable read buffer per reader: a fresh multi-megabyte allocation per `read` call would be
/// mapped and zero-filled by the kernel every time, doubling the memory traffic of a page-cache read.
/// Concurrent callers that find the buffer taken get a temporary one, so readers stay thread-safe.
final class ScratchPool: @unchecked Sendable {
    private var cached: UnsafeMutableRawPointer?
    private var cachedBytes = 0
    private let lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)

    init() { pthread_mutex_init(lock, nil) }

    deinit {
        cached?.deallocate()
        pthread_mutex_destroy(lock)
        lock.deallocate()
    }

    /// Calls `body` with at least `bytes` bytes of scratch memory (64-byte aligned).
    func with<R>(bytes: Int, _ body: (UnsafeMutableRawPointer) throws -> R) rethrows -> R {
        pthread_mutex_lock(lock)
        var buffer: UnsafeMutableRawPointer?
        var size = 0
        if let c = cached, cachedBytes >= bytes {
            buffer = c
            size = cachedBytes
            cached = nil
            cachedBytes = 0
        }
        pthread_mutex_unlock(lock)
        if buffer == nil {
            buffer = UnsafeMutableRawPointer.allocate(byteCount: max(bytes, 1), alignment: 64)
            size = max(bytes, 1)
        }
        defer {
            pthread_mutex_lock(lock)
            if size > cachedBytes {
                cached?.deallocate()
                cached = buffer
                cachedBytes = size
            } else {
                buffer!.deallocate()
            }
            pthread_mutex_unlock(lock)
        }
        return try body(buffer!)
    }
}
