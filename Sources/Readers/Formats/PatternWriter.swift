import STEMCore

/// A destination for patterns in scan order that accepts blocks at any scan position, so that each rank
/// writes its own block of one shared output. Create the output once (`create: true`, one rank), then
/// open it on every writer with `create: false`.
public protocol PatternWriter: AnyObject {
    /// Writes `patterns` (pattern-major, whole patterns) at scan positions `firstIndex...`.
    func write(firstIndex: Int, patterns: UnsafeBufferPointer<Float>) throws
}

extension PatternWriter {
    public func write(_ block: PatternBlock) throws {
        try block.pixels.withUnsafeBufferPointer { try write(firstIndex: block.firstIndex, patterns: $0) }
    }
}

/// The export formats of `stemrun export`.
public enum ExportFormat: String, CaseIterable, Sendable {
    /// NanoMEGAS ASTAR blockfile (8-bit, square patterns).
    case blo
    /// A folder of 8- or 16-bit grey BMP files, one per scan position.
    case bmp
    /// NumPy `.npy`, float32, shape (scan rows, scan columns, detector rows, detector columns).
    case npy
    /// Raw little-endian float32, scan-major, no header.
    case raw

    /// Creates (`create: true`) or opens the output at `path` for `scan` patterns of `detector`.
    public func writer(path: String, scan: ScanGrid, detector: DetectorShape, bitDepth: Int = 8,
                       scaling: IntensityScaling = .clip, create: Bool) throws -> PatternWriter {
        switch self {
        case .blo:
            guard detector.rows == detector.columns else {
                throw STEMError.invalidParameter(name: "blockfile pattern shape", value: "\(detector)", expected: "square patterns (ASTAR blockfiles store DP_SZ x DP_SZ)")
            }
            return try BlockfileWriter(path: path, scan: scan, patternSize: detector.rows, scaling: scaling, create: create)
        case .bmp:
            return try BMPSequenceWriter(folder: path, scan: scan, detector: detector, bitDepth: bitDepth, scaling: scaling)
        case .npy, .raw:
            return try Float32ArrayWriter(path: path, scan: scan, detector: detector, npyHeader: self == .npy, create: create)
        }
    }
}

/// Patterns as little-endian float32, scan-major, optionally behind a NumPy `.npy` (version 1.0) header
/// with shape (scan rows, scan columns, detector rows, detector columns).
public final class Float32ArrayWriter: PatternWriter {
    public let path: String
    public let scan: ScanGrid
    public let detector: DetectorShape
    let dataOffset: Int
    let file: WritableFile

    public init(path: String, scan: ScanGrid, detector: DetectorShape, npyHeader: Bool, create: Bool) throws {
        self.path = path
        self.scan = scan
        self.detector = detector
        let header = npyHeader ? Float32ArrayWriter.npyHeader(shape: [scan.rows, scan.columns, detector.rows, detector.columns]) : []
        self.dataOffset = header.count
        self.file = try WritableFile(path: path, truncate: create)
        if create {
            try file.write(at: 0, header)
            try file.resize(to: header.count + scan.count * detector.pixelCount * 4)
        }
    }

    /// The `.npy` v1.0 header for a little-endian float32 C-ordered array, padded to 64 bytes.
    public static func npyHeader(shape: [Int]) -> [UInt8] {
        var dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + shape.map(String.init).joined(separator: ", ")
        dict += shape.count == 1 ? ",), }" : "), }"
        let total = (10 + dict.utf8.count + 1 + 63) / 64 * 64
        dict += String(repeating: " ", count: total - 10 - dict.utf8.count - 1) + "\n"
        let n = dict.utf8.count
        return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(n & 0xFF), UInt8(n >> 8)] + Array(dict.utf8)
    }

    public func write(firstIndex: Int, patterns: UnsafeBufferPointer<Float>) throws {
        let P = detector.pixelCount
        guard patterns.count % P == 0, firstIndex >= 0, firstIndex + patterns.count / P <= scan.count else {
            throw STEMError.invalidParameter(name: "block", value: "\(patterns.count / max(P, 1)) patterns at \(firstIndex)",
                                             expected: "whole \(detector) patterns inside 0..<\(scan.count)")
        }
        if ByteOrder.native == .little {
            try file.write(at: dataOffset + firstIndex * P * 4, bytes: UnsafeRawBufferPointer(patterns))
        } else {
            let swapped = patterns.map { $0.bitPattern.littleEndian }
            try swapped.withUnsafeBytes { try file.write(at: dataOffset + firstIndex * P * 4, bytes: $0) }
        }
    }
}
