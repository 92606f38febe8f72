/// Assignment of the k values of a sweep to groups of ranks (sub-communicators), balanced by cost.
public struct KSweepPlan: Sendable, Equatable {
    /// k values per group, each group's list in increasing k.
    public var groups: [[Int]]
    /// Predicted cost per group.
    public var loads: [Double]

    /// Longest-processing-time-first (Graham 1969): k values by decreasing cost, each to the least loaded group
    /// (lowest index on ties). Within 4/3 of the optimal makespan. The default cost is proportional to k (the
    /// sgemm flops of an iteration are 4 n p k); `cost` may be a measured model, e.g. a + b k.
    public static func balance(ks: [Int], groups count: Int, cost: (Int) -> Double = { Double($0) }) throws -> KSweepPlan {
        guard count >= 1 else {
            throw NMFError.invalidParameter(name: "groups", value: "\(count)", expected: ">= 1")
        }
        guard !ks.isEmpty, ks.allSatisfy({ $0 >= 1 }), Set(ks).count == ks.count else {
            throw NMFError.invalidParameter(name: "k values", value: "\(ks)", expected: "distinct values >= 1")
        }
        var groups = [[Int]](repeating: [], count: count)
        var loads = [Double](repeating: 0, count: count)
        for k in ks.sorted(by: { cost($0) != cost($1) ? cost($0) > cost($1) : $0 > $1 }) {
            let target = loads.indices.min { loads[$0] != loads[$1] ? loads[$0] < loads[$1] : $0 < $1 }!
            groups[target].append(k)
            loads[target] += cost(k)
        }
        return KSweepPlan(groups: groups.map { $0.sorted() }, loads: loads)
    }

    /// The group that fits `k`.
    public func group(of k: Int) -> Int? { groups.firstIndex { $0.contains(k) } }
}
