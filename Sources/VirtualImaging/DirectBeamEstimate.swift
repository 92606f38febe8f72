import STEMCore

/// Locates the direct beam in a (mean) pattern: the intensity centroid of the pixels above half the
/// maximum of a 3 x 3 box-smoothed copy, restricted to the connected bright region around the maximum; the
/// disc radius is sqrt(area / pi) of that region. Used to place virtual detectors when the user gives none.
public enum DirectBeamEstimate {
    public struct Result: Sendable, Equatable {
        public var centerX: Float
        public var centerY: Float
        public var radius: Float
    }

    public static func estimate(_ pattern: [Float], detector: DetectorShape) -> Result {
        let w = detector.columns, h = detector.rows
        var smooth = [Float](repeating: 0, count: pattern.count)
        for y in 0 ..< h {
            for x in 0 ..< w {
                var s: Float = 0, n: Float = 0
                for yy in max(0, y - 1) ... min(h - 1, y + 1) {
                    for xx in max(0, x - 1) ... min(w - 1, x + 1) {
                        let v = pattern[yy * w + xx]
                        if v.isFinite { s += v; n += 1 }
                    }
                }
                smooth[y * w + x] = n > 0 ? s / n : 0
            }
        }
        guard let peak = smooth.indices.max(by: { smooth[$0] < smooth[$1] }), smooth[peak] > 0 else {
            return Result(centerX: Float(w - 1) / 2, centerY: Float(h - 1) / 2, radius: Float(min(w, h)) / 16)
        }
        let background = smooth.sorted()[smooth.count / 2]
        let threshold = background + (smooth[peak] - background) / 2
        // Flood fill from the peak over pixels above the threshold.
        var inside = [Bool](repeating: false, count: smooth.count)
        var stack = [peak]
        inside[peak] = true
        var sx: Double = 0, sy: Double = 0, sw: Double = 0, area = 0
        while let i = stack.popLast() {
            let x = i % w, y = i / w
            let v = Double(max(0, pattern[i].isFinite ? pattern[i] : 0) - background)
            sx += v * Double(x); sy += v * Double(y); sw += v; area += 1
            for (nx, ny) in [(x - 1, y), (x + 1, y), (x, y - 1), (x, y + 1)] where nx >= 0 && ny >= 0 && nx < w && ny < h {
                let j = ny * w + nx
                if !inside[j] && smooth[j] >= threshold { inside[j] = true; stack.append(j) }
            }
        }
        let cx = sw > 0 ? Float(sx / sw) : Float(peak % w)
        let cy = sw > 0 ? Float(sy / sw) : Float(peak / w)
        return Result(centerX: cx, centerY: cy, radius: Float((Double(area) / Double.pi).squareRoot()))
    }
}
