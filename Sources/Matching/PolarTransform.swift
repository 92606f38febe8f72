import Foundation
import STEMCore

/// Resamples a pattern onto a (radius, angle) grid: rows are integer radii `minimumRadius ..< minimumRadius +
/// radialBins` pixels, columns the angles φ_a = 2π a / angularBins measured from +x (detector columns) towards +y
/// (rows), bilinear interpolation. Each row is stored twice in a row of 2 × angularBins values so the correlation
/// kernel reads any rotated window contiguously.
public struct PolarTransform: Sendable {
    public let detector: DetectorShape
    public let minimumRadius: Int
    public let radialBins: Int
    public let angularBins: Int
    private let cosines: [Float], sines: [Float]

    public init(detector: DetectorShape, minimumRadius: Int, maximumRadius: Int, angularBins: Int) {
        self.detector = detector
        self.minimumRadius = max(0, minimumRadius)
        radialBins = max(1, maximumRadius - self.minimumRadius + 1)
        self.angularBins = angularBins
        cosines = (0 ..< angularBins).map { Float(cos(2 * Double.pi * Double($0) / Double(angularBins))) }
        sines = (0 ..< angularBins).map { Float(sin(2 * Double.pi * Double($0) / Double(angularBins))) }
    }

    /// Stride between rows of the output (2 × angularBins).
    public var rowStride: Int { 2 * angularBins }
    /// Values of an output image.
    public var outputCount: Int { radialBins * rowStride }

    /// Transforms `pattern` (row-major) about centre (cx, cy), applies `scaling` (negative and non-finite input
    /// values count as 0; samples outside the detector are 0) and, optionally, subtracts each row's mean and
    /// clips at zero. Writes `outputCount` values.
    public func apply(_ pattern: UnsafeBufferPointer<Float>, centreX cx: Double, centreY cy: Double,
                      scaling: IntensityScaling, subtractRadialMean: Bool, smooth: Bool = false,
                      into out: UnsafeMutableBufferPointer<Float>) {
        let rows = detector.rows, cols = detector.columns
        let n = angularBins, stride = rowStride
        let fx = Float(cx), fy = Float(cy)
        let gamma: Float
        switch scaling { case let .gamma(g): gamma = Float(g); default: gamma = 1 }
        // Non-finite and negative values count as 0: clean the pattern once, then sample without checks.
        withUnsafeTemporaryAllocation(of: Float.self, capacity: rows * cols) { clean in
            for i in 0 ..< rows * cols { clean[i] = Self.clean(pattern[i]) }
            let px = UnsafePointer(clean.baseAddress!)
            cosines.withUnsafeBufferPointer { cs in
                sines.withUnsafeBufferPointer { sn in
                    for ri in 0 ..< radialBins {
                        let r = Float(minimumRadius + ri)
                        let row = out.baseAddress! + ri * stride
                        var sum: Float = 0
                        for a in 0 ..< n {
                            let x = fx + r * cs[a], y = fy + r * sn[a]
                            var v: Float = 0
                            // x, y ≥ 0 here, so truncation is the floor.
                            if x >= 0, y >= 0 {
                                let x0 = Int(x), y0 = Int(y)
                                if x0 + 1 < cols, y0 + 1 < rows {
                                    let tx = x - Float(x0), ty = y - Float(y0)
                                    let p = px + (y0 * cols + x0)
                                    v = (p[0] * (1 - tx) + p[1] * tx) * (1 - ty) + (p[cols] * (1 - tx) + p[cols + 1] * tx) * ty
                                }
                            }
                            switch scaling {
                            case .linear: break
                            case .gamma: v = v > 0 ? (gamma == 0.5 ? v.squareRoot() : powf(v, gamma)) : 0
                            case .logarithmic: v = log1pf(v)
                            }
                            row[a] = v
                            sum += v
                        }
                        if subtractRadialMean {
                            let mean = sum / Float(n)
                            for a in 0 ..< n { row[a] = max(0, row[a] - mean) }
                        }
                        for a in 0 ..< n { row[n + a] = row[a] }
                    }
                }
            }
        }
        if smooth { Self.smooth(out, rows: radialBins, n: n) }
    }

    /// [1 2 1]/4 along the angle (circular), then along the radius (edge rows reflected), on the doubled rows.
    static func smooth(_ img: UnsafeMutableBufferPointer<Float>, rows: Int, n: Int) {
        let stride = 2 * n
        withUnsafeTemporaryAllocation(of: Float.self, capacity: n) { tmp in
            for r in 0 ..< rows {
                let row = img.baseAddress! + r * stride
                for a in 0 ..< n {
                    tmp[a] = 0.25 * row[a == 0 ? n - 1 : a - 1] + 0.5 * row[a] + 0.25 * row[a + 1]
                }
                for a in 0 ..< n { row[a] = tmp[a]; row[n + a] = tmp[a] }
            }
        }
        guard rows > 1 else { return }
        withUnsafeTemporaryAllocation(of: Float.self, capacity: stride) { previous in
            let base = img.baseAddress!
            previous.baseAddress!.update(from: base, count: stride)
            for r in 0 ..< rows {
                let row = base + r * stride
                let next = r + 1 < rows ? base + (r + 1) * stride : base + (r - 1) * stride
                let prev = r == 0 ? next : previous.baseAddress!
                for a in 0 ..< stride {
                    let v = row[a]
                    row[a] = 0.25 * prev[a] + 0.5 * v + 0.25 * next[a]
                    previous[a] = v
                }
            }
        }
    }

    @inline(__always) static func clean(_ v: Float) -> Float { v.isFinite && v > 0 ? v : 0 }
}

/// Per-pattern centre finding (see `PatternCentre.directBeam`).
public enum DirectBeamCentre {
    /// Centroid of the pixels above half the maximum inside a disc of `radius` around (x0, y0), iterated three
    /// times from the new estimate; returns (x0, y0) when the disc holds no positive pixel.
    public static func locate(_ pattern: UnsafeBufferPointer<Float>, detector: DetectorShape,
                              x0: Double, y0: Double, radius: Double) -> (x: Double, y: Double) {
        var cx = x0, cy = y0
        let rows = detector.rows, cols = detector.columns
        for _ in 0 ..< 3 {
            let r0 = max(0, Int((cy - radius).rounded(.down))), r1 = min(rows - 1, Int((cy + radius).rounded(.up)))
            let c0 = max(0, Int((cx - radius).rounded(.down))), c1 = min(cols - 1, Int((cx + radius).rounded(.up)))
            guard r0 <= r1, c0 <= c1 else { break }
            let rr = radius * radius
            var peak: Float = 0
            for r in r0 ... r1 {
                for c in c0 ... c1 where Double((r - Int(cy)) * (r - Int(cy)) + (c - Int(cx)) * (c - Int(cx))) <= rr {
                    let v = pattern[r * cols + c]
                    if v.isFinite && v > peak { peak = v }
                }
            }
            guard peak > 0 else { break }
            let half = peak / 2
            var sw = 0.0, sx = 0.0, sy = 0.0
            for r in r0 ... r1 {
                for c in c0 ... c1 {
                    let dx = Double(c) - cx, dy = Double(r) - cy
                    guard dx * dx + dy * dy <= rr else { continue }
                    let v = pattern[r * cols + c]
                    guard v.isFinite, v > half else { continue }
                    let w = Double(v - half)
                    sw += w; sx += w * Double(c); sy += w * Double(r)
                }
            }
            guard sw > 0 else { break }
            cx = sx / sw; cy = sy / sw
        }
        return (cx, cy)
    }
}
