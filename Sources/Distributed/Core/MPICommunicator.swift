import CMPI
import Foundation
import HDF5
import MPIShim

/// Process-wide MPI state: initialised once (thread level FUNNELED: only the main thread calls MPI),
/// finalised once at exit.
public enum MPIRuntime {
    private static let initialized: Bool = {
        var flag: Int32 = 0
        MPI_Initialized(&flag)
        if flag == 0 {
            var provided: Int32 = 0
            MPI_Init_thread(nil, nil, shim_thread_funneled(), &provided)
        }
        MPI_Comm_set_errhandler(shim_comm_world(), shim_errors_return())
        return true
    }()

    /// Initialises MPI if needed (idempotent; also works as a one-rank singleton without mpirun).
    public static func start() { _ = initialized }

    /// Finalises MPI; no MPI call may follow.
    public static func finish() {
        var flag: Int32 = 0
        MPI_Finalized(&flag)
        if flag == 0 { MPI_Finalize() }
    }

    /// The world communicator.
    public static var world: MPICommunicator {
        start()
        return MPICommunicator(handle: shim_comm_world(), owned: false)
    }
}

/// A real MPI communicator (OpenMPI).
public final class MPICommunicator: Communicator {
    let handle: MPI_Comm
    private let owned: Bool
    public let rank: Int
    public let size: Int

    init(handle: MPI_Comm, owned: Bool) {
        self.handle = handle
        self.owned = owned
        var r: Int32 = 0, s: Int32 = 0
        MPI_Comm_rank(handle, &r)
        MPI_Comm_size(handle, &s)
        rank = Int(r)
        size = Int(s)
    }

    deinit {
        if owned {
            var flag: Int32 = 0
            MPI_Finalized(&flag)
            if flag == 0 { var h: MPI_Comm? = handle; MPI_Comm_free(&h) }
        }
    }

    private func datatype<T>(_ type: T.Type) -> MPI_Datatype {
        switch type {
        case is Float.Type: return shim_float()
        case is Double.Type: return shim_double()
        case is Int.Type: return shim_int64()
        case is Int32.Type: return shim_int32()
        case is UInt64.Type: return shim_uint64()
        case is UInt8.Type: return shim_byte()
        default: fatalError("no MPI datatype for \(T.self)")
        }
    }

    private func check(_ code: Int32, _ call: String) {
        if code != MPI_SUCCESS { abort("\(call) failed with MPI error \(code)", code: 2) }
    }

    public func barrier() { check(MPI_Barrier(handle), "MPI_Barrier") }

    public func broadcast<T: CommunicatorScalar>(_ values: inout [T], root: Int) {
        guard !values.isEmpty else { return }
        let n = Int32(values.count)
        values.withUnsafeMutableBufferPointer {
            check(MPI_Bcast($0.baseAddress, n, datatype(T.self), Int32(root), handle), "MPI_Bcast")
        }
    }

    public func allreduce<T: CommunicatorScalar>(_ values: inout [T], _ op: ReduceOperation) {
        guard !values.isEmpty else { return }
        let mop: MPI_Op
        switch op {
        case .sum: mop = shim_op_sum()
        case .max: mop = shim_op_max()
        case .min: mop = shim_op_min()
        }
        let n = Int32(values.count)
        values.withUnsafeMutableBufferPointer {
            check(MPI_Allreduce(shim_in_place(), $0.baseAddress, n, datatype(T.self), mop, handle), "MPI_Allreduce")
        }
    }

    private func countsAndDisplacements(_ localCount: Int) -> (counts: [Int32], displs: [Int32], total: Int) {
        var counts = [Int32](repeating: 0, count: size)
        var mine = Int32(localCount)
        check(MPI_Allgather(&mine, 1, shim_int32(), &counts, 1, shim_int32(), handle), "MPI_Allgather")
        var displs = [Int32](repeating: 0, count: size)
        for i in 1 ..< max(size, 1) { displs[i] = displs[i - 1] + counts[i - 1] }
        return (counts, displs, counts.reduce(0) { $0 + Int($1) })
    }

