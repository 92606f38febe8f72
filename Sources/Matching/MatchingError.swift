/// Errors of the matching target; each says what is wrong and what was expected.
public enum MatchingError: Error, CustomStringConvertible, Sendable, Equatable {
    case invalidParameter(name: String, value: String, expected: String)
    /// A phase gave no template with a spot inside the detector radius range.
    case noReflections(phase: String, detail: String)
    /// A flat library representation is inconsistent (wrong lengths, bad offsets).
    case corruptLibrary(detail: String)
    /// The library was built for other parameters than the ones requested.
    case libraryMismatch(expectedHash: UInt64, foundHash: UInt64)

    public var description: String {
        switch self {
        case let .invalidParameter(name, value, expected):
            return "invalid \(name) '\(value)': expected \(expected)"
        case let .noReflections(phase, detail):
            return "phase \(phase): no reflections on the detector (\(detail)); check the calibration, radius range and gMax"
        case let .corruptLibrary(detail):
            return "template library is corrupt: \(detail)"
        case let .libraryMismatch(e, f):
            return "template library hash \(String(f, radix: 16)) does not match the parameters (expected \(String(e, radix: 16))); rebuild the cache"
        }
    }
}
