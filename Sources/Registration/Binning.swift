import STEMCore

/// Area-average binning (methods notes, section 1, step 1): each output pixel is the mean of a
/// `factor x factor` block of input pixels. Trailing rows/columns that do not fill a block are dropped.
public enum Binning {
    /// The factor that bins a detector of width `width` to `target` (1 when already at or below it).
    public static func factor(width: Int, target: Int) -> Int {
        guard target > 0, width > target else { return 1 }
        return max(1, width / target)
    }

    /// Shape after binning by `factor`.
    public static func binnedShape(_ shape: DetectorShape, factor: Int) -> DetectorShape {
        DetectorShape(rows: shape.rows / max(1, factor), columns: shape.columns / max(1, factor))
    }

    /// Bins one pattern of `shape` into `destination` (`binnedShape(shape, factor).pixelCount` values).
    public static func bin(_ source: UnsafeBufferPointer<Float>, shape: DetectorShape, factor: Int,
                           into destination: UnsafeMutableBufferPointer<Float>) {
        let f = max(1, factor)
        let out = binnedShape(shape, factor: f)
        precondition(source.count >= shape.pixelCount && destination.count >= out.pixelCount)
        let w = shape.columns, ow = out.columns
        let norm = 1 / Float(f * f)
        if f == 2 { return bin2(source.baseAddress!, width: w, into: destination.baseAddress!, rows: out.rows, columns: ow, norm: norm) }
        for oy in 0 ..< out.rows {
            let d = destination.baseAddress! + oy * ow
            for x in 0 ..< ow { d[x] = 0 }
            for dy in 0 ..< f {
                let s = source.baseAddress! + (oy * f + dy) * w
                for ox in 0 ..< ow {
                    var acc: Float = 0
                    let b = s + ox * f
                    for dx in 0 ..< f { acc += b[dx] }
                    d[ox] += acc
                }
            }
            for x in 0 ..< ow { d[x] *= norm }
        }
    }

    /// Factor 2, eight output pixels at a time: the same operations in the same order per pixel as the
    /// general loop, `((0 + ((0 + a) + b)) + ((0 + c) + d)) * norm` for the block (a b / c d).
    static func bin2(_ src: UnsafePointer<Float>, width w: Int, into dst: UnsafeMutablePointer<Float>,
                     rows: Int, columns ow: Int, norm: Float) {
        @inline(__always) func load(_ p: UnsafePointer<Float>) -> SIMD16<Float> {
            UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
        }
        let zero = SIMD8<Float>()
        for oy in 0 ..< rows {
            let s0 = src + 2 * oy * w, s1 = s0 + w
            let d = dst + oy * ow
            var ox = 0
            while ox + 8 <= ow {
                let a = load(s0 + 2 * ox), b = load(s1 + 2 * ox)
                let top = (zero + a.evenHalf) + a.oddHalf, bottom = (zero + b.evenHalf) + b.oddHalf
                UnsafeMutableRawPointer(d + ox).storeBytes(of: ((zero + top) + bottom) * norm, as: SIMD8<Float>.self)
                ox += 8
            }
            while ox < ow {
                let top = (Float(0) + s0[2 * ox]) + s0[2 * ox + 1], bottom = (Float(0) + s1[2 * ox]) + s1[2 * ox + 1]
                d[ox] = ((Float(0) + top) + bottom) * norm
                ox += 1
            }
        }
    }
}
