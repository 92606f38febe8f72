#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A single-channel image, row-major, values expected in [0, 1] (data range 1, as the authors used piq).
public struct GrayImage: Sendable, Equatable {
    public var rows: Int
    public var columns: Int
    public var pixels: [Double]

    public init(rows: Int, columns: Int, pixels: [Double]) {
        precondition(pixels.count == rows * columns, "GrayImage: buffer size mismatch")
        self.rows = rows
        self.columns = columns
        self.pixels = pixels
    }

    public init(rows: Int, columns: Int, pixels: [Float]) {
        self.init(rows: rows, columns: columns, pixels: pixels.map(Double.init))
    }

    @inline(__always) subscript(r: Int, c: Int) -> Double { pixels[r * columns + c] }
}

/// Full-reference image-quality metrics with the definitions and defaults of the piq library (v0.8, data range 1,
/// greyscale input): the same down-sampling, padding and constants, so values agree with piq's to rounding.
public enum ImageQualityMetric: String, CaseIterable, Sendable {
    case psnr, ssim, mdsi, gmsd

    /// True when a larger value means the two images are more alike (PSNR, SSIM); false for MDSI and GMSD, which
    /// are deviations (0 = identical).
    public var higherIsBetter: Bool { self == .psnr || self == .ssim }

    public func evaluate(_ x: GrayImage, _ y: GrayImage) throws -> Double {
        switch self {
        case .psnr: return try ImageQuality.psnr(x, y)
        case .ssim: return try ImageQuality.ssim(x, y)
        case .mdsi: return try ImageQuality.mdsi(x, y)
        case .gmsd: return try ImageQuality.gmsd(x, y)
        }
    }
}

public enum ImageQuality {
    static func validate(_ x: GrayImage, _ y: GrayImage, minimumSide: Int) throws {
        guard x.rows == y.rows, x.columns == y.columns else {
            throw NMFError.shapeMismatch(what: "image pair", expected: "\(x.rows) x \(x.columns)",
                                         found: "\(y.rows) x \(y.columns)")
        }
        guard x.rows >= minimumSide, x.columns >= minimumSide else {
            throw NMFError.shapeMismatch(what: "image size", expected: "at least \(minimumSide) x \(minimumSide)",
                                         found: "\(x.rows) x \(x.columns)")
        }
        for image in [x, y] where !image.pixels.allSatisfy({ $0 >= 0 && $0 <= 1 }) {
            throw NMFError.invalidParameter(name: "image values", value: "outside [0, 1]",
                                            expected: "values in [0, 1] (data range 1); clip or rescale first")
        }
    }

    /// Python's round() (half to even), used by piq to pick the down-sampling factor.
    static func roundHalfEven(_ v: Double) -> Int { Int(v.rounded(.toNearestOrEven)) }

    /// PSNR = -10 log10(MSE + 1e-8) (piq.psnr). Higher is better.
    public static func psnr(_ x: GrayImage, _ y: GrayImage) throws -> Double {
        try validate(x, y, minimumSide: 1)
        var mse = 0.0
        for i in x.pixels.indices { let d = x.pixels[i] - y.pixels[i]; mse += d * d }
        mse /= Double(x.pixels.count)
        return -10 * log10(mse + 1e-8)
    }

    /// SSIM (Wang et al. 2004) as piq.ssim: average-pool by f = max(1, round(min(H, W) / 256)), an 11 x 11 Gaussian
    /// window with sigma 1.5 applied without padding ("valid"), k1 = 0.01, k2 = 0.03; the mean of the SSIM map.
    /// Higher is better.
    public static func ssim(_ x: GrayImage, _ y: GrayImage, kernelSize: Int = 11, sigma: Double = 1.5,
                            k1: Double = 0.01, k2: Double = 0.03) throws -> Double {
        try validate(x, y, minimumSide: 1)
        let f = max(1, roundHalfEven(Double(min(x.rows, x.columns)) / 256))
        let a = averagePool(x, factor: f), b = averagePool(y, factor: f)
        guard a.rows >= kernelSize, a.columns >= kernelSize else {
            throw NMFError.shapeMismatch(what: "SSIM image size after down-sampling by \(f)",
                                         expected: "at least \(kernelSize) x \(kernelSize)", found: "\(a.rows) x \(a.columns)")
        }
        let g = gaussianKernel(size: kernelSize, sigma: sigma)
        let c1 = k1 * k1, c2 = k2 * k2
        let xx = GrayImage(rows: a.rows, columns: a.columns, pixels: a.pixels.map { $0 * $0 })
        let yy = GrayImage(rows: a.rows, columns: a.columns, pixels: b.pixels.map { $0 * $0 })
        let xy = GrayImage(rows: a.rows, columns: a.columns, pixels: zip(a.pixels, b.pixels).map { $0 * $1 })
        let muX = convolveValid(a, g, size: kernelSize), muY = convolveValid(b, g, size: kernelSize)
        let sXX = convolveValid(xx, g, size: kernelSize), sYY = convolveValid(yy, g, size: kernelSize)
        let sXY = convolveValid(xy, g, size: kernelSize)
        var total = 0.0
        for i in muX.indices {
            let mx = muX[i], my = muY[i]
            let vx = sXX[i] - mx * mx, vy = sYY[i] - my * my, cxy = sXY[i] - mx * my
            let cs = (2 * cxy + c2) / (vx + vy + c2)
            total += (2 * mx * my + c1) / (mx * mx + my * my + c1) * cs
        }
        return total / Double(muX.count)
    }

