import Foundation
import HDF5

/// The one-rank communicator: every collective is the identity. Used by tests and single-process runs
/// of library code; no MPI call is made.
public final class SelfCommunicator: Communicator {
    public init() {}
    public var rank: Int { 0 }
    public var size: Int { 1 }
    public func barrier() {}
    public func broadcast<T: CommunicatorScalar>(_ values: inout [T], root: Int) {}
    public func allreduce<T: CommunicatorScalar>(_ values: inout [T], _ op: ReduceOperation) {}
    public func allgatherv<T: CommunicatorScalar>(_ values: [T]) -> [T] { values }
    public func gatherv<T: CommunicatorScalar>(_ values: [T], root: Int) -> [T]? { values }
    public func sendReceive<T: CommunicatorScalar>(_ values: UnsafeBufferPointer<T>, to destination: Int?,
                                                   into receive: UnsafeMutableBufferPointer<T>, from source: Int?) {
        // With one rank the only possible partner is itself.
        if destination == 0 && source == 0 {
            precondition(values.count == receive.count, "sendReceive: sizes differ")
            receive.baseAddress?.update(from: values.baseAddress!, count: values.count)
        }
    }
    public func split(color: Int, key: Int) -> Communicator { SelfCommunicator() }
    public func abort(_ message: String, code: Int32) -> Never {
        FileHandle.standardError.write(("stemrun: error: " + message + "\n").data(using: .utf8)!)
        exit(code)
    }
    public func hdf5FileAccess() -> H5PropertyList { H5PropertyList.fileAccess() }
    public func hdf5CollectiveTransfer() -> H5PropertyList? { nil }
}
