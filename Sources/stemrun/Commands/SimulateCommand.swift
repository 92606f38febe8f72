import ArgumentParser
import Crystallography
import Distributed
import Foundation
import Simulation
import STEMCore

/// `stemrun simulate`: a synthetic polycrystal 4D-STEM dataset with ground truth (the demo's default input).
struct SimulateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Write a synthetic polycrystal 4D-STEM dataset with ground truth (HDF5, optionally raw).",
        discussion: """
        Grains of one or more crystal phases (Voronoi cells in scan space) give kinematic spot patterns from
        their structure and orientation; patterns mix across grain boundaries; the direct beam wanders with a
        descan shift that varies across the scan; a diffuse background and Poisson noise are added. The
        ground truth (grain map, orientation per grain, beam centre per position) is stored in
        /ground_truth of the same file. Deterministic for a seed, whatever the rank count.
        """)

    @Option(name: .shortAndLong, help: "Output HDF5 file.")
    var output: String = "sample.h5"

    @Option(help: "Scan shape NYxNX.")
    var scan: String = "64x64"

    @Option(help: "Detector shape KYxKX.")
    var detector: String = "128x128"

    @Option(help: "Number of grains.")
    var grains: Int = 6

    @Option(help: "Comma-separated phases: \(BuiltInPhase.allCases.map(\.rawValue).joined(separator: ", ")).")
    var phases: String = "Al"

    @Option(help: "Random seed.")
    var seed: UInt64 = 1

    @Option(help: "Pattern type on disk: uint16 (counts) or float32.")
    var dtype: String = "uint16"

    @Option(help: "Dose scale (multiplies all counts; lower is noisier).")
    var dose: Double = 1.0

    @Option(help: "Width of the grain-boundary mixing zone in scan pixels.")
    var boundaryWidth: Double = 3.0

    @Option(help: "Reciprocal pixel size in 1/Angstrom per detector pixel (at 128 px width; scaled with the width).")
    var reciprocalPixelSize: Double = 0.02

    @Option(help: "Number of hot pixels to add.")
    var hotPixels: Int = 0

    @Flag(help: "No Poisson noise (expected counts).")
    var noNoise = false

    @Option(help: "Also write the patterns as raw little-endian binary to this file.")
    var rawOutput: String?

    func parameters() throws -> SimulationParameters {
        var p = SimulationParameters()
        let (sr, sc) = try InputOptions.parseShape(scan, option: "--scan")
        let (dr, dc) = try InputOptions.parseShape(detector, option: "--detector")
        p.scan = ScanGrid(rows: sr, columns: sc)
        p.detector = DetectorShape(rows: dr, columns: dc)
        p.phases = try phases.split(separator: ",").map { name in
            let n = name.trimmingCharacters(in: .whitespaces)
            guard let b = BuiltInPhase.allCases.first(where: { $0.rawValue.lowercased() == n.lowercased() }) else {
                throw STEMError.invalidParameter(name: "--phases", value: n,
                                                 expected: BuiltInPhase.allCases.map(\.rawValue).joined(separator: ", "))
            }
            return b.structure
        }
        p.grainCount = grains
        p.seed = seed
        p.dose = dose
        p.grainBoundaryWidth = boundaryWidth
        p.reciprocalPixelSize = reciprocalPixelSize * 128 / Double(dc)
        p.hotPixelCount = hotPixels
        p.poissonNoise = !noNoise
        p.directBeamRadius *= Double(dc) / 128
        p.spotSigma *= Double(dc) / 128
        p.descanRampX *= Double(dc) / 128
        p.descanRampY *= Double(dc) / 128
        try p.validate()
        return p
    }

    func run() throws {
        try runOnWorld { comm in
            let p = try comm.collectively { try parameters() }
            let simulator = try comm.collectively { try PolycrystalSimulator(parameters: p) }
            var options = SimulateJob.Options()
            guard let type = ElementType(userName: dtype), type == .uint16 || type == .float32 else {
                throw STEMError.invalidParameter(name: "--dtype", value: dtype, expected: "uint16 or float32")
            }
            options.elementType = type
            options.rawOutput = rawOutput
            var prov = Provenance(command: "simulate")
            prov.parameters = [("scan", scan), ("detector", detector), ("grains", "\(grains)"), ("phases", phases),
                               ("seed", "\(seed)"), ("dtype", dtype), ("dose", "\(dose)"),
                               ("boundary_width", "\(boundaryWidth)"), ("reciprocal_pixel_size", "\(p.reciprocalPixelSize)"),
                               ("hot_pixels", "\(hotPixels)"), ("noise", noNoise ? "off" : "poisson")]
            let s = try SimulateJob.run(simulator: simulator, comm: comm, outputPath: output, options: options, provenance: prov)
            printOnRoot(comm, String(format: "simulate: %d positions of %@ px (%.1f MB) on %d ranks in %.2f s",
                                     s.positions, "\(p.detector)", Double(s.bytes) / 1e6, comm.size, s.seconds))
            printOnRoot(comm, "output: \(output) (patterns in /data, ground truth in /ground_truth)" +
                        (rawOutput.map { "; raw: \($0) (--format raw --scan-shape \(scan) --detector-shape \(detector) --dtype \(dtype))" } ?? ""))
        }
    }
}
