import Foundation

/// Separable Gaussian blur (methods notes, section 1, step 5: sigma 2 px, used only to locate spots).
/// The kernel is truncated at `ceil(3.5 sigma)` and normalised; the image is extended by its edge pixels
/// (as ImageJ does), so a constant image stays constant.
public struct GaussianBlur: Sendable {
    public let sigma: Float
    /// Normalised weights `w[0...radius]` (symmetric).
    public let weights: [Float]
    public var radius: Int { weights.count - 1 }

    public init(sigma: Float) {
        self.sigma = sigma
        guard sigma > 0, sigma.isFinite else { weights = [1]; return }
        let r = max(1, Int((3.5 * sigma).rounded(.up)))
        var w = (0 ... r).map { i -> Float in Float(exp(-Double(i * i) / (2 * Double(sigma * sigma)))) }
        let total = w[0] + 2 * w[1...].reduce(0, +)
        for i in w.indices { w[i] /= total }
        weights = w
    }

    /// Blurs `source` into `destination`; `scratch` holds `width * height` values. `source` and
    /// `destination` may be the same buffer.
    public func apply(_ source: UnsafeBufferPointer<Float>, width: Int, height: Int,
                      scratch: UnsafeMutableBufferPointer<Float>, into destination: UnsafeMutableBufferPointer<Float>) {
        let n = width * height
        precondition(source.count >= n && destination.count >= n && scratch.count >= n)
        let src = source.baseAddress!, tmp = scratch.baseAddress!, dst = destination.baseAddress!
        let r = radius
        if r == 0 { if UnsafePointer(dst) != src { dst.update(from: src, count: n) }; return }
        weights.withUnsafeBufferPointer { wp in
            let w = wp.baseAddress!
            // Horizontal pass into tmp.
            for y in 0 ..< height {
                let s = src + y * width, t = tmp + y * width
                for x in 0 ..< width {
                    var acc = w[0] * s[x]
                    if x >= r && x + r < width {
                        for k in 1 ... r { acc += w[k] * (s[x - k] + s[x + k]) }
                    } else {
                        for k in 1 ... r {
                            acc += w[k] * (s[max(x - k, 0)] + s[min(x + k, width - 1)])
                        }
                    }
                    t[x] = acc
                }
            }
            // Vertical pass into dst, row by row (contiguous inner loops vectorise).
            for y in 0 ..< height {
                let d = dst + y * width
                let c = tmp + y * width
                let w0 = w[0]
                for x in 0 ..< width { d[x] = w0 * c[x] }
                for k in 1 ... r {
                    let a = tmp + max(y - k, 0) * width, b = tmp + min(y + k, height - 1) * width
                    let wk = w[k]
                    for x in 0 ..< width { d[x] += wk * (a[x] + b[x]) }
                }
            }
        }
    }
}