    /// GMSD (Xue et al. 2014) as piq.gmsd: zero-pad right and bottom by max(H mod 2, W mod 2), 2 x 2 average pool,
    /// Prewitt gradient magnitudes (zero padding), GMS = (2 m_x m_y + t) / (m_x^2 + m_y^2 + t), t = 170 / 255^2;
    /// GMSD = standard deviation (population) of the GMS map. Lower is better.
    public static func gmsd(_ x: GrayImage, _ y: GrayImage, t: Double = 170.0 / (255.0 * 255.0)) throws -> Double {
        try validate(x, y, minimumSide: 2)
        let pad = max(x.rows % 2, x.columns % 2)
        let a = averagePool(padded(x, before: 0, after: pad), factor: 2)
        let b = averagePool(padded(y, before: 0, after: pad), factor: 2)
        let gx = prewittMagnitude(a), gy = prewittMagnitude(b)
        let gms = (0 ..< gx.count).map { (2 * gx[$0] * gy[$0] + t) / (gx[$0] * gx[$0] + gy[$0] * gy[$0] + t) }
        let mean = gms.reduce(0, +) / Double(gms.count)
        let variance = gms.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(gms.count)
        return variance.squareRoot()
    }

    /// MDSI (Nafchi et al. 2016) as piq.mdsi with its defaults (c1 = 140, c2 = 55, c3 = 550, 'sum' combination,
    /// alpha = 0.6, q = 0.25, rho = 1, o = 0.25). A grey image is replicated to RGB as piq does, so the LHM
    /// chromatic channels are H = -0.01 g and M = -0.09 g (not zero). Values scaled to [0, 255]; average pool by
    /// round(min(H, W) / 256) after piq's padding; Prewitt magnitudes with zero padding; the complex power of
    /// the combined similarity and its mean deviation. Lower is better.
    public static func mdsi(_ x: GrayImage, _ y: GrayImage, c1: Double = 140, c2: Double = 55, c3: Double = 550,
                            alpha: Double = 0.6, q: Double = 0.25, rho: Double = 1, o: Double = 0.25) throws -> Double {
        try validate(x, y, minimumSide: 1)
        let kernel = max(1, roundHalfEven(Double(min(x.rows, x.columns)) / 256))
        var a = GrayImage(rows: x.rows, columns: x.columns, pixels: x.pixels.map { $0 * 255 })
        var b = GrayImage(rows: y.rows, columns: y.columns, pixels: y.pixels.map { $0 * 255 })
        let padding = kernel / 2
        if padding > 0 {
            a = padded(a, before: (kernel - 1) / 2, after: padding)
            b = padded(b, before: (kernel - 1) / 2, after: padding)
        }
        a = averagePool(a, factor: kernel)
        b = averagePool(b, factor: kernel)
        func lhm(_ g: Double) -> (l: Double, h: Double, m: Double) {
            ((g * 0.2989 + g * 0.587) + g * 0.114, (g * 0.3 + g * 0.04) + g * -0.35, (g * 0.34 + g * -0.6) + g * 0.17)
        }
        let la = a.pixels.map { lhm($0) }, lb = b.pixels.map { lhm($0) }
        let lumA = GrayImage(rows: a.rows, columns: a.columns, pixels: la.map(\.l))
        let lumB = GrayImage(rows: a.rows, columns: a.columns, pixels: lb.map(\.l))
        let lumAvg = GrayImage(rows: a.rows, columns: a.columns, pixels: zip(lumA.pixels, lumB.pixels).map { ($0 + $1) / 2 })
        let gA = prewittMagnitude(lumA), gB = prewittMagnitude(lumB), gM = prewittMagnitude(lumAvg)
        let count = gA.count
        var re = [Double](repeating: 0, count: count), im = [Double](repeating: 0, count: count)
        for i in 0 ..< count {
            let gsXY = (2 * gA[i] * gB[i] + c1) / (gA[i] * gA[i] + gB[i] * gB[i] + c1)
            let gsXM = (2 * gA[i] * gM[i] + c2) / (gA[i] * gA[i] + gM[i] * gM[i] + c2)
            let gsYM = (2 * gB[i] * gM[i] + c2) / (gB[i] * gB[i] + gM[i] * gM[i] + c2)
            let gs = gsXY + gsXM - gsYM
            let cs = (2 * (la[i].h * lb[i].h + la[i].m * lb[i].m) + c3)
                / (la[i].h * la[i].h + lb[i].h * lb[i].h + la[i].m * la[i].m + lb[i].m * lb[i].m + c3)
            let gcs = alpha * gs + (1 - alpha) * cs
            // piq's pow_for_complex of a real number: modulus |v|^q, argument q * atan2(0, v).
            let r = pow(abs(gcs), q), phi = q * atan2(0.0, gcs)
            re[i] = r * cos(phi)
            im[i] = r * sin(phi)
        }
        let meanRe = re.reduce(0, +) / Double(count), meanIm = im.reduce(0, +) / Double(count)
        var total = 0.0
        for i in 0 ..< count {
            let d = ((re[i] - meanRe) * (re[i] - meanRe) + (im[i] - meanIm) * (im[i] - meanIm)).squareRoot()
            total += pow(d, rho)
        }
        return pow(total / Double(count), o / rho)
    }

