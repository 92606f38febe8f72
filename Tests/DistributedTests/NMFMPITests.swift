import Foundation
import HDF5
import Testing

/// `stemrun nmf` under mpirun: 1, 2 and 4 ranks give the same factors and sweep; 2 groups of ranks give the same
/// sweep as 1 group; stacked equals unstacked; bad k ranges are clear errors.
@Suite(.serialized) struct NMFMPITests {
    static let sweep = ["--k-range", "3-6", "--max-iter", "60", "--tol", "0", "--loss-iter", "30", "--restarts", "0"]

    /// A small simulated polycrystal (12 x 12 positions, 32 x 32 patterns, 4 grains) shared by the tests.
    static let dataset: String = {
        let dir = StemrunProcess.temporaryFolder("stemrun-nmf")
        let path = dir + "/sample.h5"
        let r = try? StemrunProcess.run(["simulate", "--output", path, "--scan", "12x12", "--detector", "32x32",
                                         "--grains", "4", "--seed", "3"])
        precondition(r?.status == 0, "simulate failed: \(r?.stderr ?? "")")
        return path
    }()

    struct Fit {
        var weights: [Float], components: [Float], loss: [Double], relative: [Double], chosen: Int, labels: [Int32]
    }

    func runNMF(_ extra: [String], ranks: Int?, variant: String = "raw") throws -> Fit {
        let dir = StemrunProcess.temporaryFolder("stemrun-nmf-run")
        let out = dir + "/nmf.h5"
        let r = try StemrunProcess.run(["nmf", Self.dataset, "-o", out, "--k", "4"] + Self.sweep + extra, ranks: ranks)
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let f = try H5File.open(out)
        #expect(f.numericAttribute("complete") == [1])
        let base = "nmf/" + variant
        let g = try f.group(base)
        return Fit(weights: try f.dataset(base + "/weights").readAll(as: Float.self),
                   components: try f.dataset(base + "/components").readAll(as: Float.self),
                   loss: try f.dataset(base + "/component_loss").readAll(as: Double.self),
                   relative: try f.dataset(base + "/frobenius_relative_error").readAll(as: Double.self),
                   chosen: Int(g.numericAttribute("chosen_k")?.first ?? -1),
                   labels: try f.dataset(base + "/labels").readAll(as: Int32.self))
    }

    func close(_ a: [Float], _ b: [Float], _ tolerance: Float) -> Bool {
        guard a.count == b.count else { return false }
        let scale = max(a.map(abs).max() ?? 0, 1e-30)
        return zip(a, b).allSatisfy { abs($0 - $1) <= tolerance * scale }
    }

    func close(_ a: [Double], _ b: [Double], _ tolerance: Double) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= tolerance * max(abs($1), 1e-30) }
    }

    @Test func sameFactorsOnOneTwoFourRanks() throws {
        let one = try runNMF([], ranks: 1)
        #expect(one.chosen == 4 && one.weights.count == 144 * 4 && one.components.count == 4 * 1024)
        #expect(one.loss.count == 4 && one.loss.allSatisfy { $0 > 0 } && one.relative.allSatisfy { $0 > 0 && $0 < 1 })
        for ranks in [2, 4] {
            let other = try runNMF([], ranks: ranks)
            #expect(close(other.weights, one.weights, 2e-3), "weights differ with \(ranks) ranks")
            #expect(close(other.components, one.components, 2e-3), "components differ with \(ranks) ranks")
            #expect(close(other.loss, one.loss, 1e-3) && close(other.relative, one.relative, 1e-3))
            #expect(other.labels == one.labels)
        }
    }

    /// The 3 x 3 mean reads one scan row either side of each rank's block: the partition must not show.
    @Test func meanThreeByThreeIsPartitionIndependent() throws {
        let one = try runNMF(["--preprocess", "raw,mean3x3"], ranks: 1, variant: "mean3x3")
        let three = try runNMF(["--preprocess", "raw,mean3x3"], ranks: 3, variant: "mean3x3")
        let raw = try runNMF(["--preprocess", "raw,mean3x3"], ranks: 3, variant: "raw")
        #expect(close(three.weights, one.weights, 2e-3) && close(three.relative, one.relative, 1e-3))
        // Averaging removes noise: the 3 x 3 mean is fitted better than the raw patterns at every k.
        #expect(zip(one.relative, raw.relative).allSatisfy { $0 < $1 })
    }

    @Test func twoGroupsGiveTheSameSweepAsOneGroup() throws {
        let one = try runNMF(["--groups", "1"], ranks: 4)
        let two = try runNMF(["--groups", "2"], ranks: 4)
        #expect(close(two.loss, one.loss, 1e-3) && close(two.relative, one.relative, 1e-3))
        #expect(close(two.weights, one.weights, 2e-3))
        let unstacked = try runNMF(["--groups", "2", "--no-stack"], ranks: 2)
        #expect(close(unstacked.relative, one.relative, 1e-3))
    }

    /// --mask-radius zeroes the direct-beam disc before the fit: the components vanish there.
    @Test func centralMaskRemovesTheDirectBeam() throws {
        let masked = try runNMF(["--mask-radius", "3"], ranks: 2)
        let plain = try runNMF([], ranks: 2)
        for c in 0 ..< 4 {
            #expect(masked.components[c * 1024 + 16 * 32 + 16] == 0 && masked.components[c * 1024 + 15 * 32 + 17] == 0)
        }
        #expect(plain.components.enumerated().filter { $0.offset % 1024 == 16 * 32 + 16 }.contains { $0.element > 0 })
    }

    @Test func badKRangesAreClearErrors() throws {
        let dir = StemrunProcess.temporaryFolder("stemrun-nmf-bad")
        let tooFew = try StemrunProcess.run(["nmf", Self.dataset, "-o", dir + "/a.h5", "--k-range", "3-4"], ranks: 2)
        #expect(tooFew.status != 0 && tooFew.stderr.contains("at least 3 k values"))
        let outside = try StemrunProcess.run(["nmf", Self.dataset, "-o", dir + "/b.h5", "--k-range", "3-6", "--k", "9"])
        #expect(outside.status != 0 && outside.stderr.contains("--k"))
        let huge = try StemrunProcess.run(["nmf", Self.dataset, "-o", dir + "/c.h5", "--k-range", "3-500"])
        #expect(huge.status != 0 && huge.stderr.contains("min(positions, pixels)"))
        let groups = try StemrunProcess.run(["nmf", Self.dataset, "-o", dir + "/d.h5", "--groups", "3"], ranks: 2)
        #expect(groups.status != 0 && groups.stderr.contains("--groups"))
        #expect(!FileManager.default.fileExists(atPath: dir + "/a.h5"))
    }
}
