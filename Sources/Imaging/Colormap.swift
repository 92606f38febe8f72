/// Colour maps and intensity scaling that turn a scalar map into a PNG a person can read.
public enum Colormap: String, Sendable, CaseIterable {
    case gray, viridis, magma

    /// Key colours, interpolated linearly (viridis and magma sampled at 9 points from matplotlib's tables).
    private var keys: [(Float, Float, Float)] {
        switch self {
        case .gray: return [(0, 0, 0), (1, 1, 1)]
        case .viridis:
            return [(0.267, 0.005, 0.329), (0.279, 0.175, 0.483), (0.230, 0.322, 0.546), (0.173, 0.449, 0.558),
                    (0.128, 0.567, 0.551), (0.153, 0.680, 0.504), (0.361, 0.785, 0.388), (0.667, 0.862, 0.196),
                    (0.993, 0.906, 0.144)]
        case .magma:
            return [(0.001, 0.000, 0.014), (0.112, 0.065, 0.276), (0.316, 0.071, 0.485), (0.512, 0.128, 0.504),
                    (0.716, 0.215, 0.475), (0.904, 0.318, 0.388), (0.986, 0.537, 0.382), (0.996, 0.772, 0.524),
                    (0.987, 0.991, 0.750)]
        }
    }

    /// RGB bytes for t in [0, 1].
    public func rgb(_ t: Float) -> (UInt8, UInt8, UInt8) {
        let k = keys
        let x = max(0, min(1, t.isFinite ? t : 0)) * Float(k.count - 1)
        let i = min(Int(x), k.count - 2)
        let f = x - Float(i)
        func mix(_ a: Float, _ b: Float) -> UInt8 { UInt8(max(0, min(255, ((a + (b - a) * f) * 255).rounded()))) }
        return (mix(k[i].0, k[i + 1].0), mix(k[i].1, k[i + 1].1), mix(k[i].2, k[i + 1].2))
    }
}

/// A categorical palette for label maps (phases, clusters, grains): distinct, colour-blind aware (Tableau 10).
public enum CategoricalPalette {
    public static let colors: [(UInt8, UInt8, UInt8)] = [
        (31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
        (140, 86, 75), (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207),
    ]
    public static func color(_ label: Int) -> (UInt8, UInt8, UInt8) {
        label < 0 ? (0, 0, 0) : colors[label % colors.count]
    }
}

/// Renders scalar and label maps to images.
public enum MapRenderer {
    /// Percentile limits of the finite values (robust contrast for maps with hot pixels).
    public static func limits(_ values: [Float], lowPercentile: Float = 0.5, highPercentile: Float = 99.5) -> (Float, Float) {
        let finite = values.filter { $0.isFinite }.sorted()
        guard let first = finite.first, let last = finite.last else { return (0, 1) }
        func q(_ p: Float) -> Float { finite[min(finite.count - 1, max(0, Int(p / 100 * Float(finite.count - 1))))] }
        var lo = q(lowPercentile), hi = q(highPercentile)
        if hi <= lo { lo = first; hi = last }
        if hi <= lo { hi = lo + 1 }
        return (lo, hi)
    }

    /// A scalar map (row-major `height` x `width`) as a colour image; `scale` enlarges small maps by pixel
    /// replication so they are visible.
    public static func scalar(_ values: [Float], width: Int, height: Int, colormap: Colormap = .viridis,
                              limits: (Float, Float)? = nil, scale: Int = 1) -> PNGImage {
        precondition(values.count == width * height)
        let (lo, hi) = limits ?? self.limits(values)
        let s = max(1, scale)
        var out = [UInt8](repeating: 0, count: width * height * 3 * s * s)
        for y in 0 ..< height * s {
            for x in 0 ..< width * s {
                let v = values[(y / s) * width + x / s]
                let (r, g, b) = colormap.rgb((v - lo) / (hi - lo))
                let o = (y * width * s + x) * 3
                out[o] = r; out[o + 1] = g; out[o + 2] = b
            }
        }
        return PNGImage(width: width * s, height: height * s, channels: .rgb, samples: out)
    }

    /// A label map (e.g. phase or cluster id; negative = not indexed, drawn black).
    public static func labels(_ labels: [Int], width: Int, height: Int, scale: Int = 1) -> PNGImage {
        precondition(labels.count == width * height)
        let s = max(1, scale)
        var out = [UInt8](repeating: 0, count: width * height * 3 * s * s)
        for y in 0 ..< height * s {
            for x in 0 ..< width * s {
                let (r, g, b) = CategoricalPalette.color(labels[(y / s) * width + x / s])
                let o = (y * width * s + x) * 3
                out[o] = r; out[o + 1] = g; out[o + 2] = b
            }
        }
        return PNGImage(width: width * s, height: height * s, channels: .rgb, samples: out)
    }

    /// An RGB map given per-pixel colours in [0, 1] (e.g. inverse-pole-figure colours).
    public static func rgb(_ colors: [(Float, Float, Float)], width: Int, height: Int, scale: Int = 1) -> PNGImage {
        precondition(colors.count == width * height)
        let s = max(1, scale)
        var out = [UInt8](repeating: 0, count: width * height * 3 * s * s)
        func b(_ v: Float) -> UInt8 { UInt8(max(0, min(255, (v.isFinite ? v : 0) * 255)).rounded()) }
        for y in 0 ..< height * s {
            for x in 0 ..< width * s {
                let c = colors[(y / s) * width + x / s]
                let o = (y * width * s + x) * 3
                out[o] = b(c.0); out[o + 1] = b(c.1); out[o + 2] = b(c.2)
            }
        }
        return PNGImage(width: width * s, height: height * s, channels: .rgb, samples: out)
    }

    /// A pattern drawn in grey with a logarithmic stretch (diffraction patterns span decades).
    public static func pattern(_ values: [Float], width: Int, height: Int) -> PNGImage {
        let logv = values.map { log1p(max(0, $0.isFinite ? $0 : 0)) }
        return scalar(logv, width: width, height: height, colormap: .gray, limits: limits(logv, lowPercentile: 1, highPercentile: 99.9))
    }

    /// A scale that makes a map at least `target` pixels across.
    public static func upscale(forWidth width: Int, height: Int, target: Int = 256) -> Int {
        max(1, target / max(1, max(width, height)))
    }
}

import Foundation
