// libFuzzer target: the Merlin frame-header parser, and raw/processed decoding of one frame when the
// input holds one.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMerlin(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let header = try? MerlinHeader.parse(bytes, path: "fuzz.mib") else { return 0 }
    _ = header.detector
    if size >= header.headerBytes + header.dataBytes {
        var out = [Float](repeating: 0, count: header.detector.pixelCount)
        var row = [Float](repeating: 0, count: header.headerWidth)
        bytes.withUnsafeBufferPointer { b in
            out.withUnsafeMutableBufferPointer { o in
                row.withUnsafeMutableBufferPointer { r in
                    if case .processed(let t) = header.encoding {
                        convertToFloat(b.baseAddress! + header.headerBytes, type: t, order: .big, count: o.count, into: o.baseAddress!)
                    } else {
                        MerlinRawDecoding.decodeFrame(b.baseAddress! + header.headerBytes, header: header, into: o.baseAddress!, row: r.baseAddress!)
                    }
                }
            }
        }
    }
    return 0
}
