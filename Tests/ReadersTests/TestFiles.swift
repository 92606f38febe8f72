import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Readers
import STEMCore

/// A fresh temporary folder per test, under $TMPDIR (`make unit-test` gives each run its own and removes it).
func temporaryFolder(_ tag: String) -> String {
    var template = Array((NSTemporaryDirectory() + "stemrun-readers-\(tag)-XXXXXX").utf8CString)
    let p = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
    return String(cString: p!)
}

func writeFile(_ path: String, _ bytes: [UInt8]) throws {
    try WritableFile(path: path, truncate: true).write(at: 0, bytes)
}

/// Reads every pattern of `source` as `parts` ranks would (one `ScanPartition` block each), concatenated.
func readInParts(_ source: PatternSource, parts: Int) throws -> [Float] {
    let partition = ScanPartition(total: source.scan.count, parts: parts)
    var all: [Float] = []
    for p in 0 ..< parts { all += try source.readBlock(partition.range(of: p)).pixels }
    return all
}

/// Checks that 1, 2 and 3 "ranks" read exactly `expected`.
func expectSameInParts(_ source: PatternSource, _ expected: [Float]) throws -> Bool {
    for parts in 1 ... 3 where try readInParts(source, parts: parts) != expected { return false }
    return true
}

/// Captures the description of the error `body` throws (nil if none).
func errorText(_ body: () throws -> Void) -> String? {
    do { try body(); return nil } catch { return "\(error)" }
}

/// Big- or little-endian byte encodings.
func be<T: FixedWidthInteger>(_ v: T) -> [UInt8] { withUnsafeBytes(of: v.bigEndian) { Array($0) } }
func le<T: FixedWidthInteger>(_ v: T) -> [UInt8] { withUnsafeBytes(of: v.littleEndian) { Array($0) } }

/// A deterministic pseudo-random generator (SplitMix64) for test data.
struct TestRandom {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}

/// Pattern values below `maximum` for `count` patterns of `pixels` pixels.
func testPatterns(count: Int, pixels: Int, maximum: Int, seed: UInt64) -> [Float] {
    var r = TestRandom(state: seed)
    return (0 ..< count * pixels).map { _ in Float(r.below(maximum)) }
}

/// Flips each pattern vertically (what the MIB reader does by default).
func flipped(_ values: [Float], detector: DetectorShape) -> [Float] {
    var out = values
    let P = detector.pixelCount, w = detector.columns
    for p in 0 ..< values.count / P {
        for r in 0 ..< detector.rows {
            for c in 0 ..< w { out[p * P + r * w + c] = values[p * P + (detector.rows - 1 - r) * w + c] }
        }
    }
    return out
}
