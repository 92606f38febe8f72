import Foundation
import HDF5
import Operando
import STEMCore

/// Integration settings shared by `operando integrate` and `operando analyse`.
public struct OperandoIntegration: Sendable {
    public var options = AzimuthalIntegrator.Options()
    /// Bin count; nil = automatic (the largest count up to 1000 with no empty bin in the fit window).
    public var bins: Int?
    /// Geometry overriding the one stored with the patterns (e.g. from a PONI file).
    public var geometry: DetectorGeometry?
    public var mask: DetectorMask?
    public var chunkBudgetBytes = 64 << 20

    public init() {}

    /// The integrator for a pattern series: geometry from the override or the file, radial range from the
    /// options or the d window `window` (Å) widened by 0.05 Å each side.
    public func integrator(for source: OperandoSeriesSource, window: ClosedRange<Double>) throws -> AzimuthalIntegrator {
        guard let det = source.detector else {
            throw STEMError.invalidParameter(name: "integration", value: source.paths[0], expected: "a pattern series")
        }
        guard var g = geometry ?? source.geometry else {
            throw STEMError.missingField(path: source.paths[0], field: "detector geometry",
                                         hint: "give a pyFAI PONI file with --poni, or store dist/poni1/... attributes")
        }
        g.detector = det
        if let m = mask, m.detector != det {
            throw STEMError.shapeMismatch(path: "mask", field: "detector", expected: "\(det)", found: "\(m.detector)")
        }
        var o = options
        let unit = o.unit
        if o.range == nil {
            let a = unit.coordinate(ofD: window.lowerBound - 0.05, wavelength: g.wavelength)
            let b = unit.coordinate(ofD: window.upperBound + 0.05, wavelength: g.wavelength)
            if let a, let b { o.range = min(a, b) ... max(a, b) }
        }
        if let n = bins {
            o.bins = n
        } else {
            let lo = unit.coordinate(ofD: window.lowerBound, wavelength: g.wavelength) ?? 0
            let hi = unit.coordinate(ofD: window.upperBound, wavelength: g.wavelength) ?? 0
            o.bins = try AzimuthalIntegrator.binCount(geometry: g, options: o, mask: mask,
                                                      window: min(lo, hi) ... max(lo, hi)) ?? 100
        }
        return try AzimuthalIntegrator(geometry: g, options: o, mask: mask)
    }
}

/// `stemrun operando integrate`: azimuthal integration of every pattern of a series into profiles
/// (T, Ny, Nx, B), distributed over scan positions, written into one file that `analyse` reads.
public enum OperandoIntegrateJob {
    public struct Summary: Sendable {
        public var patterns: Int
        public var bins: Int
        public var seconds: Double
        /// Time in the integration kernel only, slowest rank.
        public var kernelSeconds: Double
        /// CPU time in the integration kernel, slowest rank.
        public var kernelCPUSeconds: Double
    }

    public static func run(source: OperandoSeriesSource, integration: OperandoIntegration, comm: Communicator,
                           outputPath: String, provenance: Provenance) throws -> Summary {
        let start = Date()
        var integ = integration
        if integ.bins == nil && integ.options.range != nil { integ.bins = integ.options.bins }
        let ai = try comm.collectively { try integ.integrator(for: source, window: 3.30 ... 3.80) }
        let scan = source.scan, det = source.detector!
        let range = ScanPartition(total: scan.count, parts: comm.size).range(of: comm.rank)
        var prov = provenance
        prov.parameters += [("unit", ai.axis.unit.rawValue), ("bins", "\(ai.axis.count)"),
                            ("radial_range", "\(ai.axis.lower) ... \(ai.axis.upper)"),
                            ("splitting", ai.options.splitting.rawValue), ("solid_angle", "\(ai.options.solidAngle)"),
                            ("polarization_factor", ai.options.polarizationFactor.map { "\($0)" } ?? "none"),
                            ("geometry", ai.geometry.description)]
        let output = try OutputFile(path: outputPath, comm: comm, provenance: prov,
                                    estimatedBytes: source.steps * scan.count * ai.axis.count * 4)
        defer { output.abandon() } // on an error: closed on every rank and removed; no-op after commit
        var kernel = 0.0, kernelCPU = 0.0
        do {  // the dataset must be closed before commit
            let ds = try TimeSeriesDataset(
                output: output, path: "operando/profiles", steps: source.steps, scan: scan, trailing: [ai.axis.count],
                attributes: [("kind", "profiles"), ("radial_unit", ai.axis.unit.rawValue)],
                numbers: [("radial_lower", ai.axis.lower), ("radial_width", ai.axis.width),
                          ("wavelength", ai.geometry.wavelength)])
            let chunk = max(1, integ.chunkBudgetBytes / max(1, det.pixelCount * 4))
            var patterns = [Float](repeating: 0, count: min(chunk, max(range.count, 1)) * det.pixelCount)
            var profiles = [Float](repeating: 0, count: min(chunk, max(range.count, 1)) * ai.axis.count)
            let progress = ProgressLine(label: "operando integrate", total: range.count * source.steps, rank: comm.rank)
            try comm.collectively {
                for step in 0 ..< source.steps {
                    for part in ScanPartition.chunks(of: range, size: chunk) {
                        try patterns.withUnsafeMutableBufferPointer { try source.read(step: step, positions: part, into: $0) }
                        let t0 = Date(), c0 = threadCPUSeconds()
                        patterns.withUnsafeBufferPointer { src in
                            profiles.withUnsafeMutableBufferPointer { ai.integrate(patterns: src, count: part.count, into: $0) }
                        }
                        kernel += Date().timeIntervalSince(t0)
                        kernelCPU += threadCPUSeconds() - c0
                        try profiles.withUnsafeBufferPointer {
                            try source.checkFinite($0, positions: part, bins: ai.axis.count, step: step)
                            try ds.write(step: step, positions: part, values: $0)
                        }
                        progress.update(step * range.count + part.upperBound - range.lowerBound)
                    }
                }
            }
        }
        try ScanMapWriter(output: output, scan: scan, range: range)
            .writeReplicated("operando/radial", ai.axis.centres, shape: [ai.axis.count],
                             attributes: [("unit", ai.axis.unit.rawValue)])
        try output.commit()
        return Summary(patterns: scan.count * source.steps, bins: ai.axis.count, seconds: Date().timeIntervalSince(start),
                       kernelSeconds: comm.allreduce(kernel, .max), kernelCPUSeconds: comm.allreduce(kernelCPU, .max))
    }
}
