import Foundation
import STEMCore

/// A raw binary file written by every rank at its own frame offsets (`pwrite`), through a `.partial` name
/// renamed by `commit()` once every rank has finished.
public final class RawFrameWriter {
    public let path: String
    let partial: String
    let frameBytes: Int
    let comm: Communicator
    private let fd: Int32

    public init(path: String, frameBytes: Int, frames: Int, comm: Communicator) throws {
        self.path = path
        self.partial = path + ".partial"
        self.frameBytes = frameBytes
        self.comm = comm
        let partialPath = partial
        try comm.collectively {
            guard comm.isRoot else { return }
            try OutputFile.checkDestination(path, estimatedBytes: frameBytes * frames)
            let f = open(partialPath, O_CREAT | O_TRUNC | O_WRONLY, 0o644)
            guard f >= 0, ftruncate(f, off_t(frameBytes * frames)) == 0 else {
                throw STEMError.outputFailed(path: partialPath, detail: String(cString: strerror(errno)))
            }
            close(f)
        }
        fd = try comm.collectively {
            let f = open(partialPath, O_WRONLY)
            guard f >= 0 else { throw STEMError.outputFailed(path: partialPath, detail: String(cString: strerror(errno))) }
            return f
        }
    }

    deinit { close(fd) }

    /// Writes `bytes` (whole frames) at the offset of frame `frames.lowerBound`.
    public func write(frames: Range<Int>, bytes: UnsafeRawBufferPointer) throws {
        var done = 0
        let offset = frames.lowerBound * frameBytes
        while done < bytes.count {
            let n = pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(offset + done))
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw STEMError.outputFailed(path: partial, detail: String(cString: strerror(errno))) }
            done += n
        }
    }

    /// Flushes on every rank, then renames to the final name.
    public func commit() throws {
        let partialPath = partial, finalPath = path
        try comm.collectively {
            guard fsync(fd) == 0 else { throw STEMError.outputFailed(path: partialPath, detail: "fsync failed") }
        }
        try comm.collectively {
            guard comm.isRoot else { return }
            guard rename(partialPath, finalPath) == 0 else {
                throw STEMError.outputFailed(path: finalPath, detail: String(cString: strerror(errno)))
            }
        }
    }
}
