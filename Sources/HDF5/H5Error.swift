import CHDF5
import MPIShim
import STEMCore

/// Thin, typed Swift wrapper over the HDF5 C API. This target never calls MPI: the parallel (MPI-IO) file
/// access property list is built by the Distributed target and passed in as an `H5PropertyList`.
enum H5 {
    /// HDF5 prints its error stack to stderr by default; stemrun reports errors itself.
    static let silenced: Void = {
        H5open()
        shim_hdf5_silence_errors()
    }()

    @inline(__always)
    static func check(_ status: herr_t, _ call: @autoclosure () -> String, path: String) throws {
        if status < 0 { throw STEMError.library(call: call(), detail: "HDF5 error on \(path)") }
    }

    @inline(__always)
    static func check(id: hid_t, _ call: @autoclosure () -> String, path: String) throws -> hid_t {
        if id < 0 { throw STEMError.library(call: call(), detail: "HDF5 error on \(path)") }
        return id
    }
}

/// An owned HDF5 property list (closed on deinit).
public final class H5PropertyList {
    public let id: hid_t
    public init(class cls: hid_t) {
        _ = H5.silenced
        id = H5Pcreate(cls)
    }
    public static func fileAccess() -> H5PropertyList { H5PropertyList(class: shim_H5P_FILE_ACCESS()) }
    public static func datasetTransfer() -> H5PropertyList { H5PropertyList(class: shim_H5P_DATASET_XFER()) }
    public static func datasetCreate() -> H5PropertyList { H5PropertyList(class: shim_H5P_DATASET_CREATE()) }
    deinit { if id >= 0 { H5Pclose(id) } }
}
