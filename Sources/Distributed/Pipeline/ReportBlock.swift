import Foundation
import Imaging
import STEMCore

/// What a stage contributes to the run report. Images are PNG bytes (embedded as data URIs), plots are
/// SVG text (embedded inline as data URIs too, so every figure is an `<img>` the report check can verify).
public enum ReportBlock {
    /// A map or pattern, with an optional colour key.
    case image(title: String, png: Data, caption: String, key: ColorKey?)
    /// A plot (e.g. the k-loss curve with its knee) as SVG.
    case svg(title: String, svg: String, caption: String)
    case table(title: String, header: [String], rows: [[String]])
    case text(String)
}

/// The key of a figure's colours: a continuous colour bar with its limits, or categories (phases, clusters).
public enum ColorKey {
    case continuous(colormap: Colormap, low: Float, high: Float, label: String)
    case categories([(label: String, rgb: (UInt8, UInt8, UInt8))])
}

/// What a stage's `report` gets: the acquisition shape and a scratch folder for encoding images.
public struct ReportContext {
    public let scan: ScanGrid
    public let detector: DetectorShape
    public let scratchFolder: String
}

/// Turning maps into report images.
public enum ReportImages {
    /// PNG bytes of an image (libpng writes files; the bytes are read back and the file removed).
    public static func pngData(_ image: PNGImage, scratch: String) throws -> Data {
        let path = scratch + "/img-\(UUID().uuidString).png"
        try image.write(to: path)
        defer { unlink(path) }
        guard let data = FileManager.default.contents(atPath: path) else { throw STEMError.fileNotFound(path: path) }
        return data
    }

    /// A scan map with a continuous colour key (robust percentile limits).
    public static func scalarMap(title: String, _ values: [Float], scan: ScanGrid, colormap: Colormap = .viridis,
                                 caption: String = "", scratch: String) throws -> ReportBlock {
        let lim = MapRenderer.limits(values)
        let img = MapRenderer.scalar(values, width: scan.columns, height: scan.rows, colormap: colormap, limits: lim,
                                     scale: MapRenderer.upscale(forWidth: scan.columns, height: scan.rows))
        return .image(title: title, png: try pngData(img, scratch: scratch),
                      caption: caption.isEmpty ? "\(scan.rows) x \(scan.columns) scan positions" : caption,
                      key: .continuous(colormap: colormap, low: lim.0, high: lim.1, label: title))
    }

    /// A detector-sized image on a logarithmic grey scale.
    public static func pattern(title: String, _ values: [Float], detector: DetectorShape, scratch: String) throws -> ReportBlock {
        let img = MapRenderer.pattern(values, width: detector.columns, height: detector.rows)
        let s = MapRenderer.upscale(forWidth: detector.columns, height: detector.rows)
        let big = s > 1 ? upscaled(img, by: s) : img
        return .image(title: title, png: try pngData(big, scratch: scratch),
                      caption: "\(detector.rows) x \(detector.columns) detector pixels, log(1 + I)", key: nil)
    }

    /// A horizontal colour bar (256 x 14 pixels) of `colormap`.
    public static func colorBar(_ colormap: Colormap, scratch: String) throws -> Data {
        let w = 256, h = 14
        var samples = [UInt8](repeating: 0, count: w * h * 3)
        for x in 0 ..< w {
            let (r, g, b) = colormap.rgb(Float(x) / Float(w - 1))
            for y in 0 ..< h { let o = (y * w + x) * 3; samples[o] = r; samples[o + 1] = g; samples[o + 2] = b }
        }
        return try pngData(PNGImage(width: w, height: h, channels: .rgb, samples: samples), scratch: scratch)
    }

    static func upscaled(_ img: PNGImage, by s: Int) -> PNGImage {
        let c = img.channels.rawValue, w = img.width * s, h = img.height * s
        var out = [UInt8](repeating: 0, count: w * h * c)
        for y in 0 ..< h { for x in 0 ..< w { for k in 0 ..< c {
            out[(y * w + x) * c + k] = img.samples[((y / s) * img.width + x / s) * c + k]
        } } }
        return PNGImage(width: w, height: h, channels: img.channels, samples: out)
    }
}
