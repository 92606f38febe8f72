import Foundation
import Testing
import Operando
import STEMCore

/// The Swift half of scripts/oracles/operando-pyfai.sh: integrates the image the script prepared with
/// pyFAI's geometry and writes stemrun's profiles next to pyFAI's for the script to compare. Runs only when
/// the script sets STEMRUN_PYFAI_CASES (pyFAI lives in the script's virtual environment, not in `swift test`).
@Suite struct PyFAIOracleTests {
    struct Geometry: Decodable {
        var dist, poni1, poni2, rot1, rot2, rot3, pixel1, pixel2, wavelength: Double
    }
    struct Case: Decodable {
        var unit: String
        var npt: Int
        var range: [Double]
        var split: String
        var solid_angle: Bool
        var polarization: Double?
    }
    struct Cases: Decodable {
        var rows, columns: Int
        var geometry: Geometry
        var cases: [Case]
    }

    @Test(.enabled(if: ProcessInfo.processInfo.environment["STEMRUN_PYFAI_CASES"] != nil,
                   "run by scripts/oracles/operando-pyfai.sh, which prepares the pyFAI reference"))
    func writeProfilesForPyFAIComparison() throws {
        let dir = URL(fileURLWithPath: ProcessInfo.processInfo.environment["STEMRUN_PYFAI_CASES"]!)
        let spec = try JSONDecoder().decode(Cases.self, from: Data(contentsOf: dir.appendingPathComponent("cases.json")))
        let shape = DetectorShape(rows: spec.rows, columns: spec.columns)
        let g = spec.geometry
        let geometry = DetectorGeometry(distance: g.dist, poni1: g.poni1, poni2: g.poni2, rot1: g.rot1, rot2: g.rot2,
                                        rot3: g.rot3, pixel1: g.pixel1, pixel2: g.pixel2, wavelength: g.wavelength,
                                        detector: shape)
        let image = try Data(contentsOf: dir.appendingPathComponent("image.f32")).withUnsafeBytes {
            Array($0.bindMemory(to: Float.self))
        }
        let mask = try DetectorMask(detector: shape, flags: [UInt8](Data(contentsOf: dir.appendingPathComponent("mask.u8"))))
        #expect(image.count == shape.pixelCount)
        for (k, c) in spec.cases.enumerated() {
            let unit = try #require(RadialUnit(rawValue: c.unit))
            let options = AzimuthalIntegrator.Options(
                unit: unit, bins: c.npt, range: c.range[0] ... c.range[1],
                splitting: c.split == "bbox" ? .boundingBox : .none, solidAngle: c.solid_angle,
                polarizationFactor: c.polarization)
            let integrator = try AzimuthalIntegrator(geometry: geometry, options: options, mask: mask)
            let profile = integrator.integrate(image)
            try profile.withUnsafeBytes { try Data($0).write(to: dir.appendingPathComponent("stemrun_\(k).f32")) }
        }
    }
}