    public func allgatherv<T: CommunicatorScalar>(_ values: [T]) -> [T] {
        let (counts, displs, total) = countsAndDisplacements(values.count)
        var out = [T](repeating: .zero, count: total)
        values.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                check(MPI_Allgatherv(src.baseAddress, Int32(values.count), datatype(T.self), dst.baseAddress,
                                     counts, displs, datatype(T.self), handle), "MPI_Allgatherv")
            }
        }
        return out
    }

    public func gatherv<T: CommunicatorScalar>(_ values: [T], root: Int) -> [T]? {
        var counts = [Int32](repeating: 0, count: size)
        var mine = Int32(values.count)
        check(MPI_Gather(&mine, 1, shim_int32(), &counts, 1, shim_int32(), Int32(root), handle), "MPI_Gather")
        var displs = [Int32](repeating: 0, count: size)
        for i in 1 ..< max(size, 1) { displs[i] = displs[i - 1] + counts[i - 1] }
        let total = rank == root ? counts.reduce(0) { $0 + Int($1) } : 0
        var out = [T](repeating: .zero, count: max(total, 1))
        values.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                check(MPI_Gatherv(src.baseAddress, Int32(values.count), datatype(T.self), dst.baseAddress,
                                  counts, displs, datatype(T.self), Int32(root), handle), "MPI_Gatherv")
            }
        }
        return rank == root ? Array(out.prefix(total)) : nil
    }

    /// Elements per MPI message of `sendReceive`: MPI counts are 32-bit, so a longer exchange goes in pieces
    /// (a halo row of 2048 scan columns of 1024 x 1024 patterns is 2^31 floats). `STEMRUN_MPI_MAX_MESSAGE`
    /// lowers it (tests exercise the pieces on small data).
    static let maxMessageElements: Int = {
        let limit = Int(Int32.max)
        let given = ProcessInfo.processInfo.environment["STEMRUN_MPI_MAX_MESSAGE"].flatMap(Int.init)
        guard let v = given, v > 0 else { return limit }
        return min(v, limit)
    }()

    /// One `MPI_Sendrecv` per piece of at most `maxMessageElements`. Both sides loop until their sends and
    /// receives are done; an exchange in pieces needs partners that trade equal counts (the halo rows), a
    /// shorter one is a single call as before.
    public func sendReceive<T: CommunicatorScalar>(_ values: UnsafeBufferPointer<T>, to destination: Int?,
                                                   into receive: UnsafeMutableBufferPointer<T>, from source: Int?) {
        let dest = destination.map { Int32($0) } ?? shim_proc_null()
        let src = source.map { Int32($0) } ?? shim_proc_null()
        let sendTotal = destination == nil ? 0 : values.count, receiveTotal = source == nil ? 0 : receive.count
        let piece = Self.maxMessageElements
        precondition(max(sendTotal, receiveTotal) <= piece || destination == nil || source == nil
                     || sendTotal == receiveTotal, "sendReceive in pieces needs equal send and receive counts")
        var sent = 0, received = 0
        repeat {
            let s = min(piece, sendTotal - sent), r = min(piece, receiveTotal - received)
            let from = values.baseAddress.map { UnsafeRawPointer($0 + sent) }
            let into = receive.baseAddress.map { UnsafeMutableRawPointer($0 + received) }
            check(MPI_Sendrecv(from, Int32(s), datatype(T.self), dest, 17, into, Int32(r), datatype(T.self), src, 17,
                               handle, shim_status_ignore()), "MPI_Sendrecv")
            sent += s; received += r
        } while sent < sendTotal || received < receiveTotal
    }

    public func split(color: Int, key: Int) -> Communicator {
        var newComm: MPI_Comm? = nil
        check(MPI_Comm_split(handle, Int32(color), Int32(key), &newComm), "MPI_Comm_split")
        return MPICommunicator(handle: newComm!, owned: true)
    }

    public func abort(_ message: String, code: Int32) -> Never {
        FileHandle.standardError.write(("stemrun: error (rank \(rank)): " + message + "\n").data(using: .utf8)!)
        MPI_Abort(handle, code)
        exit(code)
    }

    public func hdf5FileAccess() -> H5PropertyList {
        let fapl = H5PropertyList.fileAccess()
        if shim_set_fapl_mpio(fapl.id, handle) < 0 { abort("H5Pset_fapl_mpio failed", code: 2) }
        return fapl
    }

    public func hdf5CollectiveTransfer() -> H5PropertyList? {
        let dxpl = H5PropertyList.datasetTransfer()
        if shim_set_dxpl_collective(dxpl.id) < 0 { abort("H5Pset_dxpl_mpio failed", code: 2) }
        return dxpl
    }
}
