import STEMCore

/// The integration regions of virtual imaging on the detector: a bright-field disc of radius `r_BF` around
/// the direct beam and an annular dark-field ring `r_in <= r < r_out`. Pixels are counted when their
/// centre falls inside (pixel (x, y) has its centre at (x, y)).
public struct VirtualDetector: Sendable, Hashable {
    public var centerX: Float
    public var centerY: Float
    public var brightFieldRadius: Float
    public var annularInner: Float
    public var annularOuter: Float

    public init(centerX: Float, centerY: Float, brightFieldRadius: Float, annularInner: Float, annularOuter: Float) {
        self.centerX = centerX
        self.centerY = centerY
        self.brightFieldRadius = brightFieldRadius
        self.annularInner = annularInner
        self.annularOuter = annularOuter
    }

    /// Weight masks over the detector (1 inside, 0 outside): bright field and annular dark field.
    public func masks(for detector: DetectorShape) -> (brightField: [Float], annular: [Float]) {
        var bf = [Float](repeating: 0, count: detector.pixelCount)
        var adf = bf
        let rb2 = brightFieldRadius * brightFieldRadius
        let ri2 = annularInner * annularInner, ro2 = annularOuter * annularOuter
        for y in 0 ..< detector.rows {
            for x in 0 ..< detector.columns {
                let dx = Float(x) - centerX, dy = Float(y) - centerY
                let r2 = dx * dx + dy * dy
                if r2 <= rb2 { bf[y * detector.columns + x] = 1 }
                if r2 >= ri2 && r2 < ro2 { adf[y * detector.columns + x] = 1 }
            }
        }
        return (bf, adf)
    }
}