    // MARK: building blocks (torch semantics)

    /// F.avg_pool2d(kernel = stride = factor, no padding): floor(H / f) x floor(W / f).
    static func averagePool(_ image: GrayImage, factor f: Int) -> GrayImage {
        guard f > 1 else { return image }
        let rows = image.rows / f, columns = image.columns / f
        var out = [Double](repeating: 0, count: rows * columns)
        let scale = 1 / Double(f * f)
        for r in 0 ..< rows {
            for c in 0 ..< columns {
                var s = 0.0
                for i in 0 ..< f { for j in 0 ..< f { s += image[r * f + i, c * f + j] } }
                out[r * columns + c] = s * scale
            }
        }
        return GrayImage(rows: rows, columns: columns, pixels: out)
    }

    /// Zero padding: `before` rows/columns on top/left, `after` on bottom/right.
    static func padded(_ image: GrayImage, before: Int, after: Int) -> GrayImage {
        guard before > 0 || after > 0 else { return image }
        let rows = image.rows + before + after, columns = image.columns + before + after
        var out = [Double](repeating: 0, count: rows * columns)
        for r in 0 ..< image.rows {
            for c in 0 ..< image.columns { out[(r + before) * columns + c + before] = image[r, c] }
        }
        return GrayImage(rows: rows, columns: columns, pixels: out)
    }

    /// piq.functional.gaussian_filter: exp(-(i^2 + j^2) / (2 sigma^2)) on centred integer coordinates, normalised.
    static func gaussianKernel(size: Int, sigma: Double) -> [Double] {
        let centre = Double(size - 1) / 2
        var g = [Double](repeating: 0, count: size * size)
        for i in 0 ..< size {
            for j in 0 ..< size {
                let di = Double(i) - centre, dj = Double(j) - centre
                g[i * size + j] = exp(-(di * di + dj * dj) / (2 * sigma * sigma))
            }
        }
        let s = g.reduce(0, +)
        return g.map { $0 / s }
    }

    /// Cross-correlation without padding (F.conv2d, padding 0).
    static func convolveValid(_ image: GrayImage, _ kernel: [Double], size: Int) -> [Double] {
        let rows = image.rows - size + 1, columns = image.columns - size + 1
        var out = [Double](repeating: 0, count: rows * columns)
        image.pixels.withUnsafeBufferPointer { px in
            for r in 0 ..< rows {
                for c in 0 ..< columns {
                    var s = 0.0
                    for i in 0 ..< size {
                        let row = (r + i) * image.columns + c
                        for j in 0 ..< size { s += px[row + j] * kernel[i * size + j] }
                    }
                    out[r * columns + c] = s
                }
            }
        }
        return out
    }

    /// sqrt(gx^2 + gy^2) with the normalised Prewitt kernels ([-1 0 1] x 3) / 3 and zero padding 1
    /// (piq.functional.gradient_map).
    static func prewittMagnitude(_ image: GrayImage) -> [Double] {
        let rows = image.rows, columns = image.columns
        var out = [Double](repeating: 0, count: rows * columns)
        @inline(__always) func at(_ r: Int, _ c: Int) -> Double {
            (r < 0 || c < 0 || r >= rows || c >= columns) ? 0 : image[r, c]
        }
        for r in 0 ..< rows {
            for c in 0 ..< columns {
                var gx = 0.0, gy = 0.0
                for d in -1 ... 1 {
                    gx += at(r + d, c + 1) - at(r + d, c - 1)
                    gy += at(r + 1, c + d) - at(r - 1, c + d)
                }
                gx /= 3
                gy /= 3
                out[r * columns + c] = (gx * gx + gy * gy).squareRoot()
            }
        }
        return out
    }
}
