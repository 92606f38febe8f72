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
    /// The reductions run on 8-wide SIMD accumulators (a scalar Float sum would serialise on the add latency).
    public mutating func accumulate(_ patterns: UnsafeBufferPointer<Float>, count: Int,
                                    brightField: UnsafeMutablePointer<Float>, annular: UnsafeMutablePointer<Float>,
                                    total: UnsafeMutablePointer<Float>) -> Int? {
        let p = detector.pixelCount
        let vectors = p / 8
        var firstBad: Int?
        brightFieldMask.withUnsafeBufferPointer { bfm in
            annularMask.withUnsafeBufferPointer { adm in
                sumPattern.withUnsafeMutableBufferPointer { sum in
                    maxPattern.withUnsafeMutableBufferPointer { mx in
                        let bfv = UnsafeRawPointer(bfm.baseAddress!), adv = UnsafeRawPointer(adm.baseAddress!)
                        let sumv = UnsafeMutableRawPointer(sum.baseAddress!), mxv = UnsafeMutableRawPointer(mx.baseAddress!)
                        for k in 0 ..< count {
                            let v = patterns.baseAddress! + k * p
                            let vv = UnsafeRawPointer(v)
                            var bf = SIMD8<Float>(), adf = SIMD8<Float>(), tot = SIMD8<Float>()
                            for j in 0 ..< vectors {
                                let o = j * 32
                                let x = vv.loadUnaligned(fromByteOffset: o, as: SIMD8<Float>.self)
                                bf += x * bfv.loadUnaligned(fromByteOffset: o, as: SIMD8<Float>.self)
                                adf += x * adv.loadUnaligned(fromByteOffset: o, as: SIMD8<Float>.self)
                                tot += x
                                sumv.storeBytes(of: sumv.loadUnaligned(fromByteOffset: o, as: SIMD8<Float>.self) + x,
                                                toByteOffset: o, as: SIMD8<Float>.self)
                                mxv.storeBytes(of: pointwiseMax(mxv.loadUnaligned(fromByteOffset: o, as: SIMD8<Float>.self), x),
                                               toByteOffset: o, as: SIMD8<Float>.self)
                            }
                            var b = bf.sum(), a = adf.sum(), t = tot.sum()
                            for i in vectors * 8 ..< p {
                                let x = v[i]
                                b += x * bfm[i]; a += x * adm[i]; t += x
                                sum[i] += x
                                mx[i] = Swift.max(mx[i], x)
                            }
                            brightField[k] = b
                            annular[k] = a
                            total[k] = t
                            if !t.isFinite && firstBad == nil { firstBad = k }
                        }
                    }
                }
            }
        }
        patternsSeen += count
        return firstBad
    }
}
