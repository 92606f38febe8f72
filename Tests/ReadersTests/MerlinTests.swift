import Readers
import STEMCore
import Testing

/// A Merlin frame header as the detector writes it (fields as in rosettasciio's and LiberTEM's readers).
func merlinHeader(sequence: Int, depthName: String, width: Int, height: Int, chips: Int = 1, layout: String = "   1x1",
                  counterDepth: Int = 12, size: Int = 384) -> [UInt8] {
    func pad(_ v: Int, _ n: Int) -> String { let s = String(v); return String(repeating: "0", count: max(0, n - s.count)) + s }
    var fields = ["MQ1", pad(sequence, 6), pad(size, 5), pad(chips, 2), pad(width, 4), pad(height, 4), depthName, layout, "0F",
                  "2020-05-18 16:51:49.971626", "0.000555", "0", "0", "0"]
    fields += Array(repeating: "1.200000E+1", count: 8) + ["3RX"] + Array(repeating: "100", count: 27)
    fields += ["MQ1A", "2020-05-18T14:51:49.971626178Z", "555000ns", String(counterDepth), ""]
    var bytes = Array(fields.joined(separator: ",").utf8)
    bytes += [UInt8](repeating: 0, count: size - bytes.count)
    return bytes
}

/// Raw-mode encoding of one readout row, the inverse of the documented decoding (LiberTEM's encoders).
func encodeRawRow(_ row: [Int], depth: Int) -> [UInt8] {
    switch depth {
    case 1:
        var out = [UInt8](repeating: 0, count: row.count / 8)
        for stripe in 0 ..< row.count / 64 {
            for byte in 0 ..< 8 {
                var b: UInt8 = 0
                for bit in 0 ..< 8 { b |= UInt8(row[64 * stripe + 8 * byte + bit] & 1) << UInt8(bit) }
                out[(stripe + 1) * 8 - (byte + 1)] = b
            }
        }
        return out
    case 6:
        return (0 ..< row.count).map { i in UInt8(row[(i / 8 + 1) * 8 - i % 8 - 1]) }
    default:
        return (0 ..< row.count).flatMap { i -> [UInt8] in
            let v = row[(i / 4 + 1) * 4 - i % 4 - 1]
            return [UInt8(v >> 8), UInt8(v & 0xFF)]
        }
    }
}

@Suite struct MerlinTests {
    let detector = DetectorShape(rows: 6, columns: 8)

    func writeProcessed(_ folder: String, depthName: String, byteSize: Int, frames: Int, hdr: String?) throws -> [Float] {
        let values = testPatterns(count: frames, pixels: detector.pixelCount, maximum: byteSize == 1 ? 256 : 60000, seed: 11)
        var bytes: [UInt8] = []
        for f in 0 ..< frames {
            bytes += merlinHeader(sequence: f + 1, depthName: depthName, width: 8, height: 6)
            for v in values[f * 48 ..< (f + 1) * 48] {
                let u = UInt32(v)
                bytes += byteSize == 1 ? [UInt8(u)] : byteSize == 2 ? be(UInt16(u)) : be(u)
            }
        }
        try writeFile(folder + "/scan.mib", bytes)
        if let hdr { try writeFile(folder + "/scan.hdr", Array(hdr.utf8)) }
        return values
    }

    @Test func processedFramesWithHdrGiveScanAndFlippedPatterns() throws {
        for (name, size) in [("U08", 1), ("U16", 2), ("U32", 4)] {
            let folder = temporaryFolder("mib")
            let values = try writeProcessed(folder, depthName: name, byteSize: size, frames: 12,
                                            hdr: "HDR,\t\nFrames in Acquisition (Number):\t12\nFrames per Trigger (Number):\t4\nEnd\t\n")
            let source = try openPatternSource(path: folder + "/scan.mib")
            #expect(source.formatName == "mib")
            #expect(source.scan == ScanGrid(rows: 3, columns: 4))
            #expect(source.detector == detector)
            #expect(try expectSameInParts(source, flipped(values, detector: detector)))
            let unflipped = try MerlinPatternSource(path: folder + "/scan.mib", options: ReaderOptions(merlinFlipRows: false))
            #expect(try expectSameInParts(unflipped, values))
        }
    }

    @Test func scanShapeFromOptionsAndSingleRowWithoutHdr() throws {
        let folder = temporaryFolder("mib")
        let values = try writeProcessed(folder, depthName: "U16", byteSize: 2, frames: 6, hdr: nil)
        let row = try MerlinPatternSource(path: folder + "/scan.mib", options: ReaderOptions(merlinFlipRows: false))
        #expect(row.scan == ScanGrid(rows: 1, columns: 6))
        let given = try MerlinPatternSource(path: folder + "/scan.mib", options: ReaderOptions(scan: ScanGrid(rows: 2, columns: 3), merlinFlipRows: false))
        #expect(given.scan == ScanGrid(rows: 2, columns: 3))
        #expect(try expectSameInParts(given, values))
    }

