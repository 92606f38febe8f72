/// Sub-pixel translation by bilinear interpolation (methods notes, section 1, step 2): the output is
/// `out(x, y) = in(x - dx, y - dy)`, with samples beyond the border taken from the nearest edge pixel.
/// The four weights are the same for every pixel, so the kernel is one pass of four multiply-adds.
public enum BilinearShift {
    public static func shift(_ source: UnsafeBufferPointer<Float>, width: Int, height: Int, dx: Float, dy: Float,
                             into destination: UnsafeMutableBufferPointer<Float>) {
        precondition(source.count >= width * height && destination.count >= width * height)
        let sx = -dx, sy = -dy // sample offset
        let fx = sx.rounded(.down), fy = sy.rounded(.down)
        let ox = Int(fx), oy = Int(fy)
        let tx = sx - fx, ty = sy - fy
        let w00 = (1 - tx) * (1 - ty), w10 = tx * (1 - ty), w01 = (1 - tx) * ty, w11 = tx * ty
        let src = source.baseAddress!, dst = destination.baseAddress!
        @inline(__always) func clampX(_ x: Int) -> Int { min(max(x, 0), width - 1) }
        @inline(__always) func clampY(_ y: Int) -> Int { min(max(y, 0), height - 1) }
        // Columns whose four samples lie inside the image: x + ox >= 0 and x + ox + 1 <= width - 1.
        let xin0 = min(max(0, -ox), width), xin1 = max(xin0, min(width, width - 1 - ox))
        for y in 0 ..< height {
            let r0 = src + clampY(y + oy) * width, r1 = src + clampY(y + oy + 1) * width
            let d = dst + y * width
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
