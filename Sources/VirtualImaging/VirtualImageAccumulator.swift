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
    /// Pixels of the bright-field disc.
    private let brightFieldIndex: [Int32]
    /// Pixels of the annulus, or of its complement when that list is shorter (`annularIsComplement`).
    private let annularIndex: [Int32]
    private let annularIsComplement: Bool

    public init(detector: DetectorShape, virtualDetector: VirtualDetector) {
        self.detector = detector
        (brightFieldMask, annularMask) = virtualDetector.masks(for: detector)
        let (bfMask, adfMask) = (brightFieldMask, annularMask)
        brightFieldIndex = bfMask.indices.filter { bfMask[$0] != 0 }.map { Int32($0) }
        let inside = adfMask.indices.filter { adfMask[$0] != 0 }.map { Int32($0) }
        let outside = adfMask.indices.filter { adfMask[$0] == 0 }.map { Int32($0) }
        annularIsComplement = outside.count < inside.count
        annularIndex = annularIsComplement ? outside : inside
        sumPattern = [Float](repeating: 0, count: detector.pixelCount)
        maxPattern = [Float](repeating: -Float.infinity, count: detector.pixelCount)
    }

    /// Processes `count` patterns stored back to back in `patterns`, writing their signals to the three
    /// output pointers. Returns the offset inside the block of the first pattern holding NaN or Inf, if any.
    ///
    /// One pass per pattern: the sum and maximum patterns are updated and the total intensity summed eight
    /// lanes at a time (eight partial sums, so the loop vectorises without reassociating a single sum); the
    /// bright field and the annulus (or, when smaller, its complement, subtracted from the total) are sums
    /// over precomputed pixel-index lists.
    public mutating func accumulate(_ patterns: UnsafeBufferPointer<Float>, count: Int,
                                    brightField: UnsafeMutablePointer<Float>, annular: UnsafeMutablePointer<Float>,
                                    total: UnsafeMutablePointer<Float>) -> Int? {
        let p = detector.pixelCount
        guard count > 0 else { return nil }
        let x = patterns.baseAddress!
        var firstBad: Int?
        let useComplement = annularIsComplement
        sumPattern.withUnsafeMutableBufferPointer { sumBuffer in
            maxPattern.withUnsafeMutableBufferPointer { maxBuffer in
                brightFieldIndex.withUnsafeBufferPointer { bfi in
                    annularIndex.withUnsafeBufferPointer { adi in
                        let s = sumBuffer.baseAddress!, m = maxBuffer.baseAddress!
                        for k in 0 ..< count {
                            let v = x + k * p
                            var t0: Float = 0, t1: Float = 0, t2: Float = 0, t3: Float = 0
                            var t4: Float = 0, t5: Float = 0, t6: Float = 0, t7: Float = 0
                            var i = 0
                            while i + 8 <= p {
                                let a0 = v[i], a1 = v[i + 1], a2 = v[i + 2], a3 = v[i + 3]
                                let a4 = v[i + 4], a5 = v[i + 5], a6 = v[i + 6], a7 = v[i + 7]
                                t0 += a0; t1 += a1; t2 += a2; t3 += a3; t4 += a4; t5 += a5; t6 += a6; t7 += a7
                                s[i] += a0; s[i + 1] += a1; s[i + 2] += a2; s[i + 3] += a3
                                s[i + 4] += a4; s[i + 5] += a5; s[i + 6] += a6; s[i + 7] += a7
                                m[i] = a0 > m[i] ? a0 : m[i]; m[i + 1] = a1 > m[i + 1] ? a1 : m[i + 1]
                                m[i + 2] = a2 > m[i + 2] ? a2 : m[i + 2]; m[i + 3] = a3 > m[i + 3] ? a3 : m[i + 3]
                                m[i + 4] = a4 > m[i + 4] ? a4 : m[i + 4]; m[i + 5] = a5 > m[i + 5] ? a5 : m[i + 5]
                                m[i + 6] = a6 > m[i + 6] ? a6 : m[i + 6]; m[i + 7] = a7 > m[i + 7] ? a7 : m[i + 7]
                                i += 8
                            }
                            while i < p {
                                let a = v[i]
                                t0 += a; s[i] += a; m[i] = a > m[i] ? a : m[i]
                                i += 1
                            }
                            let tot = ((t0 + t1) + (t2 + t3)) + ((t4 + t5) + (t6 + t7))
                            var bf: Float = 0
                            for j in bfi { bf += v[Int(j)] }
                            var ad: Float = 0
                            for j in adi { ad += v[Int(j)] }
                            brightField[k] = bf
                            annular[k] = useComplement ? tot - ad : ad
                            total[k] = tot
                            if firstBad == nil && !(tot + bf).isFinite { firstBad = k }
                        }
                    }
                }
            }
        }
        patternsSeen += count
        return firstBad
    }
}
