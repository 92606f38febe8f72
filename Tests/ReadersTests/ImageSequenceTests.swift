import Readers
import STEMCore
import Testing

@Suite struct ImageSequenceTests {
    let detector = DetectorShape(rows: 5, columns: 7)  // odd width: BMP rows are padded

    @Test func bmpTiffPngSequencesInNaturalOrder() throws {
        let values8 = testPatterns(count: 11, pixels: 35, maximum: 256, seed: 21)
        let values16 = testPatterns(count: 11, pixels: 35, maximum: 65536, seed: 22)
        let scan = ScanGrid(rows: 1, columns: 11)
        for (kind, values) in [("bmp8", values8), ("bmp16", values16), ("tif8", values8), ("tif16", values16), ("tif32", values16.map { $0 / 3 - 7 }), ("png8", values8), ("png16", values16)] {
            let folder = temporaryFolder(kind)
            for i in 0 ..< 11 {
                try values.withUnsafeBufferPointer { all in
                    let p = UnsafeBufferPointer(rebasing: all[i * 35 ..< (i + 1) * 35])
                    let name = folder + "/p\(i + 1)"  // p2 sorts before p10
                    switch kind {
                    case "bmp8", "bmp16": try writeFile(name + ".bmp", BMPImage.encode(p, detector: detector, bitDepth: kind == "bmp8" ? 8 : 16, scaling: .clip))
                    case "tif8": try writeFile(name + ".tif", TIFFImage.encode(p, detector: detector, type: .uint8))
                    case "tif16": try writeFile(name + ".tif", TIFFImage.encode(p, detector: detector, type: .uint16))
                    case "tif32": try writeFile(name + ".tiff", TIFFImage.encode(p, detector: detector, type: .float32))
                    default: try PNGImage.write(p, detector: detector, bitDepth: kind == "png8" ? 8 : 16, to: name + ".png")
                    }
                }
            }
            let s = try openPatternSource(path: folder, options: ReaderOptions(scan: scan))
            #expect(s.formatName == "images" && s.detector == detector, "\(kind)")
            #expect(try expectSameInParts(s, values), "\(kind)")
        }
    }

    @Test func bmpSequenceWriterNamesFilesInScanOrder() throws {
        let folder = temporaryFolder("bmpw") + "/out"
        let scan = ScanGrid(rows: 3, columns: 4)
        let values = testPatterns(count: 12, pixels: 35, maximum: 256, seed: 4)
        let writer = try BMPSequenceWriter(folder: folder, scan: scan, detector: detector)
        #expect(writer.fileName(3) == "pattern_03.bmp")
        try writer.write(PatternBlock(firstIndex: 6, count: 6, detector: detector, pixels: Array(values[(6 * 35)...])))
        try writer.write(PatternBlock(firstIndex: 0, count: 6, detector: detector, pixels: Array(values[..<(6 * 35)])))
        let s = try ImageSequencePatternSource(path: folder, options: ReaderOptions(scan: scan))
        #expect(try expectSameInParts(s, values))
    }

    @Test func badInput() throws {
        let folder = temporaryFolder("imgbad")
        let p = [Float](repeating: 1, count: 35)
        try p.withUnsafeBufferPointer { try writeFile(folder + "/a1.bmp", BMPImage.encode($0, detector: detector, bitDepth: 8, scaling: .clip)) }
        let other = DetectorShape(rows: 5, columns: 6)
        try p.withUnsafeBufferPointer { try writeFile(folder + "/a2.bmp", BMPImage.encode(UnsafeBufferPointer(rebasing: $0[..<30]), detector: other, bitDepth: 8, scaling: .clip)) }
        let s = try ImageSequencePatternSource(path: folder)
        #expect(errorText { _ = try s.readBlock(0 ..< 2) }?.contains("a2.bmp") == true)
        let bmp = p.withUnsafeBufferPointer { BMPImage.encode($0, detector: detector, bitDepth: 8, scaling: .clip) }
        var colour = bmp
        colour[54 + 4 * 3] = 200  // a colour palette entry
        #expect(errorText { _ = try BMPImage.parse(colour, path: "colour.bmp") }?.contains("palette entry 3") == true)
        #expect(errorText { _ = try BMPImage.parse(Array(bmp.prefix(200)), path: "cut.bmp") }?.contains("file too short") == true)
        #expect(errorText { _ = try BMPImage.parse(Array(bmp.dropLast(3)), path: "cut.bmp") }?.contains("file too short") == true)
        var tif = p.withUnsafeBufferPointer { TIFFImage.encode($0, detector: detector, type: .uint8) }
        #expect(errorText { _ = try TIFFImage.parse(Array(tif.prefix(30)), path: "cut.tif") }?.contains("file too short") == true)
        tif[8 + 35 + 2 + 3 * 12 + 8] = 5  // Compression = 5 (LZW)
        #expect(errorText { _ = try TIFFImage.parse(tif, path: "lzw.tif") }?.contains("Compression") == true)
        let pngFolder = temporaryFolder("pngbad")
        try p.withUnsafeBufferPointer { try PNGImage.write($0, detector: detector, bitDepth: 8, to: pngFolder + "/a1.png") }
        try writeFile(pngFolder + "/a2.png", Array(PNGImage.magic) + Array("not really a png".utf8))
        let png = errorText { _ = try ImageSequencePatternSource(path: pngFolder).readBlock(0 ..< 2) }
        #expect(png?.contains("a2.png") == true && png?.contains("PNG") == true)
    }
}

@Suite struct FormatRegistryTests {
    @Test func detectsByContentAndHonoursOverride() throws {
        let folder = temporaryFolder("registry")
        // A blockfile under a misleading name is still recognised by its magic bytes.
        let w = try BlockfileWriter(path: folder + "/data.dat", scan: ScanGrid(rows: 1, columns: 2), patternSize: 2)
        try w.write(PatternBlock(firstIndex: 0, count: 2, detector: DetectorShape(rows: 2, columns: 2), pixels: [1, 2, 3, 4, 5, 6, 7, 8]))
        #expect(try FormatRegistry.detect(path: folder + "/data.dat")?.name == "blo")
        #expect(try openPatternSource(path: folder + "/data.dat", format: "BLO").readBlock(0 ..< 2).pixels == [1, 2, 3, 4, 5, 6, 7, 8])
        let wrong = errorText { _ = try openPatternSource(path: folder + "/data.dat", format: "mib") }
        #expect(wrong?.contains("'MQ1,'") == true)
        let unknown = errorText { _ = try openPatternSource(path: folder + "/data.dat", format: "xyz") }
        #expect(unknown?.contains("one of mib, blo") == true)
        try writeFile(folder + "/junk.bin", [1, 2, 3, 4, 5])
        #expect(errorText { _ = try openPatternSource(path: folder + "/junk.bin") }?.contains("--format") == true)
        #expect(FormatRegistry.builtIn.map(\.name) == ["mib", "blo", "empad", "dm", "dm-folder", "images"])
    }
}
