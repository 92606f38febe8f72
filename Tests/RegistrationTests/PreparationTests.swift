import Testing
import STEMCore
import Registration

/// `RegistrationPipeline.prepareBatch` (stages 1 and 2 of a scan row with no second copy of the row) against
/// the stages run one by one (`prepare` into a separate buffer, then `centre`), bit for bit.
@Suite struct PreparationTests {
    /// Seven 24 x 24 patterns (48 x 48 with binning), each with its beam off-centre by a different amount and
    /// a NaN and an infinity in each of the first two, so that centring, sanitising and counting all act.
    func inputRow(width: Int) -> [Float] {
        var rng = SplitMix64(seed: 7)
        var out = [Float]()
        for k in 0 ..< 7 {
            let beam = (Double(width) / 2 + Double(k % 3) * 1.3 - 1.1, Double(width) / 2 - Double(k % 4) * 0.9 + 0.4)
            let sigma = Double(width) / 24 * 1.5
            var pattern = SyntheticPattern(width: width, height: width, spots: [TrueSpot(x: beam.0, y: beam.1, amplitude: 400, sigma: sigma)])
            pattern.spots.append(TrueSpot(x: beam.0 + Double(width) / 4, y: beam.1 + 1, amplitude: 80, sigma: sigma))
            var px = pattern.render(poisson: &rng)
            if k < 2 { px[3 + k] = .nan; px[width * 5 + k] = .infinity }
            out += px
        }
        return out
    }

    @Test(arguments: [(24, 1, 7), (48, 2, 3), (48, 2, 1), (48, 2, 7)])
    func prepareBatchEqualsPrepareThenCentre(detector: Int, factor: Int, stagingPatterns: Int) throws {
        var p = RegistrationParameters(workingWidth: detector / factor)
        p.binning = factor > 1; p.binningFactor = factor
        p.centringInitialRadius = 8; p.centringMinimumRadius = 2
        let shape = DetectorShape(rows: detector, columns: detector)
        let pipeline = try RegistrationPipeline(parameters: p, inputShape: shape)
        let input = inputRow(width: detector)
        let nw = pipeline.workingShape.pixelCount, count = 7

        var expected = [Float](repeating: 0, count: count * nw)
        let expectedInvalid = input.withUnsafeBufferPointer { s in
            expected.withUnsafeMutableBufferPointer { pipeline.prepare(s, count: count, into: $0) }
        }
        let centring = expected.withUnsafeMutableBufferPointer { pipeline.centre($0, count: count) }
        #expect(expectedInvalid == 4)
        #expect(centring.shifts.allSatisfy { abs($0.dx) + abs($0.dy) > 0.05 }, "every pattern is shifted")

        var output = [Float](repeating: -1, count: count * nw)
        var staging = [Float](repeating: 0, count: factor == 1 ? 0 : stagingPatterns * shape.pixelCount)
        var reads: [Range<Int>] = []
        let prepared = input.withUnsafeBufferPointer { src in
            output.withUnsafeMutableBufferPointer { out in staging.withUnsafeMutableBufferPointer { st in
                pipeline.prepareBatch(count: count, into: out, staging: st) { range, buffer in
                    reads.append(range)
                    #expect(buffer.count == range.count * shape.pixelCount)
                    _ = buffer.update(fromContentsOf: src[range.lowerBound * shape.pixelCount ..< range.upperBound * shape.pixelCount])
                }
            } }
        }
        #expect(prepared.invalid == expectedInvalid)
        #expect(output == expected)
        let sameShifts = prepared.shifts.elementsEqual(centring.shifts) { (a: (dx: Float, dy: Float), b: (dx: Float, dy: Float)) -> Bool in
            a.dx == b.dx && a.dy == b.dy
        }
        #expect(sameShifts, "prepareBatch returns the centring's shifts")
        // Without binning one read of the whole row; with binning groups of the staging size, in order.
        let group = factor == 1 ? count : stagingPatterns
        #expect(reads == stride(from: 0, to: count, by: group).map { $0 ..< min(count, $0 + group) })
    }
}
