import Foundation
import STEMCore
#if canImport(Glibc)
import Glibc
#endif

/// Byte layout of a raw binary 4D-STEM file: an optional file header, then one frame per scan position in
/// scan order, each frame optionally wrapped in a per-frame header and footer (EMPAD writes two trailing
/// metadata rows per frame: a footer of 2 * width * 4 bytes).
public struct RawLayout: Sendable, Hashable {
    public var scan: ScanGrid
    public var detector: DetectorShape
    public var elementType: ElementType
    public var byteOrder: ByteOrder
    public var headerBytes: Int
    public var frameHeaderBytes: Int
    public var frameFooterBytes: Int

    public init(scan: ScanGrid, detector: DetectorShape, elementType: ElementType, byteOrder: ByteOrder = .little,
                headerBytes: Int = 0, frameHeaderBytes: Int = 0, frameFooterBytes: Int = 0) {
        self.scan = scan
        self.detector = detector
        self.elementType = elementType
        self.byteOrder = byteOrder
        self.headerBytes = headerBytes
        self.frameHeaderBytes = frameHeaderBytes
        self.frameFooterBytes = frameFooterBytes
    }

    /// Bytes of pattern values per frame.
    public var frameDataBytes: Int { detector.pixelCount * elementType.byteSize }
    /// Bytes from one frame's start to the next's.
    public var frameStride: Int { frameHeaderBytes + frameDataBytes + frameFooterBytes }
    /// File size the layout implies.
    public var expectedFileSize: Int { headerBytes + scan.count * frameStride }
}

/// Reads a raw binary file with positioned reads (`pread`) of just the requested frames.
public final class RawPatternSource: PatternSource {
    public let path: String
    public let layout: RawLayout
    private let fd: Int32
    private var scratch: [UInt8] = []

    public var formatName: String { "raw" }
    public var scan: ScanGrid { layout.scan }
    public var detector: DetectorShape { layout.detector }
    public var elementType: ElementType { layout.elementType }
    public var metadata: [(String, String)] {
        [("byte_order", layout.byteOrder.rawValue), ("header_bytes", "\(layout.headerBytes)"),
         ("frame_header_bytes", "\(layout.frameHeaderBytes)"), ("frame_footer_bytes", "\(layout.frameFooterBytes)")]
    }

    public init(path: String, layout: RawLayout) throws {
        guard layout.scan.count > 0, layout.detector.pixelCount > 0 else {
            throw STEMError.invalidParameter(name: "raw shape", value: "scan \(layout.scan), detector \(layout.detector)",
                                             expected: "positive scan and detector sizes")
        }
        guard layout.headerBytes >= 0, layout.frameHeaderBytes >= 0, layout.frameFooterBytes >= 0 else {
            throw STEMError.invalidParameter(name: "raw header/footer bytes", value: "negative", expected: ">= 0")
        }
        var st = stat()
        guard stat(path, &st) == 0 else { throw STEMError.fileNotFound(path: path) }
        let size = Int(st.st_size)
        if size < layout.expectedFileSize {
            let frames = max(0, (size - layout.headerBytes) / layout.frameStride)
            throw STEMError.shapeMismatch(
                path: path, field: "file size",
                expected: "\(layout.expectedFileSize) bytes = header \(layout.headerBytes) + \(layout.scan.count) frames (scan \(layout.scan)) x \(layout.frameStride) bytes",
                found: "\(size) bytes, room for \(frames) whole frames")
        }
        let f = open(path, O_RDONLY)
        guard f >= 0 else { throw STEMError.fileNotFound(path: path) }
        self.path = path
        self.layout = layout
        self.fd = f
    }

    deinit { close(fd) }

    /// Bytes read per `pread`: small enough that the staging buffer stays in cache while it is converted.
    static let stagingBytes = 1 << 20

    public func read(positions: Range<Int>, into destination: UnsafeMutableBufferPointer<Float>) throws {
        let p = layout.detector.pixelCount
        precondition(destination.count >= positions.count * p)
        guard positions.lowerBound >= 0, positions.upperBound <= layout.scan.count else {
            throw STEMError.invalidParameter(name: "scan positions", value: "\(positions)",
                                             expected: "within 0..<\(layout.scan.count)")
        }
        if positions.isEmpty { return }
        // Frames are staged a few at a time (about 1 MiB) so the conversion reads from cache.
        let framesPerRead = max(1, RawPatternSource.stagingBytes / layout.frameStride)
        let stage = min(framesPerRead, positions.count) * layout.frameStride
        if scratch.count < stage { scratch = [UInt8](repeating: 0, count: stage) }
        try scratch.withUnsafeMutableBytes { buf in
            var first = positions.lowerBound
            while first < positions.upperBound {
                let n = min(framesPerRead, positions.upperBound - first)
                let offset = layout.headerBytes + first * layout.frameStride
                let bytes = n * layout.frameStride
                var done = 0
                while done < bytes {
                    let got = pread(fd, buf.baseAddress! + done, bytes - done, off_t(offset + done))
                    if got < 0 && errno == EINTR { continue }
                    guard got > 0 else {
                        throw STEMError.truncated(path: path, offset: offset + done, needed: bytes - done,
                                                  available: offset + done)
                    }
                    done += got
                }
                for i in 0 ..< n {
                    let src = UnsafeRawPointer(buf.baseAddress! + i * layout.frameStride + layout.frameHeaderBytes)
                    convertToFloat(src, type: layout.elementType, order: layout.byteOrder, count: p,
                                   into: destination.baseAddress! + (first - positions.lowerBound + i) * p)
                }
                first += n
            }
        }
    }
}
