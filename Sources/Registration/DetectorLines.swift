/// Rows and columns of a pattern that are zero from edge to edge between rows (columns) that are mostly not,
/// within `PixelStatistics.gapReach` px on both sides: the gaps between a camera's modules or dead lines, which
/// `--find-bad-pixels` finds and fills (`PixelStatistics.detectBadPixels`, `PixelMask.apply`). A band of zero
/// lines at the detector's edge (dark high angles at low dose) has live lines on one side only.
public enum DetectorLines {
    public static func zeroGaps(_ pattern: UnsafeBufferPointer<Float>, width w: Int, height h: Int) -> (rows: Int, columns: Int) {
        precondition(pattern.count >= w * h)
        let p = pattern.baseAddress!
        // Non-zero pixels per row and per column.
        var rowCount = [Int](repeating: 0, count: h), columnCount = [Int](repeating: 0, count: w)
        for y in 0 ..< h {
            for x in 0 ..< w where p[y * w + x] != 0 { rowCount[y] += 1; columnCount[x] += 1 }
        }
        /// Zero lines whose nearest non-zero lines on both sides (within the reach) are non-zero over most of
        /// their length (`length` pixels): a gap in a pattern with counts around it, not the zeros between
        /// the spots of noise-free data or of sparse counting data.
        func gaps(_ counts: [Int], length: Int) -> Int {
            var n = 0
            for i in counts.indices where counts[i] == 0 {
                var sides = 0
                for s in [-1, 1] {
                    var k = 1
                    while k <= PixelStatistics.gapReach {
                        let j = i + s * k
                        if j < 0 || j >= counts.count { break }
                        if counts[j] > 0 { if 2 * counts[j] > length { sides += 1 }; break }
                        k += 1
                    }
                }
                if sides == 2 { n += 1 }
            }
            return n
        }
        return (gaps(rowCount, length: w), gaps(columnCount, length: h))
    }
}
