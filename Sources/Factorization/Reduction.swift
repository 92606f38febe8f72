/// How a solver combines the partial sums of the ranks that share the data matrix's rows.
///
/// Every distributed kernel of this target computes partial products over its own rows (for example W^T X and
/// W^T W) and hands them, packed in one buffer, to `sum`, which must replace the buffer by the element-wise
/// sum over all ranks (MPI_Allreduce with MPI_SUM in the Distributed target). With one rank it is the identity.
/// Tests emulate r ranks in one process by running r solvers in lock-step and summing their buffers.
public struct Reduction: Sendable {
    /// All-reduce sum of a Float buffer (same length on every rank).
    public var sum: @Sendable (inout [Float]) -> Void
    /// All-reduce sum of a Double buffer, for the few scalars that need double precision (norms, counts).
    public var sumDouble: @Sendable (inout [Double]) -> Void

    /// All-reduce element-wise maximum of a Float buffer (global value ranges: weight normalisation, scaling).
    public var maximum: @Sendable (inout [Float]) -> Void

    public init(sum: @escaping @Sendable (inout [Float]) -> Void,
                sumDouble: @escaping @Sendable (inout [Double]) -> Void,
                maximum: @escaping @Sendable (inout [Float]) -> Void) {
        self.sum = sum
        self.sumDouble = sumDouble
        self.maximum = maximum
    }

    /// One rank: nothing to combine.
    public static let identity = Reduction(sum: { _ in }, sumDouble: { _ in }, maximum: { _ in })

    /// Global minimum and maximum of a local buffer (one max all-reduce of two values).
    public func range(of values: [Float]) -> ClosedRange<Float> {
        var extremes: [Float] = [-(values.min() ?? .infinity), values.max() ?? -.infinity]
        maximum(&extremes)
        let lo = -extremes[0], hi = extremes[1]
        return lo <= hi ? lo ... hi : 0 ... 0
    }
}
