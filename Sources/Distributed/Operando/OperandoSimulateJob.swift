import Foundation
import HDF5
import Operando
import STEMCore

/// `stemrun operando simulate`: writes a synthetic operando experiment (arXiv:2503.06113 set-up) as the
/// files `analyse` reads: `fast.h5` and `slow.h5` (dataset `operando/profiles` (T, Ny, Nx, B) or
/// `operando/patterns` (T, Ny, Nx, Ky, Kx)), `fast.csv` and `slow.csv` (electrochemistry), `geometry.poni`
/// for patterns, and `truth.h5` (particle ids, dead / slow / active labels, true stages). Every rank
/// computes and writes its own scan positions; the data do not depend on the rank count.
public enum OperandoSimulateJob {
    public struct Parameters: Sendable {
        public var simulation = ElectrodeSimulator.Parameters()
        /// Geometry of 2D ring patterns; nil = write 1D profiles.
        public var geometry: DetectorGeometry?
        public init() {}
    }

    /// A detector that sees the graphite (00l) window: 32 x 64 pixels of 75 µm at 0.4 m, λ = 0.2 Å, the
    /// beam 268 px to the left of the first column (rings q = 1.6 ... 1.95 Å⁻¹ cross the detector).
    public static func defaultGeometry(detector: DetectorShape = DetectorShape(rows: 32, columns: 64)) -> DetectorGeometry {
        DetectorGeometry(distance: 0.4, poni1: Double(detector.rows) / 2 * 75e-6, poni2: -268 * 75e-6,
                         pixel1: 75e-6, pixel2: 75e-6, wavelength: 0.2e-10, detector: detector)
    }

    public static func run(parameters: Parameters, comm: Communicator, folder: String) throws {
        let sim = try comm.collectively { try ElectrodeSimulator(parameters.simulation) }
        let p = sim.parameters, scan = p.scan
        let range = ScanPartition(total: scan.count, parts: comm.size).range(of: comm.rank)
        try comm.collectively {
            guard comm.isRoot else { return }
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            for rate in ElectrodeSimulator.Rate.allCases {
                let name = rate == .fast ? "fast" : "slow"
                try sim.electrochemistry(rate).csv().write(toFile: folder + "/\(name).csv", atomically: true, encoding: .utf8)
            }
            if let g = parameters.geometry {
                try g.poniText.write(toFile: folder + "/geometry.poni", atomically: true, encoding: .utf8)
            }
        }
        for rate in ElectrodeSimulator.Rate.allCases {
            let name = rate == .fast ? "fast" : "slow"
            var prov = Provenance(command: "operando simulate")
            prov.parameters = [("rate", name), ("seed", "\(p.seed)"), ("scan", "\(scan)"), ("steps", "\(p.steps)")]
            let output = try OutputFile(path: folder + "/\(name).h5", comm: comm, provenance: prov)
            defer { output.abandon() } // on an error: closed on every rank and removed; no-op after commit
            let crate = rate == .fast ? p.fastCRate : p.slowCRate
            if let g = parameters.geometry {
                let ds = try TimeSeriesDataset(
                    output: output, path: "operando/patterns", steps: p.steps, scan: scan,
                    trailing: [g.detector.rows, g.detector.columns], attributes: [("kind", "patterns")],
                    numbers: [("dist", g.distance), ("poni1", g.poni1), ("poni2", g.poni2), ("rot1", g.rot1),
                              ("rot2", g.rot2), ("rot3", g.rot3), ("pixel1", g.pixel1), ("pixel2", g.pixel2),
                              ("wavelength", g.wavelength), ("c_rate", crate)])
                try comm.collectively {
                    for step in 0 ..< p.steps {
                        for chunk in ScanPartition.chunks(of: range, size: 256) {
                            let block = try sim.patterns(step: step, rate: rate, positions: chunk, geometry: g)
                            try block.pixels.withUnsafeBufferPointer { try ds.write(step: step, positions: chunk, values: $0) }
                        }
                    }
                }
            } else {
                let ds = try TimeSeriesDataset(
                    output: output, path: "operando/profiles", steps: p.steps, scan: scan, trailing: [p.axis.count],
                    attributes: [("kind", "profiles"), ("radial_unit", p.axis.unit.rawValue)],
                    numbers: [("radial_lower", p.axis.lower), ("radial_width", p.axis.width), ("c_rate", crate)])
                try comm.collectively {
                    for step in 0 ..< p.steps {
                        let block = try sim.profiles(step: step, rate: rate, positions: range)
                        try block.values.withUnsafeBufferPointer { try ds.write(step: step, positions: range, values: $0) }
                    }
                }
            }
            try output.commit()
        }
        // Ground truth.
        var prov = Provenance(command: "operando simulate")
        prov.parameters = [("seed", "\(p.seed)")]
        let truthFile = try OutputFile(path: folder + "/truth.h5", comm: comm, provenance: prov)
        defer { truthFile.abandon() } // on an error: closed on every rank and removed; no-op after commit
        let writer = ScanMapWriter(output: truthFile, scan: scan, range: range)
        let truth = sim.truth
        try writer.write("truth/particle_id", range.map { sim.particleID[$0] })
        try writer.write("truth/activity", range.map { truth[$0].rawValue },
                         attributes: [("labels", "0 no signal, 1 active, 2 slow, 3 dead")])
        for rate in ElectrodeSimulator.Rate.allCases {
            let name = rate == .fast ? "fast" : "slow"
            var stages: [UInt8] = []
            stages.reserveCapacity(range.count * p.steps)
            for i in range { for t in 0 ..< p.steps { stages.append(sim.trueStage(index: i, step: t, rate: rate).rawValue) } }
            try writer.write("truth/stage_\(name)", stages, trailing: [p.steps])
        }
        try truthFile.commit()
    }
}
