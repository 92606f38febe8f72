import ArgumentParser
import Distributed
import Foundation
import STEMCore

/// `stemrun virtual`: the first distributed job (virtual BF/ADF images, mean and max pattern).
struct VirtualCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "virtual",
        abstract: "Virtual bright-field and annular dark-field images, mean and maximum pattern (run under mpirun).")

    @OptionGroup var input: InputOptions

    @Option(name: .shortAndLong, help: "Output HDF5 file.")
    var output: String = "virtual.h5"

    @Option(help: "Folder for PNG images of the maps (none: no images).")
    var pngDir: String?

    @Option(help: "Direct-beam centre X,Y in pixels (default: found from the mean pattern).")
    var center: String?

    @Option(help: "Bright-field radius in pixels (default: 1.1 x the direct-beam radius found).")
    var bfRadius: Float?

    @Option(help: "Annular dark-field inner radius in pixels (default: 2 x the bright-field radius).")
    var adfInner: Float?

    @Option(help: "Annular dark-field outer radius in pixels (default: half the detector).")
    var adfOuter: Float?

    @Option(help: "Memory per rank for one chunk of patterns, in MiB.")
    var chunkMb: Int = 4

    func run() throws {
        try runOnWorld { comm in
            var p = VirtualImagingJob.Parameters()
            if let c = center {
                let v = c.split(separator: ",").compactMap { Float($0) }
                guard v.count == 2 else {
                    throw STEMError.invalidParameter(name: "--center", value: c, expected: "X,Y in pixels")
                }
                p.center = (v[0], v[1])
            }
            p.brightFieldRadius = bfRadius
            p.annularInner = adfInner
            p.annularOuter = adfOuter
            p.chunkBudgetBytes = max(1, chunkMb) << 20
            let source = try comm.collectively { try input.spec().open() }
            var prov = Provenance(command: "virtual", inputPath: input.input)
            prov.parameters = input.provenanceParameters + [("png_dir", pngDir ?? "")]
            let summary = try VirtualImagingJob.run(source: source, parameters: p, comm: comm, outputPath: output,
                                                    pngFolder: pngDir, provenance: prov)
            let rate = Double(summary.positions) / max(summary.seconds, 1e-9)
            printOnRoot(comm, String(format: "virtual: %d positions on %d ranks in %.2f s (%.0f patterns/s); centre (%.2f, %.2f), BF r=%.1f, ADF %.1f..%.1f px",
                                     summary.positions, comm.size, summary.seconds, rate, summary.detector.centerX,
                                     summary.detector.centerY, summary.detector.brightFieldRadius,
                                     summary.detector.annularInner, summary.detector.annularOuter))
            printOnRoot(comm, String(format: "virtual: streaming pass %.3f s: %.0f patterns/s, %.2f GB/s per rank (read + virtual detectors); peak memory per rank %.0f MB",
                                     summary.streamSeconds, Double(summary.positions) / summary.streamSeconds,
                                     Double(summary.bytesRead) / summary.streamSeconds / 1e9, Double(summary.peakResidentBytes) / 1e6))
            printOnRoot(comm, "output: \(output)" + (pngDir.map { "; images in \($0)/" } ?? ""))
        }
    }
}
