import Readers
import STEMCore
import Testing

@Suite struct BlockfileTests {
    let scan = ScanGrid(rows: 3, columns: 4)
    let detector = DetectorShape(rows: 9, columns: 9)

    func written(_ folder: String) throws -> [Float] {
        let values = testPatterns(count: scan.count, pixels: detector.pixelCount, maximum: 256, seed: 3)
        var header = BlockfileHeader(scan: scan, patternSize: 9)
        header.beamEnergy = 200_000
        header.note = "Precession angle : 0.5"
        let writer = try BlockfileWriter(path: folder + "/a.blo", scan: scan, patternSize: 9, header: header)
        // Written out of order in three blocks, as three ranks would.
        let partition = ScanPartition(total: scan.count, parts: 3)
        for part in [2, 0, 1] {
            let r = partition.range(of: part)
            try writer.write(PatternBlock(firstIndex: r.lowerBound, count: r.count, detector: detector,
                                          pixels: Array(values[r.lowerBound * 81 ..< r.upperBound * 81])))
        }
        return values
    }

    @Test func writerAndReaderRoundTripWithHeaderAndNavigator() throws {
        let folder = temporaryFolder("blo")
        let values = try written(folder)
        let source = try openPatternSource(path: folder + "/a.blo")
        #expect(source.formatName == "blo")
        #expect(source.scan == scan && source.detector == detector && source.elementType == .uint8)
        #expect(try expectSameInParts(source, values))
        let blo = try #require(source as? BlockfilePatternSource)
        #expect(blo.header.beamEnergy == 200_000 && blo.header.note == "Precession angle : 0.5")
        #expect(blo.header.dataOffset == 0x1000 + 12 + 12)  // rosettasciio's rule: offset += offset % 16
        let navigator = try blo.navigator()
        for i in 0 ..< scan.count {
            let mean = values[i * 81 ..< (i + 1) * 81].reduce(0, +) / 81
            #expect(abs(Float(navigator[i]) - mean) <= 0.5 + 1e-3)
        }
    }

    @Test func writerScalesAndClipsFloats() throws {
        let folder = temporaryFolder("blo")
        let d = DetectorShape(rows: 2, columns: 2)
        let w = try BlockfileWriter(path: folder + "/s.blo", scan: ScanGrid(rows: 1, columns: 1), patternSize: 2,
                                    scaling: .linear(low: 0, high: 10))
        try w.write(PatternBlock(firstIndex: 0, count: 1, detector: d, pixels: [-1, 5, 10, .nan]))
        #expect(try BlockfilePatternSource(path: folder + "/s.blo").readBlock(0 ..< 1).pixels == [0, 128, 255, 0])
        let c = try BlockfileWriter(path: folder + "/c.blo", scan: ScanGrid(rows: 1, columns: 1), patternSize: 2)
        try c.write(PatternBlock(firstIndex: 0, count: 1, detector: d, pixels: [-3, 2.4, 2.6, 300]))
        #expect(try BlockfilePatternSource(path: folder + "/c.blo").readBlock(0 ..< 1).pixels == [0, 2, 3, 255])
    }

    @Test func badInput() throws {
        let folder = temporaryFolder("blobad")
        _ = try written(folder)
        let good = try PositionalFile(path: folder + "/a.blo").bytes(at: 0, count: PositionalFile(path: folder + "/a.blo").length)
        var magic = good; magic[0] = 0x58
        try writeFile(folder + "/magic.blo", magic)
        #expect(errorText { _ = try BlockfilePatternSource(path: folder + "/magic.blo") }?.contains("'IMGBLO'") == true)
        try writeFile(folder + "/short.blo", Array(good.dropLast(5)))
        let short = errorText { _ = try BlockfilePatternSource(path: folder + "/short.blo") }
        #expect(short?.contains("short.blo") == true && short?.contains("NX * NY") == true)
        var lying = good; lying[24] = 0xFF; lying[25] = 0x7F  // NX = 32767
        try writeFile(folder + "/lying.blo", lying)
        #expect(errorText { _ = try BlockfilePatternSource(path: folder + "/lying.blo") } != nil)
        try writeFile(folder + "/tiny.blo", Array(good.prefix(100)))
        #expect(errorText { _ = try BlockfilePatternSource(path: folder + "/tiny.blo") }?.contains("file too short") == true)
        #expect(errorText { _ = try BlockfilePatternSource(path: folder + "/none.blo") }?.contains("no such file") == true)
    }
}

