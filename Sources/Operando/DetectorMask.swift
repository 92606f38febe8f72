import STEMCore

/// Pixels excluded from integration, row-major over the detector: `true` = masked (pyFAI's convention,
/// where a non-zero mask value excludes the pixel). Built from module gaps, hot pixels found on a reference
/// image, explicit lists, or combinations of these.
public struct DetectorMask: Hashable, Sendable {
    public let detector: DetectorShape
    public private(set) var isMasked: [Bool]

    /// No pixel masked.
    public init(detector: DetectorShape) {
        self.detector = detector
        self.isMasked = [Bool](repeating: false, count: detector.pixelCount)
    }

    /// A mask from row-major flags (non-zero = masked), e.g. read from a file.
    public init(detector: DetectorShape, flags: [UInt8]) throws {
        guard flags.count == detector.pixelCount else {
            throw STEMError.shapeMismatch(path: "mask", field: "mask", expected: "\(detector.pixelCount) pixels (\(detector))",
                                          found: "\(flags.count)")
        }
        self.detector = detector
        self.isMasked = flags.map { $0 != 0 }
    }

    /// Number of masked pixels.
    public var maskedCount: Int { isMasked.reduce(0) { $0 + ($1 ? 1 : 0) } }

    /// Masks one pixel.
    public mutating func mask(row: Int, column: Int) {
        guard row >= 0, row < detector.rows, column >= 0, column < detector.columns else { return }
        isMasked[row * detector.columns + column] = true
    }

    /// Masks whole detector rows (horizontal module gaps); out-of-range rows are ignored.
    public mutating func maskRows(_ rows: Range<Int>) {
        for r in rows.clamped(to: 0 ..< detector.rows) {
            for c in 0 ..< detector.columns { isMasked[r * detector.columns + c] = true }
        }
    }

    /// Masks whole detector columns (vertical module gaps); out-of-range columns are ignored.
    public mutating func maskColumns(_ columns: Range<Int>) {
        for r in 0 ..< detector.rows {
            for c in columns.clamped(to: 0 ..< detector.columns) { isMasked[r * detector.columns + c] = true }
        }
    }

    /// Masks pixels of a reference image (e.g. a dark frame or the sum of all patterns) that are not finite,
    /// or above `absoluteThreshold`, or above `relativeThreshold` times the median of the positive pixels;
    /// returns how many were newly masked.
    @discardableResult
    public mutating func maskHotPixels(reference: [Float], absoluteThreshold: Float? = nil,
                                       relativeThreshold: Float? = 20) throws -> Int {
        guard reference.count == detector.pixelCount else {
            throw STEMError.shapeMismatch(path: "reference image", field: "pixels",
                                          expected: "\(detector.pixelCount)", found: "\(reference.count)")
        }
        var limit = Float.infinity
        if let a = absoluteThreshold { limit = a }
        if let r = relativeThreshold {
            var positive = reference.filter { $0.isFinite && $0 > 0 }
            if !positive.isEmpty {
                positive.sort()
                let k = positive.count / 2
                limit = min(limit, r * positive[k])
            }
        }
        var added = 0
        for p in 0 ..< reference.count where !isMasked[p] {
            let v = reference[p]
            if !v.isFinite || v > limit { isMasked[p] = true; added += 1 }
        }
        return added
    }

    /// The union of two masks of the same detector.
    public func union(_ other: DetectorMask) throws -> DetectorMask {
        guard other.detector == detector else {
            throw STEMError.shapeMismatch(path: "mask", field: "detector", expected: "\(detector)", found: "\(other.detector)")
        }
        var m = self
        for p in 0 ..< isMasked.count where other.isMasked[p] { m.isMasked[p] = true }
        return m
    }
}
