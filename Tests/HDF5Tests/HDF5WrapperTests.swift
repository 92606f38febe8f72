import Foundation
import HDF5
import Testing

@Suite struct HDF5WrapperTests {
    @Test func attributesGroupsAndStringsRoundTrip() throws {
        let path = NSTemporaryDirectory() + "h5w-\(UUID().uuidString.prefix(8)).h5"
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            let f = try H5File.create(path)
            let g = try f.createGroup("a/b/c")
            try g.setAttribute("name", "grain Ω")
            try g.setAttribute("values", [1.5, 2.5, 3.5])
            try g.setAttribute("count", Int32(7))
            try f.writeStrings("a/labels", ["Al", "Cu"])
            try f.writeDataset("a/numbers", [Int32(1), 2, 3, 4, 5, 6], shape: [2, 3])
        }
        let f = try H5File.open(path)
        #expect(f.exists("a/b/c") && !f.exists("a/x"))
        let g = try f.group("a/b/c")
        #expect(g.stringAttribute("name") == "grain Ω")
        #expect(g.numericAttribute("values") == [1.5, 2.5, 3.5])
        #expect(g.numericAttribute("count") == [7])
        #expect(Set(g.attributeNames()) == ["name", "values", "count"])
        #expect(try f.readStrings("a/labels") == ["Al", "Cu"])
        let d = try f.dataset("a/numbers")
        #expect(d.shape == [2, 3] && d.elementType == .int32)
        var part = [Int32](repeating: 0, count: 2)
        try part.withUnsafeMutableBufferPointer { try d.read(start: [1, 1], count: [1, 2], into: $0) }
        #expect(part == [5, 6])
        #expect(f.datasetPaths().sorted() == ["a/labels", "a/numbers"])
    }

    @Test func scanRangeSelectionCoversPartialRows() throws {
        let path = NSTemporaryDirectory() + "h5s-\(UUID().uuidString.prefix(8)).h5"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let ny = 4, nx = 5, k = 3
        let values = (0 ..< ny * nx * k).map { Float($0) }
        do {
            let f = try H5File.create(path)
            let d = try f.createDataset("m", of: Float.self, shape: [ny, nx, k])
            // Write in three uneven runs, as three ranks would.
            for r in [0 ..< 7, 7 ..< 13, 13 ..< 20] {
                try Array(values[r.lowerBound * k ..< r.upperBound * k]).withUnsafeBufferPointer {
                    try d.write(scanRange: r, scanDims: 2, from: $0)
                }
            }
        }
        let d = try H5File.open(path).dataset("m")
        #expect(try d.readAll(as: Float.self) == values)
        var run = [Float](repeating: 0, count: 9 * k)
        try run.withUnsafeMutableBytes { try d.read(scanRange: 3 ..< 12, scanDims: 2, memoryType: .float32, into: $0.baseAddress) }
        #expect(run == Array(values[3 * k ..< 12 * k]))
    }
}
