import CPNG
import Foundation
import STEMCore

/// An 8-bit image in memory (grey or RGB), written and read with libpng's simplified API.
public struct PNGImage: Sendable {
    public enum Channels: Int, Sendable { case gray = 1, rgb = 3, rgba = 4 }
    public var width: Int
    public var height: Int
    public var channels: Channels
    /// Row-major samples, `channels` per pixel.
    public var samples: [UInt8]

    public init(width: Int, height: Int, channels: Channels, samples: [UInt8]) {
        precondition(samples.count == width * height * channels.rawValue)
        self.width = width
        self.height = height
        self.channels = channels
        self.samples = samples
    }

    private var pngFormat: UInt32 {
        switch channels {
        case .gray: return UInt32(PNG_FORMAT_GRAY)
        case .rgb: return UInt32(PNG_FORMAT_FLAG_COLOR)
        case .rgba: return UInt32(PNG_FORMAT_FLAG_COLOR | PNG_FORMAT_FLAG_ALPHA)
        }
    }

    /// Writes the image to `path` (through a temporary name, renamed when complete).
    public func write(to path: String) throws {
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        image.width = UInt32(width)
        image.height = UInt32(height)
        image.format = pngFormat
        let tmp = path + ".partial"
        let ok = samples.withUnsafeBufferPointer {
            png_image_write_to_file(&image, tmp, 0, $0.baseAddress, Int32(width * channels.rawValue), nil)
        }
        guard ok != 0 else {
            let message = withUnsafeBytes(of: image.message) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            png_image_free(&image)
            unlink(tmp)
            throw STEMError.outputFailed(path: path, detail: "libpng: \(message)")
        }
        guard rename(tmp, path) == 0 else {
            throw STEMError.outputFailed(path: path, detail: "rename from \(tmp) failed: \(String(cString: strerror(errno)))")
        }
    }

    /// Reads an 8-bit PNG (converted to `channels`).
    public static func read(from path: String, channels: Channels = .rgb) throws -> PNGImage {
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        guard png_image_begin_read_from_file(&image, path) != 0 else { throw STEMError.fileNotFound(path: path) }
        let proto = PNGImage(width: 0, height: 0, channels: channels, samples: [])
        image.format = proto.pngFormat
        let w = Int(image.width), h = Int(image.height)
        var buf = [UInt8](repeating: 0, count: w * h * channels.rawValue)
        let ok = buf.withUnsafeMutableBufferPointer {
            png_image_finish_read(&image, nil, $0.baseAddress, Int32(w * channels.rawValue), nil)
        }
        guard ok != 0 else {
            png_image_free(&image)
            throw STEMError.badFormat(path: path, location: "PNG stream", expected: "a readable PNG", found: "libpng error")
        }
        return PNGImage(width: w, height: h, channels: channels, samples: buf)
    }
}