    @Test func rawSingleChipAllCounterDepths() throws {
        for depth in [1, 6, 12, 24] {
            let w = 64, h = 3, frames = 5
            let maximum = depth == 1 ? 2 : depth == 6 ? 64 : depth == 12 ? 4096 : 1 << 24
            let values = testPatterns(count: frames, pixels: w * h, maximum: maximum, seed: UInt64(depth))
            var bytes: [UInt8] = []
            for f in 0 ..< frames {
                let image = values[f * w * h ..< (f + 1) * w * h].map { Int($0) }
                bytes += merlinHeader(sequence: f + 1, depthName: "R64", width: depth == 24 ? 2 * w : w, height: h, counterDepth: depth)
                if depth == 24 {
                    bytes += encodeRawRow(image.map { $0 >> 12 }, depth: 12)
                    bytes += encodeRawRow(image.map { $0 & 0xFFF }, depth: 12)
                } else {
                    for r in 0 ..< h { bytes += encodeRawRow(Array(image[r * w ..< (r + 1) * w]), depth: depth) }
                }
            }
            let folder = temporaryFolder("mibraw")
            try writeFile(folder + "/raw.mib", bytes)
            let source = try MerlinPatternSource(path: folder + "/raw.mib", options: ReaderOptions(merlinFlipRows: false))
            #expect(source.detector == DetectorShape(rows: h, columns: w), "depth \(depth)")
            #expect(source.scan.count == frames)
            #expect(try expectSameInParts(source, values), "depth \(depth)")
        }
    }

    @Test func rawQuadReassemblesTheFourChips() throws {
        for depth in [1, 6, 12] {
            let q = 64, H = 4, frames = 3  // each chip q x H here (real chips are 256 x 256)
            let outW = 2 * q, outH = 2 * H
            let maximum = depth == 1 ? 2 : depth == 6 ? 64 : 4096
            let values = testPatterns(count: frames, pixels: outW * outH, maximum: maximum, seed: 40 + UInt64(depth))
            var bytes: [UInt8] = []
            for f in 0 ..< frames {
                let img = values[f * outW * outH ..< (f + 1) * outW * outH].map { Int($0) }
                func px(_ r: Int, _ c: Int) -> Int { img[img.startIndex + r * outW + c] }
                bytes += merlinHeader(sequence: f + 1, depthName: "R64", width: 4 * q, height: H, chips: 4, layout: "   2x2",
                                      counterDepth: depth, size: 768)
                for r in 0 ..< H {
                    // Readout row r: [chip 4 | chip 3 | chip 2 | chip 1]; chips 3 and 4 rotated by 180 degrees.
                    let chip1 = (0 ..< q).map { px(r, $0) }
                    let chip2 = (0 ..< q).map { px(r, q + $0) }
                    let chip3 = (0 ..< q).map { px(outH - 1 - r, q - 1 - $0) }
                    let chip4 = (0 ..< q).map { px(outH - 1 - r, 2 * q - 1 - $0) }
                    bytes += encodeRawRow(chip4 + chip3 + chip2 + chip1, depth: depth)
                }
            }
            let folder = temporaryFolder("mibquad")
            try writeFile(folder + "/quad.mib", bytes)
            let source = try MerlinPatternSource(path: folder + "/quad.mib", options: ReaderOptions(merlinFlipRows: false))
            #expect(source.detector == DetectorShape(rows: outH, columns: outW))
            #expect(try expectSameInParts(source, values), "quad depth \(depth)")
        }
    }

    @Test func badInputNamesFileAndField() throws {
        let folder = temporaryFolder("mibbad")
        // Unknown counter depth in raw mode.
        try writeFile(folder + "/depth.mib", merlinHeader(sequence: 1, depthName: "R64", width: 64, height: 2, counterDepth: 7) + [UInt8](repeating: 0, count: 128))
        let depth = errorText { _ = try MerlinPatternSource(path: folder + "/depth.mib") }
        #expect(depth?.contains("depth.mib") == true && depth?.contains("counter depth") == true && depth?.contains("1, 6, 12 or 24") == true)
        // Unknown pixel depth.
        try writeFile(folder + "/type.mib", merlinHeader(sequence: 1, depthName: "U12", width: 8, height: 6) + [UInt8](repeating: 0, count: 96))
        #expect(errorText { _ = try MerlinPatternSource(path: folder + "/type.mib") }?.contains("pixel depth") == true)
        // Shorter than one frame.
        try writeFile(folder + "/short.mib", merlinHeader(sequence: 1, depthName: "U16", width: 8, height: 6) + [UInt8](repeating: 0, count: 10))
        #expect(errorText { _ = try MerlinPatternSource(path: folder + "/short.mib") }?.contains("file too short") == true)
        // A header size that lies (larger than allowed).
        var lying = merlinHeader(sequence: 1, depthName: "U16", width: 8, height: 6)
        lying.replaceSubrange(11 ..< 16, with: Array("99999".utf8))
        try writeFile(folder + "/lying.mib", lying)
        #expect(errorText { _ = try MerlinPatternSource(path: folder + "/lying.mib") }?.contains("header size") == true)
        // A scan larger than the frames in the file.
        _ = try writeProcessed(folder, depthName: "U16", byteSize: 2, frames: 4, hdr: nil)
        let big = errorText { _ = try MerlinPatternSource(path: folder + "/scan.mib", options: ReaderOptions(scan: ScanGrid(rows: 3, columns: 3))) }
        #expect(big?.contains("9 frames") == true && big?.contains("found 4 frames") == true)
        // A frame whose header is not where the first header says.
        var bytes = merlinHeader(sequence: 1, depthName: "U08", width: 8, height: 6) + [UInt8](repeating: 1, count: 48)
        bytes += [UInt8](repeating: 0x41, count: 384 + 48)
        try writeFile(folder + "/frame2.mib", bytes)
        let s = try MerlinPatternSource(path: folder + "/frame2.mib")
        #expect(errorText { _ = try s.readBlock(0 ..< 2) }?.contains("frame 1 header") == true)
        // Header parser on garbage.
        #expect(throws: STEMError.self) { _ = try MerlinHeader.parse(Array("MQ1,1,2".utf8), path: "x") }
    }
}
