// libFuzzer target: the ASTAR blockfile header parser, then a read of every pattern from the bytes.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzBlockfile(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let h = try? BlockfileHeader.parse(bytes, path: "fuzz.blo", fileLength: size) else { return 0 }
    var sum: Float = 0
    bytes.withUnsafeBytes { b in
        var out = [Float](repeating: 0, count: h.detector.pixelCount)
        for i in 0 ..< h.scan.count {
            convertToFloat(b.baseAddress! + h.dataOffset + i * h.frameStride + 6, type: .uint8, order: .little,
                           count: out.count, into: &out)
            sum += out[0]
        }
    }
    _ = h.encoded()
    return sum.isNaN ? 1 : 0
}
