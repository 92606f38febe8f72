// libFuzzer target: the DigitalMicrograph tag-tree walker and image selection, then a read of the data.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDM(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let source = MemoryBytes(Array(UnsafeBufferPointer(start: data, count: size)), path: "fuzz.dm4")
    guard let tree = try? DMTagTree.parse(source),
          let layout = try? DMLayout(tree: tree, path: "fuzz.dm4", fileLength: size) else { return 0 }
    var out = [Float](repeating: 0, count: layout.detector.pixelCount * layout.scan.count)
    source.bytes.withUnsafeBytes { b in
        convertToFloat(b.baseAddress! + layout.dataOffset, type: layout.elementType, order: layout.byteOrder,
                       count: out.count, into: &out)
    }
    return 0
}
