/// Sub-pixel translation by bilinear interpolation (methods notes, section 1, step 2): the output is
/// `out(x, y) = in(x - dx, y - dy)`, with samples beyond the border taken from the nearest edge pixel.
/// The four weights are the same for every pixel, so the kernel is one pass of four multiply-adds.
public enum BilinearShift {
    public static func shift(_ source: UnsafeBufferPointer<Float>, width: Int, height: Int, dx: Float, dy: Float,
                             into destination: UnsafeMutableBufferPointer<Float>) {
        precondition(source.count >= width * height && destination.count >= width * height)
        let k = Kernel(width: width, height: height, dx: dx, dy: dy)
        let src = source.baseAddress!, dst = destination.baseAddress!
        for y in 0 ..< height {
            k.row(src + k.sourceRow(y) * width, src + k.sourceRow(y + 1) * width, into: dst + y * width)
        }
    }

    /// The same shift done in place. Output row y reads source rows y + oy and y + oy + 1 (clamped), oy =
    /// floor(-dy): for oy >= 0 they are y or below it, so the rows are written top to bottom, for oy < 0 bottom
    /// to top, and a source row is never one already overwritten. Each source row is first copied into a
    /// sampled row, `S[x] = row[clamp(x + ox)]` for x = 0 ... width (ox = floor(-dx); two of them, one per
    /// parity of the row index, each used by two output rows), so that every output pixel, the clamped
    /// borders too, is one eight-lane step `w00 S0[x] + w10 S0[x + 1] + w01 S1[x] + w11 S1[x + 1]` with no
    /// bounds test. Same values as `shift`, bit for bit (the same four products and sums per pixel).
    public static func shiftInPlace(_ image: UnsafeMutableBufferPointer<Float>, width: Int, height: Int,
                                    dx: Float, dy: Float) {
        precondition(image.count >= width * height)
        guard width > 0, height > 0 else { return }
        let k = Kernel(width: width, height: height, dx: dx, dy: dy)
        let img = image.baseAddress!
        // A sampled row: width + 1 values (the last step reads x + 1 ... x + 8 <= width), whole vectors apart.
        let stride = (width + 1 + 7) & ~7
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * stride) { scratch in
            let s = scratch.baseAddress!
            var held = (-1, -1) // the source row in each sampled row (by parity)
            func sampled(_ r: Int) -> UnsafePointer<Float> {
                let parity = r & 1, dst = s + parity * stride
                if (parity == 0 ? held.0 : held.1) == r { return UnsafePointer(dst) }
                if parity == 0 { held.0 = r } else { held.1 = r }
                let row = img + r * width
                // Below `lower` x + ox < 0 (the first pixel), from `upper` on x + ox > width - 1 (the last).
                let lower = min(max(0, -k.ox), stride), upper = max(lower, min(stride, width - k.ox))
                dst.update(repeating: row[0], count: lower)
                (dst + lower).update(from: row + lower + k.ox, count: upper - lower)
                (dst + upper).update(repeating: row[width - 1], count: stride - upper)
                return UnsafePointer(dst)
            }
            func shiftRow(_ y: Int) {
                let s0 = sampled(k.sourceRow(y)), s1 = sampled(k.sourceRow(y + 1))
                k.sampledRow(s0, s1, into: img + y * width)
            }
            if k.oy >= 0 {
                for y in 0 ..< height { shiftRow(y) }
            } else {
                for y in (0 ..< height).reversed() { shiftRow(y) }
            }
        }
    }

    /// Weights and integer offsets of one shift; `row` computes one output row from its two source rows.
    struct Kernel {
        let width: Int, height: Int
        let ox: Int, oy: Int
        let w00: Float, w10: Float, w01: Float, w11: Float
        /// Columns whose four samples lie inside the image: x + ox >= 0 and x + ox + 1 <= width - 1.
        let xin0: Int, xin1: Int

        init(width: Int, height: Int, dx: Float, dy: Float) {
            let sx = -dx, sy = -dy // sample offset
            let fx = sx.rounded(.down), fy = sy.rounded(.down)
            let tx = sx - fx, ty = sy - fy
            self.width = width; self.height = height
            ox = Int(fx); oy = Int(fy)
            w00 = (1 - tx) * (1 - ty); w10 = tx * (1 - ty); w01 = (1 - tx) * ty; w11 = tx * ty
            xin0 = min(max(0, -ox), width); xin1 = max(xin0, min(width, width - 1 - ox))
        }

        /// The clamped source row sampled by output row `y` (pass `y + 1` for the second of the two).
        @inline(__always) func sourceRow(_ y: Int) -> Int { min(max(y + oy, 0), height - 1) }

        @inline(__always) func row(_ r0: UnsafePointer<Float>, _ r1: UnsafePointer<Float>, into d: UnsafeMutablePointer<Float>) {
            @inline(__always) func clampX(_ x: Int) -> Int { min(max(x, 0), width - 1) }
            for x in 0 ..< xin0 {
                let a = clampX(x + ox), b = clampX(x + ox + 1)
                d[x] = w00 * r0[a] + w10 * r0[b] + w01 * r1[a] + w11 * r1[b]
            }
            var x = xin0
            @inline(__always) func load(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
                UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
            }
            while x + 8 <= xin1 { // eight lanes at a time, same arithmetic per pixel
                let a = x + ox
                let v = w00 * load(r0 + a) + w10 * load(r0 + a + 1) + w01 * load(r1 + a) + w11 * load(r1 + a + 1)
                UnsafeMutableRawPointer(d + x).storeBytes(of: v, as: SIMD8<Float>.self)
                x += 8
            }
            while x < xin1 {
                let a = x + ox
                d[x] = w00 * r0[a] + w10 * r0[a + 1] + w01 * r1[a] + w11 * r1[a + 1]
                x += 1
            }
            for x in xin1 ..< width {
                let a = clampX(x + ox), b = clampX(x + ox + 1)
                d[x] = w00 * r0[a] + w10 * r0[b] + w01 * r1[a] + w11 * r1[b]
            }
        }

        /// One output row from two sampled rows (`shiftInPlace`): `width` pixels, eight lanes at a time, the
        /// same arithmetic per pixel as `row`.
        @inline(__always) func sampledRow(_ s0: UnsafePointer<Float>, _ s1: UnsafePointer<Float>,
                                          into d: UnsafeMutablePointer<Float>) {
            @inline(__always) func load(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
                UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
            }
            var x = 0
            while x + 8 <= width {
                let v = w00 * load(s0 + x) + w10 * load(s0 + x + 1) + w01 * load(s1 + x) + w11 * load(s1 + x + 1)
                UnsafeMutableRawPointer(d + x).storeBytes(of: v, as: SIMD8<Float>.self)
                x += 8
            }
            while x < width {
                d[x] = w00 * s0[x] + w10 * s0[x + 1] + w01 * s1[x] + w11 * s1[x + 1]
                x += 1
            }
        }
    }

    /// Bilinear sample of `image` at pixel-index coordinates (x, y) (pixel centres at integers), clamped.
    @inline(__always)
    static func sample(_ image: UnsafePointer<Float>, width: Int, height: Int, x: Float, y: Float) -> Float {
        let fx = x.rounded(.down), fy = y.rounded(.down)
        let tx = x - fx, ty = y - fy
        let x0 = min(max(Int(fx), 0), width - 1), x1 = min(max(Int(fx) + 1, 0), width - 1)
        let y0 = min(max(Int(fy), 0), height - 1), y1 = min(max(Int(fy) + 1, 0), height - 1)
        let a = image[y0 * width + x0], b = image[y0 * width + x1]
        let c = image[y1 * width + x0], d = image[y1 * width + x1]
        return (1 - ty) * ((1 - tx) * a + tx * b) + ty * ((1 - tx) * c + tx * d)
    }
}
