import Foundation
import STEMCore

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

    /// Blurs `source` into `destination` (which may be the same buffer) through a new `RowStream`; a caller
    /// blurring many images of one shape keeps a stream and calls its `apply`.
    public func apply(_ source: UnsafeBufferPointer<Float>, width: Int, height: Int,
                      into destination: UnsafeMutableBufferPointer<Float>) {
        RowStream(blur: self, width: width, height: height).apply(source, into: destination)
    }

    /// The blur of an image that arrives one row at a time, holding only `2 radius + 1` rows (a ring of
    /// horizontally blurred rows): the horizontal pass runs on each row as it is pushed (through a copy padded
    /// by its edge pixels), the vertical pass emits output row `y - radius` as soon as input row `y` is in.
    /// Same operations in the same order per pixel as a horizontal pass over the whole image followed by a
    /// vertical one: `w0 c + sum_k wk (a_k + b_k)`. The vertical pass makes four output rows at a time, which
    /// share all but three of their 2r + 1 input rows (two loads per tap for four rows).
    public final class RowStream {
        public let width: Int, height: Int
        private let r: Int, w: [Float]
        private let ring: UnsafeMutablePointer<Float>, ringMask: Int
        private let padded: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>
        private let paddedStorage: UnsafeMutablePointer<Float>
        private let taps: UnsafeMutablePointer<UnsafePointer<Float>>
        /// The weights as eight-lane vectors: an FMA takes them as a memory operand, where a weight read as a
        /// scalar needs a broadcast per tap and vector (and is read again after every store, which may alias it).
        private let lanes: UnsafeMutablePointer<SIMD8<Float>>
        private var pushed = 0, emitted = 0

        public init(blur: GaussianBlur, width: Int, height: Int) {
            self.width = width
            self.height = height
            r = blur.radius
            w = blur.weights
            var slots = 1
            while slots < 2 * r + 4 { slots <<= 1 } // the rows of four output rows
            ringMask = slots - 1
            ring = AlignedAllocation.allocate(Float.self, capacity: slots * max(1, width))
            // The padded row's first real pixel on a 32-byte boundary (its aligned loads in one cache line).
            paddedStorage = AlignedAllocation.allocate(Float.self, capacity: max(1, width) + 2 * r + 7)
            padded = paddedStorage + (8 - r % 8) % 8
            output = AlignedAllocation.allocate(Float.self, capacity: 4 * max(1, width))
            taps = .allocate(capacity: 2 * r + 4)
            lanes = .allocate(capacity: r + 1)
            for k in 0 ... r { lanes[k] = SIMD8(repeating: blur.weights[k]) }
        }

        deinit { ring.deallocate(); paddedStorage.deallocate(); output.deallocate(); taps.deallocate(); lanes.deallocate() }

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
            // Output rows go out four at a time (they share all but three of their input rows).
            if r == 0 { vertical(y, emit) } else if y - r >= emitted + 3 { vertical(emitted, emit) }
        }

        /// Blurs a whole image of the stream's shape from `source` into `destination` (which may be the same
        /// buffer: an output row is written only after the input rows it covers were pushed).
        public func apply(_ source: UnsafeBufferPointer<Float>, into destination: UnsafeMutableBufferPointer<Float>) {
            let n = width * height
            precondition(source.count >= n && destination.count >= n)
            guard n > 0 else { return }
            let dst = destination.baseAddress!
            reset()
            for y in 0 ..< height {
                push(source.baseAddress! + y * width) { yo, row in (dst + yo * width).update(from: row, count: width) }
            }
            finish { yo, row in (dst + yo * width).update(from: row, count: width) }
        }

        /// Emits the last `radius` output rows (after every input row was pushed).
        public func finish(emit: (Int, UnsafePointer<Float>) -> Void) {
            precondition(pushed == height, "GaussianBlur.RowStream: \(pushed) of \(height) rows pushed")
            while emitted < height { vertical(emitted, emit) }
        }

        @inline(__always)
        private func horizontal(_ out: UnsafeMutablePointer<Float>, _ w: UnsafePointer<Float>) {
            // The kernel of the default sigma (2 px, radius 7) with a constant radius, so the taps unroll.
            if r == 7 { horizontalRadius7(out, w) } else { horizontal(out, w, radius: r) }
        }

        /// `horizontal` at radius 7, sixteen pixels at a time: the two vectors' samples at offsets 1 ... 7 are
        /// loaded once for both (23 loads instead of 30; the same sums in the same order per pixel).
        @inline(__always)
        private func horizontalRadius7(_ out: UnsafeMutablePointer<Float>, _ w: UnsafePointer<Float>) {
            let n = width
            var x = 0
            while x &+ 16 <= n {
                let c = UnsafePointer(padded + 7) + x
                @inline(__always) func ld(_ o: Int) -> SIMD8<Float> { UnsafeRawPointer(c + o).loadUnaligned(as: SIMD8<Float>.self) }
                let l1 = ld(1), l2 = ld(2), l3 = ld(3), l4 = ld(4), l5 = ld(5), l6 = ld(6), l7 = ld(7)
                var a0 = ld(0) * lanes[0], a1 = ld(8) * lanes[0]
                a0 = multiplyAdd(a0, ld(-1) + l1, lanes[1]); a1 = multiplyAdd(a1, l7 + ld(9), lanes[1])
                a0 = multiplyAdd(a0, ld(-2) + l2, lanes[2]); a1 = multiplyAdd(a1, l6 + ld(10), lanes[2])
                a0 = multiplyAdd(a0, ld(-3) + l3, lanes[3]); a1 = multiplyAdd(a1, l5 + ld(11), lanes[3])
                a0 = multiplyAdd(a0, ld(-4) + l4, lanes[4]); a1 = multiplyAdd(a1, l4 + ld(12), lanes[4])
                a0 = multiplyAdd(a0, ld(-5) + l5, lanes[5]); a1 = multiplyAdd(a1, l3 + ld(13), lanes[5])
                a0 = multiplyAdd(a0, ld(-6) + l6, lanes[6]); a1 = multiplyAdd(a1, l2 + ld(14), lanes[6])
                a0 = multiplyAdd(a0, ld(-7) + l7, lanes[7]); a1 = multiplyAdd(a1, l1 + ld(15), lanes[7])
                UnsafeMutableRawPointer(out + x).storeBytes(of: a0, as: SIMD8<Float>.self)
                UnsafeMutableRawPointer(out + (x &+ 8)).storeBytes(of: a1, as: SIMD8<Float>.self)
                x &+= 16
            }
            horizontal(out, w, radius: 7, from: x)
        }

        @inline(__always)
        private func horizontal(_ out: UnsafeMutablePointer<Float>, _ w: UnsafePointer<Float>, radius r: Int,
                                from start: Int = 0) {
            let c = UnsafePointer(padded + r), n = width
            var x = start
            while x &+ 8 <= n {
                var acc = UnsafeRawPointer(c + x).loadUnaligned(as: SIMD8<Float>.self) * lanes[0]
                for k in 1 ... r {
                    let a = UnsafeRawPointer(c + (x &- k)).loadUnaligned(as: SIMD8<Float>.self)
                    let b = UnsafeRawPointer(c + (x &+ k)).loadUnaligned(as: SIMD8<Float>.self)
                    acc = multiplyAdd(acc, a + b, lanes[k])
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

        /// Output rows y ... y + 3: `w0 c + sum_k wk (a_k + b_k)` for each, from `taps[0 ... 2r + 3]` = input
        /// rows y - r ... y + 3 + r; per tap k two rows are loaded (y - k and y + 3 + k), the other six come
        /// from the previous tap (the same sums, in the same order, as one row at a time).
        @inline(__always)
        private func verticalQuad(radius r: Int, into out0: UnsafeMutablePointer<Float>, _ out1: UnsafeMutablePointer<Float>,
                                  _ out2: UnsafeMutablePointer<Float>, _ out3: UnsafeMutablePointer<Float>) {
            let rows = taps, n = width
            @inline(__always) func load(_ i: Int, _ x: Int) -> SIMD8<Float> {
                UnsafeRawPointer(rows[i] + x).loadUnaligned(as: SIMD8<Float>.self)
            }
            @inline(__always) func store(_ v: SIMD8<Float>, _ out: UnsafeMutablePointer<Float>, _ x: Int) {
                UnsafeMutableRawPointer(out + x).storeBytes(of: v, as: SIMD8<Float>.self)
            }
            var x = 0
            while x &+ 8 <= n {
                // l_j: row y + j - k (below the centre), u_j: row y + j + k (above), for output row y + j.
                var l0 = load(r, x), l1 = load(r &+ 1, x), l2 = load(r &+ 2, x), l3 = load(r &+ 3, x)
                var u0 = l1, u1 = l2, u2 = l3
                var a0 = l0 * lanes[0], a1 = l1 * lanes[0], a2 = l2 * lanes[0], a3 = l3 * lanes[0]
                for k in 1 ... r {
                    l3 = l2; l2 = l1; l1 = l0; l0 = load(r &- k, x)
                    let u3 = load(r &+ 3 &+ k, x)
                    let wk = lanes[k]
                    a0 = multiplyAdd(a0, l0 + u0, wk)
                    a1 = multiplyAdd(a1, l1 + u1, wk)
                    a2 = multiplyAdd(a2, l2 + u2, wk)
                    a3 = multiplyAdd(a3, l3 + u3, wk)
                    u0 = u1; u1 = u2; u2 = u3
                }
                store(a0, out0, x); store(a1, out1, x); store(a2, out2, x); store(a3, out3, x)
                x &+= 8
            }
            while x < n {
                let outs = (out0, out1, out2, out3)
                for j in 0 ..< 4 {
                    var acc = rows[r &+ j][x] * w[0]
                    for k in 1 ... r { acc += w[k] * (rows[r &+ j &- k][x] + rows[r &+ j &+ k][x]) }
                    switch j { case 0: outs.0[x] = acc; case 1: outs.1[x] = acc; case 2: outs.2[x] = acc; default: outs.3[x] = acc }
                }
                x &+= 1
            }
        }

        /// Output rows y ... y + 3 that exist: the rows of `destination`, or the stream's own buffer. Rows past
        /// the image's last (its last one to three rows) are computed into the stream's own buffer and dropped,
        /// so the pass stays one kernel.
        @inline(__always)
        private func vertical(_ y: Int, _ emit: (Int, UnsafePointer<Float>) -> Void) {
            let h = height, n = width
            if r == 0 {
                emit(y, UnsafePointer(ring + (y & ringMask) * n))
                emitted = y + 1
                return
            }
            // The input rows y - r ... y + 3 + r (clamped at the image edges), once per four output rows.
            let rows = taps
            for k in -r ... r + 3 { rows[k + r] = UnsafePointer(ring + (min(max(y + k, 0), h - 1) & ringMask) * n) }
            @inline(__always) func out(_ j: Int) -> UnsafeMutablePointer<Float> {
                y + j < h ? destination.map { $0 + (y + j) * n } ?? output + j * n : output + j * n
            }
            if r == 7 { verticalQuad(radius: 7, into: out(0), out(1), out(2), out(3)) }
            else { verticalQuad(radius: r, into: out(0), out(1), out(2), out(3)) }
            for j in 0 ..< min(4, h - y) { emit(y + j, UnsafePointer(out(j))) }
            emitted = min(h, y + 4)
        }
    }
}

/// `acc + x * w` lane by lane, fused (one rounding) where the kernels are built with FMA (`STEMRUN_FMA`, see
/// Package.swift).
@inline(__always)
func multiplyAdd(_ acc: SIMD8<Float>, _ x: SIMD8<Float>, _ w: SIMD8<Float>) -> SIMD8<Float> {
    #if STEMRUN_FMA
    return acc.addingProduct(x, w)
    #else
    return acc + x * w
    #endif
}
