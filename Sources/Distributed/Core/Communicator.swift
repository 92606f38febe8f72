import HDF5

/// The reductions a `Communicator` offers.
public enum ReduceOperation: Sendable { case sum, max, min }

/// Values that cross rank boundaries. Conformances map each to its MPI datatype (see MPICommunicator).
public protocol CommunicatorScalar: Comparable {
    static var zero: Self { get }
    static func + (a: Self, b: Self) -> Self
}
extension Float: CommunicatorScalar { public static var zero: Float { 0 } }
extension Double: CommunicatorScalar { public static var zero: Double { 0 } }
extension Int: CommunicatorScalar { public static var zero: Int { 0 } }
extension Int32: CommunicatorScalar { public static var zero: Int32 { 0 } }
extension UInt64: CommunicatorScalar {
    public static var zero: UInt64 { 0 }
}
extension UInt8: CommunicatorScalar { public static var zero: UInt8 { 0 } }

/// A group of ranks that compute together: the only way stemrun code talks across processes.
/// `MPICommunicator` is the real one; `SelfCommunicator` is the one-rank, in-process one for tests and
/// single-process use. All collective calls must be made by every rank of the communicator in the same order.
public protocol Communicator: AnyObject {
    var rank: Int { get }
    var size: Int { get }

    func barrier()
    /// Replaces `values` on every rank with root's values (the arrays must have root's length on every rank;
    /// use `broadcastArray` when only the root knows the length).
    func broadcast<T: CommunicatorScalar>(_ values: inout [T], root: Int)
    /// Element-wise reduction of `values` over all ranks, result on every rank. UInt64 sums wrap.
    func allreduce<T: CommunicatorScalar>(_ values: inout [T], _ op: ReduceOperation)
    /// Concatenation of every rank's `values` in rank order, on every rank (lengths may differ).
    func allgatherv<T: CommunicatorScalar>(_ values: [T]) -> [T]
    /// Concatenation in rank order on `root`; nil on the other ranks.
    func gatherv<T: CommunicatorScalar>(_ values: [T], root: Int) -> [T]?
    /// Sends `values` to `destination` while receiving `receive.count` values from `source` into `receive`
    /// (nil = no partner); the deadlock-free exchange used for halo rows, without a copy of either row.
    func sendReceive<T: CommunicatorScalar>(_ values: UnsafeBufferPointer<T>, to destination: Int?,
                                            into receive: UnsafeMutableBufferPointer<T>, from source: Int?)
    /// Splits into sub-communicators: ranks with the same `color` form one, ordered by `key`.
    func split(color: Int, key: Int) -> Communicator
    /// Ends every rank of the job with a message and a non-zero status.
    func abort(_ message: String, code: Int32) -> Never

    /// File access for opening an HDF5 file collectively on this communicator (MPI-IO driver).
    func hdf5FileAccess() -> H5PropertyList
    /// Dataset transfer for collective hyperslab I/O (nil: independent default).
    func hdf5CollectiveTransfer() -> H5PropertyList?
}

extension Communicator {
    public var isRoot: Bool { rank == 0 }

    public func allreduce<T: CommunicatorScalar>(_ value: T, _ op: ReduceOperation) -> T {
        var v = [value]
        allreduce(&v, op)
        return v[0]
    }

    /// Broadcasts an array whose length only root knows.
    public func broadcastArray<T: CommunicatorScalar>(_ values: [T], root: Int = 0) -> [T] {
        var n = [rank == root ? values.count : 0]
        broadcast(&n, root: root)
        var out = rank == root ? values : [T](repeating: .zero, count: n[0])
        broadcast(&out, root: root)
        return out
    }

    /// Broadcasts a string from root.
    public func broadcast(_ text: String, root: Int = 0) -> String {
        let bytes = broadcastArray(Array(text.utf8), root: root)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Runs `body` on every rank, then agrees on the outcome: when any rank threw, every rank throws the
    /// error of the lowest failing rank (no rank is left waiting in a later collective call).
    @discardableResult
    public func collectively<R>(_ body: () throws -> R) throws -> R {
        var result: Result<R, Error>
        do { result = .success(try body()) } catch { result = .failure(error) }
        var failed = Int32(0)
        if case .failure = result { failed = 1 }
        let failingRanks = allgatherv([failed])
        guard let first = failingRanks.firstIndex(of: 1) else { return try result.get() }
        var message = ""
        if case let .failure(error) = result { message = String(describing: error) }
        let agreed = broadcast(message, root: first)
        if case let .failure(error) = result, first == rank { throw error }
        throw RankFailure(rank: first, message: agreed)
    }
}

/// An error raised on another rank, reported identically on every rank.
public struct RankFailure: Error, CustomStringConvertible {
    public let rank: Int
    public let message: String
    public var description: String { message }
}
