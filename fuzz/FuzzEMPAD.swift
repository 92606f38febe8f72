// libFuzzer target: the EMPAD XML parser.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzEMPAD(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    _ = try? EMPADHeader.parse(text, path: "fuzz.xml")
    return 0
}
