import STEMCore

/// Writes one BMP per scan position into a folder (8-bit grey palette or 16-bit grey), named
/// `<prefix><index>.bmp` with the index zero-padded so that plain and natural sorting both give scan order.
/// Blocks may be written in any order and by several writers (ranks) at once.
public final class BMPSequenceWriter: PatternWriter {
    public let folder: String
    public let scan: ScanGrid
    public let detector: DetectorShape
    public let bitDepth: Int
    public let scaling: IntensityScaling
    public let prefix: String
    let digits: Int

    public init(folder: String, scan: ScanGrid, detector: DetectorShape, bitDepth: Int = 8,
                scaling: IntensityScaling = .clip, prefix: String = "pattern_") throws {
        guard bitDepth == 8 || bitDepth == 16 else {
            throw STEMError.invalidParameter(name: "BMP bit depth", value: "\(bitDepth)", expected: "8 or 16")
        }
        try makeFolder(folder)
        self.folder = folder
        self.scan = scan
        self.detector = detector
        self.bitDepth = bitDepth
        self.scaling = scaling
        self.prefix = prefix
        self.digits = max(1, String(max(scan.count - 1, 0)).count)
    }

    /// The file name of scan index `index`.
    public func fileName(_ index: Int) -> String {
        let n = String(index)
        return prefix + String(repeating: "0", count: max(0, digits - n.count)) + n + ".bmp"
    }

    public func write(firstIndex: Int, patterns: UnsafeBufferPointer<Float>) throws {
        let P = detector.pixelCount
        let count = patterns.count / P
        guard patterns.count == count * P else {
            throw STEMError.shapeMismatch(path: folder, field: "pattern shape", expected: "\(detector) patterns", found: "\(patterns.count) values")
        }
        guard firstIndex >= 0, firstIndex + count <= scan.count else {
            throw STEMError.invalidParameter(name: "block", value: "\(firstIndex)..<\(firstIndex + count)", expected: "positions inside 0..<\(scan.count)")
        }
        for p in 0 ..< count {
            let bytes = BMPImage.encode(UnsafeBufferPointer(rebasing: patterns[(p * P) ..< ((p + 1) * P)]), detector: detector,
                                        bitDepth: bitDepth, scaling: scaling)
            try WritableFile(path: folder + "/" + fileName(firstIndex + p), truncate: true).write(at: 0, bytes)
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Creates `path` (one level) unless it exists as a folder.
func makeFolder(_ path: String) throws {
    var info = stat()
    if stat(path, &info) == 0 {
        guard (info.st_mode & S_IFMT) == S_IFDIR else { throw STEMError.outputFailed(path: path, detail: "exists and is not a folder") }
        return
    }
    guard mkdir(path, 0o755) == 0 || errno == EEXIST else {
        throw STEMError.outputFailed(path: path, detail: "cannot create folder: \(String(cString: strerror(errno)))")
    }
}
