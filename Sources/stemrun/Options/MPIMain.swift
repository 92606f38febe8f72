import Distributed
import Foundation

/// Runs a command body on every rank of MPI_COMM_WORLD (also as a one-rank singleton without mpirun).
/// Errors end the process with status 1 after MPI is finalised; the message is printed once (by rank 0, or
/// by the rank that failed when the ranks did not agree).
func runOnWorld(_ body: (Communicator) throws -> Void) throws {
    MPIRuntime.start()
    let world = MPIRuntime.world
    do {
        try body(world)
    } catch let failure as RankFailure {
        if world.rank == 0 { printError("\(failure.message)" + (failure.rank != 0 ? " (on rank \(failure.rank))" : "")) }
        MPIRuntime.finish()
        exit(1)
    } catch {
        // Errors from `collectively` are agreed by all ranks; rank 0 speaks for them.
        if world.rank == 0 { printError(String(describing: error)) }
        MPIRuntime.finish()
        exit(1)
    }
    MPIRuntime.finish()
}

func printError(_ message: String) {
    FileHandle.standardError.write(("stemrun: error: " + message + "\n").data(using: .utf8)!)
}

func printOnRoot(_ comm: Communicator, _ message: String) {
    if comm.isRoot { print(message); fflush(stdout) }
}
