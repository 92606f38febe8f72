import Factorization
import Foundation
import STEMCore

/// Loading of the NMF data matrix: each rank reads only its own block of scan positions (streamed in bounded
/// chunks), optionally binned on the detector and averaged with its 3 x 3 scan neighbours.
enum NMFJobData {
    /// How the patterns are prepared before the factorisation (methods notes 3, "Preprocessing matters").
    enum Preprocessing: String, CaseIterable, Sendable {
        case raw
        /// Each pattern averaged with its scan neighbours x-1..x+1, y-1..y+1 (fewer at the edges).
        case mean3x3
        /// Registered-reconstructed patterns read from the file given with --registered.
        case registered
    }

    /// The detector after integer binning (area average of b x b pixels, remainder rows/columns dropped).
    static func binnedDetector(_ detector: DetectorShape, bin: Int) -> DetectorShape {
        DetectorShape(rows: detector.rows / bin, columns: detector.columns / bin)
    }

    /// Pixels of the (binned) detector within `radius` of its centre: the direct-beam mask. Registered patterns
    /// all share a centred direct beam, which otherwise takes the largest weight everywhere.
    static func centralDisc(_ detector: DetectorShape, radius: Double) -> [Int] {
        guard radius > 0 else { return [] }
        let cy = Double(detector.rows - 1) / 2, cx = Double(detector.columns - 1) / 2
        var out: [Int] = []
        for r in 0 ..< detector.rows {
            for c in 0 ..< detector.columns where (Double(r) - cy) * (Double(r) - cy) + (Double(c) - cx) * (Double(c) - cx) <= radius * radius {
                out.append(r * detector.columns + c)
            }
        }
        return out
    }

    /// Rows `range` of the data matrix (range.count x P', binned, preprocessed, negatives clipped, masked pixels
    /// set to 0).
    static func load(source: PatternSource, range: Range<Int>, bin: Int, mean3x3: Bool, mask: [Int] = [],
                     budgetBytes: Int) throws -> [Float] {
        var x = try loadUnmasked(source: source, range: range, bin: bin, mean3x3: mean3x3, budgetBytes: budgetBytes)
        guard !mask.isEmpty else { return x }
        let p = binnedDetector(source.detector, bin: bin).pixelCount
        for i in 0 ..< range.count { for j in mask { x[i * p + j] = 0 } }
        return x
    }

    static func loadUnmasked(source: PatternSource, range: Range<Int>, bin: Int, mean3x3: Bool,
                             budgetBytes: Int) throws -> [Float] {
        let scan = source.scan, det = source.detector
        let binned = binnedDetector(det, bin: bin)
        let p = binned.pixelCount
        // For the 3 x 3 mean, also read one scan row (+1) either side of the block.
        let readRange = mean3x3
            ? max(0, range.lowerBound - scan.columns - 1) ..< min(scan.count, range.upperBound + scan.columns + 1)
            : range
        var loaded = [Float](repeating: 0, count: readRange.count * p)
        var nonFinite: Int? = nil
        try ChunkedScan(source: source, range: readRange, budgetBytes: budgetBytes).forEach { chunk, patterns in
            loaded.withUnsafeMutableBufferPointer { out in
                for k in 0 ..< chunk.count {
                    let src = patterns.baseAddress! + k * det.pixelCount
                    let dst = out.baseAddress! + (chunk.lowerBound - readRange.lowerBound + k) * p
                    if bin == 1 {
                        for i in 0 ..< p {
                            let v = src[i]
                            if !v.isFinite { nonFinite = nonFinite ?? chunk.lowerBound + k }
                            dst[i] = v.isFinite ? max(v, 0) : 0
                        }
                    } else {
                        let scale = 1 / Float(bin * bin)
                        for r in 0 ..< binned.rows {
                            for c in 0 ..< binned.columns {
                                var s: Float = 0
                                for i in 0 ..< bin {
                                    let row = src + (r * bin + i) * det.columns + c * bin
                                    for j in 0 ..< bin { s += row[j] }
                                }
                                if !s.isFinite { nonFinite = nonFinite ?? chunk.lowerBound + k }
                                dst[r * binned.columns + c] = s.isFinite ? max(s * scale, 0) : 0
                            }
                        }
                    }
                }
            }
        }
        if let bad = nonFinite {
            let (row, col) = scan.position(of: bad)
            throw STEMError.invalidValues(path: source.path, location: "scan position (row \(row), column \(col))",
                                          detail: "pattern contains NaN or Inf; NMF needs finite values")
        }
        guard mean3x3 else { return loaded }
        var out = [Float](repeating: 0, count: range.count * p)
        loaded.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for index in range {
                    let (row, col) = scan.position(of: index)
                    let target = dst.baseAddress! + (index - range.lowerBound) * p
                    var count: Float = 0
                    for r in max(0, row - 1) ... min(scan.rows - 1, row + 1) {
                        for c in max(0, col - 1) ... min(scan.columns - 1, col + 1) {
                            let s = src.baseAddress! + (scan.index(row: r, column: c) - readRange.lowerBound) * p
                            for i in 0 ..< p { target[i] += s[i] }
                            count += 1
                        }
                    }
                    let inv = 1 / count
                    for i in 0 ..< p { target[i] *= inv }
                }
            }
        }
        return out
    }
}

/// The communicator's all-reduce as the science targets' reduction closure.
final class CommunicatorReduction: @unchecked Sendable {
    let comm: Communicator
    init(_ comm: Communicator) { self.comm = comm }

    var reduction: Reduction {
        Reduction(sum: { [self] in comm.allreduce(&$0, .sum) },
                  sumDouble: { [self] in comm.allreduce(&$0, .sum) },
                  maximum: { [self] in comm.allreduce(&$0, .max) })
    }
}
