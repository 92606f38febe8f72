import ArgumentParser
import Foundation
import HDF5
import Readers
import STEMCore

/// `stemrun info FILE`: what a file holds.
struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info", abstract: "Print what a dataset file holds: format, shapes, type, size, calibration.")

    @OptionGroup var input: InputOptions

    func run() throws {
        do {
            let spec = try input.spec()
            let source = try spec.open()
            let attrs = try FileManager.default.attributesOfItem(atPath: spec.path)
            let size = (attrs[.size] as? NSNumber)?.intValue ?? 0
            print("file:         \(spec.path)")
            print("format:       \(source.formatName)")
            print("scan:         \(source.scan) positions (\(source.scan.count))")
            print("detector:     \(source.detector) pixels")
            print("dtype:        \(source.elementType.rawValue)")
            print("file size:    \(size) bytes")
            print("pattern data: \(source.scan.count * source.bytesPerPattern) bytes")
            for (k, v) in source.metadata { print("  \(k): \(v)") }
            if source.formatName == "hdf5", let f = try? H5File.open(spec.path) {
                print("datasets:")
                for p in f.datasetPaths(limit: 200) {
                    if let d = try? f.dataset(p) { print("  /\(p)  \(d.shape)  \(d.typeDescription)") }
                }
            }
        } catch {
            printError(String(describing: error))
            throw ExitCode(1)
        }
    }
}
