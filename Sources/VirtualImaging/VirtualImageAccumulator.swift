import STEMCore

/// One pass over a block of patterns that produces, per scan position, the virtual bright-field and annular
/// dark-field signals and the total intensity, and accumulates the sum and the maximum pattern. Memory-bound:
/// every pixel is touched once; the loops vectorise.
public struct VirtualImageAccumulator {
    public let detector: DetectorShape
    public let brightFieldMask: [Float]
    public let annularMask: [Float]
    /// Sum of all patterns seen (Double would double the traffic; Float sums of counts are exact to 2^24
    /// per pixel and the mean is taken after the cross-rank reduction).
    public private(set) var sumPattern: [Float]
    public private(set) var maxPattern: [Float]
    public private(set) var patternsSeen = 0

    public init(detector: DetectorShape, virtualDetector: VirtualDetector) {
        self.detector = detector
        (brightFieldMask, annularMask) = virtualDetector.masks(for: detector)
        sumPattern = [Float](repeating: 0, count: detector.pixelCount)
        maxPattern = [Float](repeating: -Float.infinity, count: detector.pixelCount)
    }

    /// Per-position signals of one pattern.
    public struct Signals: Sendable { public var brightField: Float; public var annular: Float; public var total: Float }

    /// Processes `count` patterns stored back to back in `patterns`, writing their signals to the three
    /// output pointers. Returns the offset inside the block of the first pattern holding NaN or Inf, if any.
    public mutating func accumulate(_ patterns: UnsafeBufferPointer<Float>, count: Int,
                                    brightField: UnsafeMutablePointer<Float>, annular: UnsafeMutablePointer<Float>,
                                    total: UnsafeMutablePointer<Float>) -> Int? {
        let p = detector.pixelCount
        var firstBad: Int?
        brightFieldMask.withUnsafeBufferPointer { bfm in
            annularMask.withUnsafeBufferPointer { adm in
                sumPattern.withUnsafeMutableBufferPointer { sum in
                    maxPattern.withUnsafeMutableBufferPointer { mx in
                        for k in 0 ..< count {
                            let v = patterns.baseAddress! + k * p
                            var bf: Float = 0, adf: Float = 0, tot: Float = 0
                            for i in 0 ..< p {
                                let x = v[i]
                                bf += x * bfm[i]
                                adf += x * adm[i]
                                tot += x
                                sum[i] += x
                                mx[i] = Swift.max(mx[i], x)
                            }
                            brightField[k] = bf
                            annular[k] = adf
                            total[k] = tot
                            if !tot.isFinite && firstBad == nil { firstBad = k }
                        }
                    }
                }
            }
        }
        patternsSeen += count
        return firstBad
    }
}
