import CPNG
import STEMCore

/// Grey PNG patterns (8- or 16-bit), decoded with libpng's simplified API, which reports errors by return
/// value (no longjmp through Swift frames). 16-bit files are read as linear values (libpng's default for
/// 16-bit data without a gAMA chunk), 8-bit files as stored.
public enum PNGImage {
    public static let magic: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// Shape and sample type of the PNG in `bytes`.
    public static func header(_ bytes: [UInt8], path: String) throws -> (DetectorShape, ElementType) {
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        defer { png_image_free(&image) }
        let ok = bytes.withUnsafeBytes { png_image_begin_read_from_memory(&image, $0.baseAddress, $0.count) }
        guard ok != 0 else { throw STEMError.badFormat(path: path, location: "PNG header", expected: "a PNG image", found: message(image)) }
        guard image.format & UInt32(PNG_FORMAT_FLAG_COLOR) == 0 else {
            throw STEMError.unsupportedType(path: path, field: "PNG colour type", type: "colour; stemrun reads grey patterns")
        }
        guard image.width > 0, image.height > 0, image.width <= 1 << 16, image.height <= 1 << 16 else {
            throw STEMError.badFormat(path: path, location: "PNG IHDR", expected: "1...65536 pixels", found: "\(image.width) x \(image.height)")
        }
        let sixteen = image.format & UInt32(PNG_FORMAT_FLAG_LINEAR) != 0
        return (DetectorShape(rows: Int(image.height), columns: Int(image.width)), sixteen ? .uint16 : .uint8)
    }

    /// Decodes the grey PNG in `bytes` into `out` (`rows * columns` values).
    public static func decode(_ bytes: [UInt8], path: String, expected: DetectorShape, into out: UnsafeMutablePointer<Float>) throws {
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        defer { png_image_free(&image) }
        let ok = bytes.withUnsafeBytes { png_image_begin_read_from_memory(&image, $0.baseAddress, $0.count) }
        guard ok != 0 else { throw STEMError.badFormat(path: path, location: "PNG header", expected: "a PNG image", found: message(image)) }
        guard Int(image.width) == expected.columns, Int(image.height) == expected.rows else {
            throw STEMError.shapeMismatch(path: path, field: "PNG size", expected: "\(expected)", found: "\(image.height) x \(image.width)")
        }
        guard image.format & UInt32(PNG_FORMAT_FLAG_COLOR) == 0 else {
            throw STEMError.unsupportedType(path: path, field: "PNG colour type", type: "colour; stemrun reads grey patterns")
        }
        let n = expected.pixelCount
        if image.format & UInt32(PNG_FORMAT_FLAG_LINEAR) != 0 {
            image.format = UInt32(PNG_FORMAT_LINEAR_Y)
            var buffer = [UInt16](repeating: 0, count: n)
            let done = buffer.withUnsafeMutableBytes { png_image_finish_read(&image, nil, $0.baseAddress, 0, nil) }
            guard done != 0 else { throw STEMError.badFormat(path: path, location: "PNG data", expected: "decodable image data", found: message(image)) }
            for i in 0 ..< n { out[i] = Float(buffer[i]) }
        } else {
            image.format = UInt32(PNG_FORMAT_GRAY)
            var buffer = [UInt8](repeating: 0, count: n)
            let done = buffer.withUnsafeMutableBytes { png_image_finish_read(&image, nil, $0.baseAddress, 0, nil) }
            guard done != 0 else { throw STEMError.badFormat(path: path, location: "PNG data", expected: "decodable image data", found: message(image)) }
            for i in 0 ..< n { out[i] = Float(buffer[i]) }
        }
    }

    /// Encodes one pattern as an 8- or 16-bit grey PNG file at `path`.
    public static func write(_ pattern: UnsafeBufferPointer<Float>, detector: DetectorShape, bitDepth: Int,
                             scaling: IntensityScaling = .clip, to path: String) throws {
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        image.width = UInt32(detector.columns)
        image.height = UInt32(detector.rows)
        let n = detector.pixelCount
        let ok: Int32
        if bitDepth == 16 {
            image.format = UInt32(PNG_FORMAT_LINEAR_Y)
            let buffer = (0 ..< n).map { UInt16(scaling.quantize(pattern[$0], maximum: 65535)) }
            ok = buffer.withUnsafeBytes { png_image_write_to_file(&image, path, 0, $0.baseAddress, 0, nil) }
        } else {
            image.format = UInt32(PNG_FORMAT_GRAY)
            let buffer = (0 ..< n).map { UInt8(scaling.quantize(pattern[$0], maximum: 255)) }
            ok = buffer.withUnsafeBytes { png_image_write_to_file(&image, path, 0, $0.baseAddress, 0, nil) }
        }
        guard ok != 0 else { throw STEMError.outputFailed(path: path, detail: message(image)) }
    }

    static func message(_ image: png_image) -> String {
        var m = image.message
        return withUnsafeBytes(of: &m) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }
}
