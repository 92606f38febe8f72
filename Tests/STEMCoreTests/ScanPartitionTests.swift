import Testing
import STEMCore

@Suite struct ScanPartitionTests {
    @Test(arguments: [(10, 3), (7, 7), (3, 5), (0, 2), (1000, 1), (16, 4), (17, 4)])
    func blocksCoverEveryPositionOnceAndBalance(total: Int, parts: Int) {
        let p = ScanPartition(total: total, parts: parts)
        var next = 0
        for r in 0 ..< parts {
            let range = p.range(of: r)
            #expect(range.lowerBound == next)
            next = range.upperBound
            for i in range { #expect(p.owner(of: i) == r) }
        }
        #expect(next == total)
        let counts = p.counts
        #expect((counts.max() ?? 0) - (counts.min() ?? 0) <= 1)
        #expect(counts.reduce(0, +) == total)
    }

    @Test func moreRanksThanRowsLeavesTrailingRanksEmpty() {
        let p = ScanPartition(total: 2, parts: 5)
        #expect(p.counts == [1, 1, 0, 0, 0])
    }

    @Test func chunksAreBoundedAndContiguous() {
        let c = ScanPartition.chunks(of: 5 ..< 23, size: 7)
        #expect(c == [5 ..< 12, 12 ..< 19, 19 ..< 23])
    }
}
