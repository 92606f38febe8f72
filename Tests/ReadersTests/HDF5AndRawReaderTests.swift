import Foundation
import HDF5
import Readers
import STEMCore
import Testing

/// The HDF5 and raw readers return exactly the values written, for every supported type, layout and
/// partition of the scan.
@Suite struct HDF5AndRawReaderTests {
    let scan = ScanGrid(rows: 5, columns: 4)
    let detector = DetectorShape(rows: 6, columns: 7)

    func truth() -> [Float] {
        (0 ..< scan.count * detector.pixelCount).map { Float(($0 * 37) % 251) }
    }

    func tempPath(_ name: String) -> String { NSTemporaryDirectory() + "readers-\(UUID().uuidString.prefix(8))-" + name }

    /// Reads all positions in the blocks of `parts` ranks and concatenates.
    func readPartitioned(_ source: PatternSource, parts: Int) throws -> [Float] {
        var out: [Float] = []
        let partition = ScanPartition(total: source.scan.count, parts: parts)
        for r in 0 ..< parts {
            for chunk in ScanPartition.chunks(of: partition.range(of: r), size: 3) {
                out += try source.readBlock(chunk).pixels
            }
        }
        return out
    }

    func check<T: H5Scalar>(_ type: T.Type, fourD: Bool, chunked: Bool, convert: (Float) -> T) throws {
        let path = tempPath("t.h5")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let values = truth()
        do {
            let f = try H5File.create(path)
            let shape = fourD ? [scan.rows, scan.columns, detector.rows, detector.columns]
                              : [scan.count, detector.rows, detector.columns]
            let ds = try f.createDataset("entry/data", of: T.self, shape: shape,
                                         chunks: chunked ? [2] + shape.dropFirst() : nil)
            let typed = values.map(convert)
            try typed.withUnsafeBufferPointer { try ds.write(start: shape.map { _ in 0 }, count: shape, from: $0) }
        }
        let source = try HDF5PatternSource(path: path, scanShape: fourD ? nil : scan)
        #expect(source.datasetPath == "entry/data")
        #expect(source.scan == scan && source.detector == detector)
        #expect(source.elementType == T.elementType)
        for parts in [1, 2, 3] { #expect(try readPartitioned(source, parts: parts) == values) }
    }

    @Test func hdf5EveryTypeAndLayout() throws {
        for fourD in [true, false] {
            for chunked in [true, false] {
                try check(UInt8.self, fourD: fourD, chunked: chunked) { UInt8($0) }
                try check(UInt16.self, fourD: fourD, chunked: chunked) { UInt16($0) }
                try check(UInt32.self, fourD: fourD, chunked: chunked) { UInt32($0) }
                try check(Int16.self, fourD: fourD, chunked: chunked) { Int16($0) }
                try check(Int32.self, fourD: fourD, chunked: chunked) { Int32($0) }
                try check(Float.self, fourD: fourD, chunked: chunked) { $0 }
                try check(Double.self, fourD: fourD, chunked: chunked) { Double($0) }
            }
        }
    }

    @Test func rawWithHeadersFootersAndBigEndian() throws {
        let values = truth()
        let header = 17, fh = 5, ff = 2 * detector.columns * 2
        var bytes = [UInt8](repeating: 0xAB, count: header)
        for i in 0 ..< scan.count {
            bytes += [UInt8](repeating: 0xCD, count: fh)
            for v in values[i * detector.pixelCount ..< (i + 1) * detector.pixelCount] {
                let u = UInt16(v)
                bytes += [UInt8(u >> 8), UInt8(u & 0xFF)]
            }
            bytes += [UInt8](repeating: 0xEF, count: ff)
        }
        let path = tempPath("t.raw")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try #require(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
        let source = try RawPatternSource(path: path, layout: RawLayout(
            scan: scan, detector: detector, elementType: .uint16, byteOrder: .big, headerBytes: header,
            frameHeaderBytes: fh, frameFooterBytes: ff))
        for parts in [1, 2, 3] { #expect(try readPartitioned(source, parts: parts) == values) }
    }

    @Test func rawFloat32LittleEndianThroughInputSpec() throws {
        let values = truth()
        let path = tempPath("t.bin")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try #require(values.withUnsafeBytes { FileManager.default.createFile(atPath: path, contents: Data($0)) })
        let spec = InputSpec(path: path, scanShape: scan, detectorShape: detector, elementType: .float32)
        let source = try spec.open()
        #expect(source.formatName == "raw")
        #expect(try source.readBlock(0 ..< scan.count).pixels == values)
    }

    @Test func rawTooShortNamesSizes() throws {
        let path = tempPath("short.raw")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try #require(FileManager.default.createFile(atPath: path, contents: Data(count: 100)))
        #expect {
            _ = try RawPatternSource(path: path, layout: RawLayout(scan: scan, detector: detector, elementType: .uint8))
        } throws: { error in
            let text = String(describing: error)
            return text.contains(path) && text.contains("840 bytes") && text.contains("100 bytes")
        }
    }

    @Test func hdf5AutoDetectsTheLargestPatternDataset() throws {
        let path = tempPath("multi.h5")
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            let f = try H5File.create(path)
            try f.writeDataset("small", [Float](repeating: 0, count: 8), shape: [2, 2, 2])
            try f.writeDataset("meta/scale", [1.0, 2.0])
            let ds = try f.createDataset("big/frames", of: UInt16.self, shape: [2, 3, 4, 4])
            try [UInt16](repeating: 7, count: 96).withUnsafeBufferPointer {
                try ds.write(start: [0, 0, 0, 0], count: [2, 3, 4, 4], from: $0)
            }
            try ds.setAttribute("detector_distance_m", 0.25)
        }
        let source = try HDF5PatternSource(path: path)
        #expect(source.datasetPath == "big/frames")
        #expect(source.metadata.contains { $0.0 == "detector_distance_m" && $0.1 == "0.25" })
    }
}
