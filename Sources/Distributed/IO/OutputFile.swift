import Foundation
import HDF5
import STEMCore

/// Where an output came from: recorded in `/provenance` of every file stemrun writes.
public struct Provenance: Sendable {
    public var command: String
    public var commandLine: String
    public var parameters: [(String, String)]
    public var inputPath: String
    public var inputBytes: Int = 0
    public var inputChecksum: UInt64 = 0

    public init(command: String, commandLine: String = CommandLine.arguments.joined(separator: " "),
                parameters: [(String, String)] = [], inputPath: String = "") {
        self.command = command
        self.commandLine = commandLine
        self.parameters = parameters
        self.inputPath = inputPath
    }
}

/// An HDF5 output written collectively by every rank of a communicator, with the discipline every
/// command follows: the file is written under `NAME.partial`, renamed to its final name only by `commit()`,
/// which also sets the root attribute `complete = 1` and the provenance (version, command line, parameters,
/// input path, bytes and checksum, rank count, start and end time). A run that fails with an error removes
/// the partial file (`abandon`, from a `defer` after the file's creation); a killed one leaves at most a
/// `.partial` file, never a file that looks complete.
public final class OutputFile {
    public static let stemrunVersion = "0.1.0"

    public let path: String
    public let partialPath: String
    public let comm: Communicator
    public private(set) var file: H5File?
    /// The dataset-transfer property list for collective hyperslab writes.
    public let transfer: H5PropertyList?
    public var provenance: Provenance
    private let started = Date()

    /// Checks the destination up front (folder exists and is writable, enough free space for
    /// `estimatedBytes`), then creates the partial file collectively.
    public init(path: String, comm: Communicator, provenance: Provenance, estimatedBytes: Int = 0) throws {
        self.path = path
        self.partialPath = path + ".partial"
        self.comm = comm
        self.provenance = provenance
        try comm.collectively {
            guard comm.isRoot else { return }
            try OutputFile.checkDestination(path, estimatedBytes: estimatedBytes)
            unlink(path + ".partial")
        }
        let access = comm.hdf5FileAccess()
        let partial = partialPath
        file = try comm.collectively { try H5File.create(partial, access: access) }
        transfer = comm.hdf5CollectiveTransfer()
        try writeProvenance(complete: false)
    }

    /// Fails early, before hours of work: missing folder, unwritable folder, not enough disk space.
    public static func checkDestination(_ path: String, estimatedBytes: Int) throws {
        let folder = (path as NSString).deletingLastPathComponent.isEmpty ? "." : (path as NSString).deletingLastPathComponent
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDir), isDir.boolValue else {
            throw STEMError.outputFailed(path: path, detail: "folder \(folder) does not exist")
        }
        guard access(folder, W_OK) == 0 else {
            throw STEMError.outputFailed(path: path, detail: "folder \(folder) is not writable")
        }
        var fs = statvfs()
        if estimatedBytes > 0, statvfs(folder, &fs) == 0 {
            let free = Int(fs.f_bavail) * Int(fs.f_frsize)
            if free < estimatedBytes {
                throw STEMError.outputFailed(path: path,
                                             detail: "needs about \(estimatedBytes / 1_000_000) MB, only \(free / 1_000_000) MB free in \(folder)")
            }
        }
    }

    /// The open file (valid until commit).
    public var root: H5File {
        guard let f = file else { preconditionFailure("OutputFile used after commit") }
        return f
    }

    private func writeProvenance(complete: Bool) throws {
        let prov = try root.createGroup("provenance")
        try prov.setAttribute("stemrun_version", OutputFile.stemrunVersion)
        try prov.setAttribute("command", provenance.command)
        try prov.setAttribute("command_line", provenance.commandLine)
        try prov.setAttribute("input_path", provenance.inputPath)
        try prov.setAttribute("input_bytes", Int64(provenance.inputBytes))
        try prov.setAttribute("input_checksum", String(format: "%016llx", provenance.inputChecksum))
        try prov.setAttribute("ranks", Int64(comm.size))
        try prov.setAttribute("start_time", ISO8601DateFormatter().string(from: started))
        let params = try prov.createGroup("parameters")
        for (k, v) in provenance.parameters { try params.setAttribute(k, v) }
        if complete {
            try prov.setAttribute("end_time", ISO8601DateFormatter().string(from: Date()))
            try prov.setAttribute("wall_seconds", Date().timeIntervalSince(started))
        }
        try root.setAttribute("complete", Int32(complete ? 1 : 0))
        try root.setAttribute("stemrun_output", provenance.command)
    }

    /// Gives up a file that will not be completed (collective; a no-op after `commit`): closes it on every
    /// rank and removes the partial file. Every dataset and group opened from `root` must have been released
    /// before: a file opened through MPI-IO cannot be closed later and rank by rank (HDF5 would close it at
    /// MPI_Finalize, each rank flushing different metadata, and the mismatched collectives hang).
    public func abandon() {
        guard let f = file else { return }
        try? f.close()
        file = nil
        if comm.isRoot { unlink(partialPath) }
    }

    /// Marks the file complete, closes it on every rank and renames it to its final name (collective).
    /// Every dataset and group opened from `root` must have been released before.
    public func commit() throws {
        try writeProvenance(complete: true)
        try comm.collectively {
            try file?.close()
            file = nil
        }
        try comm.collectively {
            guard comm.isRoot else { return }
            guard rename(partialPath, path) == 0 else {
                throw STEMError.outputFailed(path: path, detail: "rename from \(partialPath): \(String(cString: strerror(errno)))")
            }
        }
    }
}
