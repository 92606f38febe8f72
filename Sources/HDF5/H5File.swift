import CHDF5
import Foundation
import MPIShim
import STEMCore

/// An open HDF5 file. Serial by default; pass a file-access property list carrying the MPI-IO driver
/// (built by the Distributed target) to open it collectively on every rank.
public final class H5File: H5Location {
    /// Opens an existing file, read-only unless `writable`.
    public static func open(_ path: String, writable: Bool = false, access: H5PropertyList? = nil) throws -> H5File {
        _ = H5.silenced
        guard FileManager.default.fileExists(atPath: path) else { throw STEMError.fileNotFound(path: path) }
        guard H5Fis_hdf5(path) > 0 else {
            throw STEMError.badFormat(path: path, location: "offset 0", expected: "an HDF5 file (signature \\x89HDF)",
                                      found: "another format")
        }
        let flags = writable ? shim_H5F_ACC_RDWR() : shim_H5F_ACC_RDONLY()
        let id = H5Fopen(path, flags, access?.id ?? shim_H5P_DEFAULT())
        guard id >= 0 else {
            throw STEMError.library(call: "H5Fopen", detail: "\(path) cannot be opened (corrupt or locked?)")
        }
        return H5File(id: id, filePath: path, name: "/")
    }

    /// Creates (truncating) a file.
    public static func create(_ path: String, access: H5PropertyList? = nil) throws -> H5File {
        _ = H5.silenced
        let id = H5Fcreate(path, shim_H5F_ACC_TRUNC(), shim_H5P_DEFAULT(), access?.id ?? shim_H5P_DEFAULT())
        guard id >= 0 else {
            throw STEMError.outputFailed(path: path, detail: "H5Fcreate failed (folder missing or not writable?)")
        }
        return H5File(id: id, filePath: path, name: "/")
    }

    /// Flushes buffered data to disk.
    public func flush() { H5Fflush(id, H5F_SCOPE_GLOBAL) }

    private var closed = false

    /// Closes the file now (every dataset and group opened from it must have been released first: files
    /// opened through MPI-IO refuse to close with open objects). Idempotent.
    public func close() throws {
        guard !closed else { return }
        closed = true
        try H5.check(H5Fclose(id), "H5Fclose", path: filePath)
    }

    deinit { if !closed { H5Fclose(id) } }
}
