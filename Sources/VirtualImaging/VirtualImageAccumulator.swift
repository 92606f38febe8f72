import CBLAS
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
    /// [bright-field mask | annular mask | ones], P x 3 row-major.
    private let detectorMatrix: [Float]
    private var signals: [Float] = []
    private var ones: [Float] = []

    public init(detector: DetectorShape, virtualDetector: VirtualDetector) {
        self.detector = detector
        (brightFieldMask, annularMask) = virtualDetector.masks(for: detector)
        var m = [Float](repeating: 1, count: 3 * detector.pixelCount)
        for i in 0 ..< detector.pixelCount { m[3 * i] = brightFieldMask[i]; m[3 * i + 1] = annularMask[i] }
        detectorMatrix = m
        sumPattern = [Float](repeating: 0, count: detector.pixelCount)
        maxPattern = [Float](repeating: -Float.infinity, count: detector.pixelCount)
    }

    /// Per-position signals of one pattern.
    public struct Signals: Sendable { public var brightField: Float; public var annular: Float; public var total: Float }

    /// Processes `count` patterns stored back to back in `patterns`, writing their signals to the three
    /// output pointers. Returns the offset inside the block of the first pattern holding NaN or Inf, if any.
    ///
    /// The detector signals of the whole chunk are one matrix product, S (count x 3) = X (count x P) M (P x 3)
    /// with M = [bright-field mask | annular mask | ones], and the sum pattern is X^T 1 (BLAS sgemm / sgemv,
    /// memory-bound); the maximum pattern is a vectorised select loop.
    public mutating func accumulate(_ patterns: UnsafeBufferPointer<Float>, count: Int,
                                    brightField: UnsafeMutablePointer<Float>, annular: UnsafeMutablePointer<Float>,
                                    total: UnsafeMutablePointer<Float>) -> Int? {
        let p = detector.pixelCount
        guard count > 0 else { return nil }
        if signals.count < count * 3 { signals = [Float](repeating: 0, count: count * 3) }
        if ones.count < count { ones = [Float](repeating: 1, count: count) }
        let x = patterns.baseAddress!
        detectorMatrix.withUnsafeBufferPointer { m in
            signals.withUnsafeMutableBufferPointer { s in
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(count), 3, Int32(p), 1, x, Int32(p),
                            m.baseAddress, 3, 0, s.baseAddress, 3)
            }
        }
        ones.withUnsafeBufferPointer { o in
            sumPattern.withUnsafeMutableBufferPointer { sum in
                cblas_sgemv(CblasRowMajor, CblasTrans, Int32(count), Int32(p), 1, x, Int32(p), o.baseAddress, 1, 1,
                            sum.baseAddress, 1)
            }
        }
        maxPattern.withUnsafeMutableBufferPointer { mx in
            let m = mx.baseAddress!
            for k in 0 ..< count {
                let v = x + k * p
                for i in 0 ..< p { let a = v[i]; m[i] = a > m[i] ? a : m[i] }
            }
        }
        var firstBad: Int?
        for k in 0 ..< count {
            brightField[k] = signals[3 * k]
            annular[k] = signals[3 * k + 1]
            total[k] = signals[3 * k + 2]
            if firstBad == nil && !(signals[3 * k] + signals[3 * k + 1] + signals[3 * k + 2]).isFinite { firstBad = k }
        }
        patternsSeen += count
        return firstBad
    }
}