@Suite struct EMPADTests {
    func xml(raw: String, body: String) -> [UInt8] {
        Array("<root name=\"acquisition\"><raw_file filename=\"\(raw)\"/>\(body)</root>".utf8)
    }

    /// Frames of 128 x 130 little-endian floats; the last 2 rows are metadata the reader drops.
    func rawFrames(_ count: Int) -> (bytes: [UInt8], patterns: [Float]) {
        var r = TestRandom(state: 5)
        var bytes: [UInt8] = [], patterns: [Float] = []
        for _ in 0 ..< count {
            for row in 0 ..< 130 {
                for _ in 0 ..< 128 {
                    let v = Float(r.below(100_000)) / 7 - 1000
                    bytes += le(v.bitPattern)
                    if row < 128 { patterns.append(v) }
                }
            }
        }
        return (bytes, patterns)
    }

    @Test func scanFromPixXYAndSeriesCount() throws {
        let folder = temporaryFolder("empad")
        let (bytes, patterns) = rawFrames(6)
        try writeFile(folder + "/scan_x3_y2.raw", bytes)
        try writeFile(folder + "/map.xml", xml(raw: "scan_x3_y2.raw", body: "<pix_x>3</pix_x><pix_y>2</pix_y>"))
        let s = try openPatternSource(path: folder + "/map.xml")
        #expect(s.formatName == "empad" && s.scan == ScanGrid(rows: 2, columns: 3) && s.detector == DetectorShape(rows: 128, columns: 128))
        #expect(try expectSameInParts(s, patterns))
        try writeFile(folder + "/stack.xml", xml(raw: "scan_x3_y2.raw", body: "<scan_parameters><series_count>5</series_count></scan_parameters>"))
        let stack = try EMPADPatternSource(path: folder + "/stack.xml")
        #expect(stack.scan == ScanGrid(rows: 1, columns: 5))
        #expect(try expectSameInParts(stack, Array(patterns.prefix(5 * 128 * 128))))
        try writeFile(folder + "/byname.xml", xml(raw: "scan_x3_y2.raw", body: ""))
        #expect(try EMPADPatternSource(path: folder + "/byname.xml").scan == ScanGrid(rows: 2, columns: 3))
    }

    @Test func badInput() throws {
        let folder = temporaryFolder("empadbad")
        try writeFile(folder + "/missing.xml", xml(raw: "nothere.raw", body: "<pix_x>2</pix_x><pix_y>2</pix_y>"))
        #expect(errorText { _ = try EMPADPatternSource(path: folder + "/missing.xml") }?.contains("nothere.raw") == true)
        try writeFile(folder + "/short.raw", rawFrames(3).bytes)
        try writeFile(folder + "/short.xml", xml(raw: "short.raw", body: "<pix_x>2</pix_x><pix_y>2</pix_y>"))
        let short = errorText { _ = try EMPADPatternSource(path: folder + "/short.xml") }
        #expect(short?.contains("short.raw") == true && short?.contains("file too short") == true)
        try writeFile(folder + "/noscan.xml", xml(raw: "short.raw", body: ""))
        #expect(errorText { _ = try EMPADPatternSource(path: folder + "/noscan.xml") }?.contains("pix_x") == true)
        try writeFile(folder + "/neg.xml", xml(raw: "short.raw", body: "<pix_x>-2</pix_x><pix_y>2</pix_y>"))
        #expect(errorText { _ = try EMPADPatternSource(path: folder + "/neg.xml") }?.contains("positive integer") == true)
    }
}
