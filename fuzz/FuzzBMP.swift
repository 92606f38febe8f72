// libFuzzer target: the BMP header parser and decoding of the image it describes.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzBMP(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let image = try? BMPImage.parse(bytes, path: "fuzz.bmp") else { return 0 }
    var out = [Float](repeating: 0, count: image.detector.pixelCount)
    bytes.withUnsafeBytes { b in out.withUnsafeMutableBufferPointer { image.decode(b, into: $0.baseAddress!) } }
    return 0
}
