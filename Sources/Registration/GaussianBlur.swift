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
            // Horizontal pass into tmp, through a row padded by its edge pixels (contiguous loops vectorise).
            let padded = UnsafeMutablePointer<Float>.allocate(capacity: width + 2 * r)
            defer { padded.deallocate() }
            for y in 0 ..< height {
                let s = src + y * width, t = tmp + y * width
                for i in 0 ..< r { padded[i] = s[0]; padded[r + width + i] = s[width - 1] }
                (padded + r).update(from: s, count: width)
                let c = padded + r
                Self.accumulate(t, width, w, r) { UnsafePointer(c + $0) }
            }
            // Vertical pass into dst, row by row, one kernel tap at a time over the whole row (the rows stay in
            // cache; same operations in the same order per pixel as `accumulate`).
            for y in 0 ..< height {
                let out = dst + y * width
                @inline(__always) func row(_ k: Int) -> UnsafePointer<Float> {
                    UnsafePointer(tmp + min(max(y + k, 0), height - 1) * width)
                }
                let c = row(0), w0 = w[0]
                var x = 0
                while x + 8 <= width {
                    let v = SIMD8<Float>(UnsafeBufferPointer(start: c + x, count: 8)) * w0
                    UnsafeMutableRawPointer(out + x).storeBytes(of: v, as: SIMD8<Float>.self)
                    x += 8
                }
                while x < width { out[x] = c[x] * w0; x += 1 }
                for k in 1 ... r {
                    let a = row(-k), b = row(k), wk = w[k]
                    x = 0
                    while x + 8 <= width {
                        var acc = UnsafeRawPointer(out + x).loadUnaligned(as: SIMD8<Float>.self)
                        let va = UnsafeRawPointer(a + x).loadUnaligned(as: SIMD8<Float>.self)
                        let vb = UnsafeRawPointer(b + x).loadUnaligned(as: SIMD8<Float>.self)
                        acc += (va + vb) * wk
                        UnsafeMutableRawPointer(out + x).storeBytes(of: acc, as: SIMD8<Float>.self)
                        x += 8
                    }
                    while x < width { out[x] += wk * (a[x] + b[x]); x += 1 }
                }
            }
        }
    }

    /// `out[x] = w0 row(0)[x] + sum_k wk (row(-k)[x] + row(k)[x])`, eight lanes at a time.
    @inline(__always)
    static func accumulate(_ out: UnsafeMutablePointer<Float>, _ n: Int, _ w: UnsafePointer<Float>, _ r: Int,
                           _ row: (Int) -> UnsafePointer<Float>) {
        let c = row(0)
        var x = 0
        while x + 8 <= n {
            var acc = SIMD8<Float>(UnsafeBufferPointer(start: c + x, count: 8)) * w[0]
            for k in 1 ... r {
                let a = SIMD8<Float>(UnsafeBufferPointer(start: row(-k) + x, count: 8))
                let b = SIMD8<Float>(UnsafeBufferPointer(start: row(k) + x, count: 8))
                acc += (a + b) * w[k]
            }
            UnsafeMutableRawPointer(out + x).storeBytes(of: acc, as: SIMD8<Float>.self)
            x += 8
        }
        while x < n {
            var acc = c[x] * w[0]
            for k in 1 ... r { acc += w[k] * (row(-k)[x] + row(k)[x]) }
            out[x] = acc
            x += 1
        }
    }
}
