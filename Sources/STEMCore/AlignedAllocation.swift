/// Buffers of the per-pattern kernels start on a cache line (64 bytes). `malloc` returns large blocks 16 bytes
/// past a page boundary, so every other 32-byte vector load along an image row would straddle two cache lines
/// (a split load costs about twice a plain one); from an aligned start, rows whose length is a multiple of 16
/// floats keep every aligned vector load inside one line. Free with `deallocate()`.
public enum AlignedAllocation {
    public static let alignment = 64

    /// Uninitialised storage for `capacity` values of `T` at a multiple of `alignment` bytes.
    public static func allocate<T>(_: T.Type, capacity: Int) -> UnsafeMutablePointer<T> {
        UnsafeMutableRawPointer.allocate(byteCount: max(1, capacity) * MemoryLayout<T>.stride,
                                         alignment: max(alignment, MemoryLayout<T>.alignment))
            .bindMemory(to: T.self, capacity: max(1, capacity))
    }

    /// The same as a buffer of `capacity` values.
    public static func buffer<T>(_: T.Type, capacity: Int) -> UnsafeMutableBufferPointer<T> {
        UnsafeMutableBufferPointer(start: allocate(T.self, capacity: capacity), count: capacity)
    }
}
