/// Splits N scan positions into `parts` balanced contiguous blocks (block sizes differ by at most one;
/// the first `N % parts` blocks hold one extra position). Works for any part count, including more parts
/// than positions (the surplus parts own empty ranges) and one part.
public struct ScanPartition: Hashable, Sendable {
    public let total: Int
    public let parts: Int

    public init(total: Int, parts: Int) {
        precondition(total >= 0 && parts >= 1, "ScanPartition needs total >= 0 and parts >= 1")
        self.total = total
        self.parts = parts
    }

    /// The scan indices owned by `part`.
    public func range(of part: Int) -> Range<Int> {
        precondition(part >= 0 && part < parts)
        let base = total / parts, extra = total % parts
        let start = part * base + min(part, extra)
        return start ..< start + base + (part < extra ? 1 : 0)
    }

    /// The part that owns scan index `index`.
    public func owner(of index: Int) -> Int {
        precondition(index >= 0 && index < total)
        let base = total / parts, extra = total % parts
        let cut = extra * (base + 1)
        if index < cut { return index / (base + 1) }
        return extra + (index - cut) / max(base, 1)
    }

    /// Sizes of every part, in order.
    public var counts: [Int] { (0 ..< parts).map { range(of: $0).count } }

    /// The positions of `range` that belong to the even sample of about `samples` of `total` positions (every
    /// `total / samples`-th scan index, from 0): the same sample whatever the partition, each rank reading its
    /// own part of it.
    public static func evenSample(of range: Range<Int>, total: Int, samples: Int) -> StrideTo<Int> {
        let step = max(1, total / max(1, samples))
        let first = (range.lowerBound + step - 1) / step * step
        return stride(from: first, to: range.upperBound, by: step)
    }

    /// Yields sub-ranges of `range` of at most `chunk` positions: the bounded chunks a rank streams through.
    public static func chunks(of range: Range<Int>, size chunk: Int) -> [Range<Int>] {
        precondition(chunk >= 1)
        return stride(from: range.lowerBound, to: range.upperBound, by: chunk).map {
            $0 ..< min($0 + chunk, range.upperBound)
        }
    }
}
