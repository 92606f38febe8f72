import Readers
import STEMCore
import Testing

/// Writes minimal DigitalMicrograph files: a thumbnail image and the data image, in DM3 or DM4 layout.
struct DMWriter {
    var version: Int
    func count(_ v: Int) -> [UInt8] { version == 4 ? be(UInt64(v)) : be(UInt32(v)) }
    func name(_ s: String) -> [UInt8] { be(UInt16(s.utf8.count)) + Array(s.utf8) }

    func group(_ tagName: String, _ children: [[UInt8]]) -> [UInt8] {
        let body = [0, 1] + count(children.count) + children.flatMap { $0 }
        return [20] + name(tagName) + (version == 4 ? be(UInt64(body.count)) : []) + body
    }

    func data(_ tagName: String, info: [Int], payload: [UInt8]) -> [UInt8] {
        let body = Array("%%%%".utf8) + count(info.count) + info.flatMap { count($0) } + payload
        return [21] + name(tagName) + (version == 4 ? be(UInt64(body.count)) : []) + body
    }

    func int32(_ tagName: String, _ v: Int) -> [UInt8] { data(tagName, info: [3], payload: le(Int32(v))) }

    func image(dims: [Int], dataType: Int, arrayType: Int, payload: [UInt8], elementSize: Int, dataTypeTag: [UInt8]? = nil) -> [UInt8] {
        group("", [
            group("ImageData", [
                data("Data", info: [20, arrayType, payload.count / elementSize], payload: payload),
                dataTypeTag ?? int32("DataType", dataType),
                group("Dimensions", dims.map { int32("", $0) }),
            ]),
            data("Name", info: [18, 4], payload: Array("test".utf8)),
        ])
    }

    /// A file with an RGBA thumbnail then the data image.
    func file(dims: [Int], dataType: Int, arrayType: Int, payload: [UInt8], elementSize: Int, dataTypeTag: [UInt8]? = nil) -> [UInt8] {
        let thumb = image(dims: [2, 2], dataType: 23, arrayType: 5, payload: [UInt8](repeating: 7, count: 16), elementSize: 4)
        let list = group("ImageList", [thumb, image(dims: dims, dataType: dataType, arrayType: arrayType, payload: payload,
                                                    elementSize: elementSize, dataTypeTag: dataTypeTag)])
        let root = [0, 1] + count(2) + [group("Meta", [data("Struct", info: [15, 0, 2, 0, 3, 0, 6], payload: [UInt8](repeating: 0, count: 8))]), list].flatMap { $0 }
        return be(UInt32(version)) + count(root.count + 16) + be(UInt32(1)) + root
    }
}

@Suite struct DMTests {
    @Test func fourDimensionalDataInBothVersions() throws {
        // DM dimensions (x fastest): kx = 5, ky = 4, scan x = 3, scan y = 2 -> scan 2 x 3, patterns 4 x 5.
        let values = testPatterns(count: 6, pixels: 20, maximum: 60000, seed: 9)
        let payload = values.flatMap { le(UInt16($0)) }
        for version in [3, 4] {
            let folder = temporaryFolder("dm")
            try writeFile(folder + "/a.dm\(version)", DMWriter(version: version).file(dims: [5, 4, 3, 2], dataType: 10, arrayType: 4, payload: payload, elementSize: 2))
            let s = try openPatternSource(path: folder + "/a.dm\(version)")
            #expect(s.formatName == "dm" && s.elementType == .uint16)
            #expect(s.scan == ScanGrid(rows: 2, columns: 3) && s.detector == DetectorShape(rows: 4, columns: 5))
            #expect(try expectSameInParts(s, values))
        }
    }

    @Test func stackAndFolderOfFrames() throws {
        let values = testPatterns(count: 12, pixels: 6, maximum: 1000, seed: 2).map { $0 - 500 }
        let folder = temporaryFolder("dmstack")
        let w = DMWriter(version: 4)
        try writeFile(folder + "/stack.dm4", w.file(dims: [3, 2, 12], dataType: 2, arrayType: 6, payload: values.flatMap { le($0.bitPattern) }, elementSize: 4))
        let stack = try DMPatternSource(path: folder + "/stack.dm4", options: ReaderOptions(scan: ScanGrid(rows: 3, columns: 4)))
        #expect(stack.scan == ScanGrid(rows: 3, columns: 4) && stack.elementType == .float32)
        #expect(try expectSameInParts(stack, values))
        let frames = temporaryFolder("dmframes")
        for i in 0 ..< 12 {  // natural order: f2 before f10
            let p = Array(values[i * 6 ..< (i + 1) * 6]).flatMap { le(Int32($0)) }
            try writeFile(frames + "/f\(i + 1).dm4", w.file(dims: [3, 2], dataType: 7, arrayType: 3, payload: p, elementSize: 4))
        }
        let folderSource = try openPatternSource(path: frames, options: ReaderOptions(scan: ScanGrid(rows: 3, columns: 4)))
        #expect(folderSource.formatName == "dm-folder")
        #expect(try expectSameInParts(folderSource, values))
    }

    @Test func badInput() throws {
        let folder = temporaryFolder("dmbad")
        let w = DMWriter(version: 4)
        let good = w.file(dims: [5, 4, 3, 2], dataType: 10, arrayType: 4, payload: [UInt8](repeating: 1, count: 240), elementSize: 2)
        try writeFile(folder + "/short.dm4", Array(good.prefix(good.count - 300)))
        #expect(errorText { _ = try DMPatternSource(path: folder + "/short.dm4") }?.contains("file too short") == true)
        try writeFile(folder + "/v5.dm4", be(UInt32(5)) + Array(good.dropFirst(4)))
        #expect(errorText { _ = try DMPatternSource(path: folder + "/v5.dm4") }?.contains("version 3 or 4") == true)
        let wrongDims = w.file(dims: [5, 4, 3, 3], dataType: 10, arrayType: 4, payload: [UInt8](repeating: 1, count: 240), elementSize: 2)
        try writeFile(folder + "/dims.dm4", wrongDims)
        #expect(errorText { _ = try DMPatternSource(path: folder + "/dims.dm4") }?.contains("ImageData/Data") == true)
        let complex = w.file(dims: [2, 2], dataType: 3, arrayType: 6, payload: [UInt8](repeating: 0, count: 32), elementSize: 4)
        try writeFile(folder + "/complex.dm4", complex)
        #expect(errorText { _ = try DMPatternSource(path: folder + "/complex.dm4") }?.contains("DM code 3") == true)
        // Fuzzing finding (fixed): a DataType stored as a NaN double trapped on conversion to Int.
        let nan = w.file(dims: [2, 2], dataType: 0, arrayType: 6, payload: [UInt8](repeating: 0, count: 16), elementSize: 4,
                         dataTypeTag: w.data("DataType", info: [7], payload: le(Double.nan.bitPattern)))
        try writeFile(folder + "/nan.dm4", nan)
        #expect(errorText { _ = try DMPatternSource(path: folder + "/nan.dm4") }?.contains("DM code -1") == true)
        // A tag count that lies: the parser stops at the end of the file.
        var lying = good; lying[16 + 2 + 7] = 0x7F
        try writeFile(folder + "/lying.dm4", lying)
        #expect(errorText { _ = try DMPatternSource(path: folder + "/lying.dm4") } != nil)
    }
}
