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

    /// Blurs `source` into `destination`. `source` and `destination` may be the same buffer. `scratch` is
    /// not used (kept for callers of the whole-image form); the passes stream through a `RowStream`.
    public func apply(_ source: UnsafeBufferPointer<Float>, width: Int, height: Int,
                      scratch: UnsafeMutableBufferPointer<Float>, into destination: UnsafeMutableBufferPointer<Float>) {
        let n = width * height
        precondition(source.count >= n && destination.count >= n)
        guard n > 0 else { return }
        let stream = RowStream(blur: self, width: width, height: height)
        let dst = destination.baseAddress!
        for y in 0 ..< height {
            stream.push(source.baseAddress! + y * width) { yo, row in (dst + yo * width).update(from: row, count: width) }
        }
        stream.finish { yo, row in (dst + yo * width).update(from: row, count: width) }
    }

    /// The blur of an image that arrives one row at a time, holding only `2 radius + 1` rows (a ring of
    /// horizontally blurred rows): the horizontal pass runs on each row as it is pushed (through a copy padded
    /// by its edge pixels), the vertical pass emits output row `y - radius` as soon as input row `y` is in.
    /// Same operations in the same order per pixel as a horizontal pass over the whole image followed by a
    /// vertical one: `w0 c + sum_k wk (a_k + b_k)`.
    public final class RowStream {
        public let width: Int, height: Int
        private let r: Int, w: [Float]
        private let ring: UnsafeMutablePointer<Float>, ringMask: Int
        private let padded: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>
        private let taps: UnsafeMutablePointer<UnsafePointer<Float>>
        private var pushed = 0, emitted = 0

        public init(blur: GaussianBlur, width: Int, height: Int) {
            self.width = width
            self.height = height
            r = blur.radius
            w = blur.weights
            var slots = 1
            while slots < 2 * r + 1 { slots <<= 1 }
            ringMask = slots - 1
            ring = .allocate(capacity: slots * max(1, width))
            padded = .allocate(capacity: max(1, width) + 2 * r)
            output = .allocate(capacity: max(1, width))
            taps = .allocate(capacity: 2 * r + 1)
        }

        deinit { ring.deallocate(); padded.deallocate(); output.deallocate(); taps.deallocate() }

        /// Where output row y is written (`destination + y * width`; nil: a one-row buffer of the stream's own).
        private var destination: UnsafeMutablePointer<Float>?

        /// Starts a new image of the same shape; with `destination`, every output row is written there (the
        /// pointer passed to `emit` is then the row inside `destination`).
        public func reset(destination: UnsafeMutablePointer<Float>? = nil) {
            pushed = 0; emitted = 0
            self.destination = destination
        }

        /// Adds the next input row; calls `emit(y, row)` for every output row that became complete (the
        /// pointer is valid during the call only).
        @inline(__always)
        public func push(_ row: UnsafePointer<Float>, emit: (Int, UnsafePointer<Float>) -> Void) {
            precondition(pushed < height, "GaussianBlur.RowStream: more rows than the image height")
            let y = pushed
            let t = ring + (y & ringMask) * width
            if r == 0 {
                t.update(from: row, count: width)
            } else {
                for i in 0 ..< r { padded[i] = row[0]; padded[r + width + i] = row[width - 1] }
                (padded + r).update(from: row, count: width)
                w.withUnsafeBufferPointer { wp in horizontal(t, wp.baseAddress!) }
            }
            pushed += 1
            if y - r >= 0 { vertical(y - r, emit) }
        }

        /// Emits the last `radius` output rows (after every input row was pushed).
        public func finish(emit: (Int, UnsafePointer<Float>) -> Void) {
            precondition(pushed == height, "GaussianBlur.RowStream: \(pushed) of \(height) rows pushed")
            while emitted < height { vertical(emitted, emit) }
        }

        @inline(__always)
        private func horizontal(_ out: UnsafeMutablePointer<Float>, _ w: UnsafePointer<Float>) {
            // The kernel of the default sigma (2 px, radius 7) with a constant radius, so the taps unroll.
            if r == 7 { horizontal(out, w, radius: 7) } else { horizontal(out, w, radius: r) }
        }

        @inline(__always)
        private func horizontal(_ out: UnsafeMutablePointer<Float>, _ w: UnsafePointer<Float>, radius r: Int) {
            let c = UnsafePointer(padded + r), n = width
            var x = 0
            while x &+ 8 <= n {
                var acc = UnsafeRawPointer(c + x).loadUnaligned(as: SIMD8<Float>.self) * w[0]
                for k in 1 ... r {
                    let a = UnsafeRawPointer(c + (x &- k)).loadUnaligned(as: SIMD8<Float>.self)
                    let b = UnsafeRawPointer(c + (x &+ k)).loadUnaligned(as: SIMD8<Float>.self)
                    acc = multiplyAdd(acc, a + b, w[k])
                }
                UnsafeMutableRawPointer(out + x).storeBytes(of: acc, as: SIMD8<Float>.self)
                x &+= 8
            }
            while x < n {
                var acc = c[x] * w[0]
                for k in 1 ... r { acc += w[k] * (c[x &- k] + c[x &+ k]) }
                out[x] = acc
                x &+= 1
            }
        }

        /// `output = w0 c + sum_k wk (rows[r - k] + rows[r + k])` over the row.
        @inline(__always)
        private func verticalTaps(_ w: UnsafePointer<Float>, radius r: Int) {
            let rows = taps, out = rowOutput, c = rows[r], n = width
            var x = 0
            while x &+ 8 <= n {
                var acc = UnsafeRawPointer(c + x).loadUnaligned(as: SIMD8<Float>.self) * w[0]
                for k in 1 ... r {
                    let a = UnsafeRawPointer(rows[r &- k] + x).loadUnaligned(as: SIMD8<Float>.self)
                    let b = UnsafeRawPointer(rows[r &+ k] + x).loadUnaligned(as: SIMD8<Float>.self)
                    acc = multiplyAdd(acc, a + b, w[k])
                }
                UnsafeMutableRawPointer(out + x).storeBytes(of: acc, as: SIMD8<Float>.self)
                x &+= 8
            }
            while x < n {
                var acc = c[x] * w[0]
                for k in 1 ... r { acc += w[k] * (rows[r &- k][x] + rows[r &+ k][x]) }
                out[x] = acc
                x &+= 1
            }
        }

        /// The output row being computed.
        private var rowOutput: UnsafeMutablePointer<Float> { destination.map { $0 + emitted * width } ?? output }

        @inline(__always)
        private func vertical(_ y: Int, _ emit: (Int, UnsafePointer<Float>) -> Void) {
            let h = height, n = width
            if r == 0 {
                emit(y, UnsafePointer(ring + (y & ringMask) * n))
            } else {
                // The 2r + 1 input rows of output row y (clamped at the image edges), once per row.
                let rows = taps
                for k in -r ... r { rows[k + r] = UnsafePointer(ring + (min(max(y + k, 0), h - 1) & ringMask) * n) }
                w.withUnsafeBufferPointer { wp in
                    if r == 7 { verticalTaps(wp.baseAddress!, radius: 7) } else { verticalTaps(wp.baseAddress!, radius: r) }
                }
                emit(y, UnsafePointer(rowOutput))
            }
            emitted = y + 1
        }
    }
}

/// `acc + x * w`, fused (one rounding) where the kernels are built with FMA (`STEMRUN_FMA`, see Package.swift).
@inline(__always)
func multiplyAdd(_ acc: SIMD8<Float>, _ x: SIMD8<Float>, _ w: Float) -> SIMD8<Float> {
    #if STEMRUN_FMA
    return acc.addingProduct(x, SIMD8<Float>(repeating: w))
    #else
    return acc + x * w
    #endif
}
