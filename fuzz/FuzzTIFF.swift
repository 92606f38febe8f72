// libFuzzer target: the baseline TIFF parser and decoding of the image it describes.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTIFF(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let image = try? TIFFImage.parse(bytes, path: "fuzz.tif") else { return 0 }
    var out = [Float](repeating: 0, count: image.detector.pixelCount)
    bytes.withUnsafeBytes { b in out.withUnsafeMutableBufferPointer { image.decode(b, into: $0.baseAddress!) } }
    return 0
}
