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
}
