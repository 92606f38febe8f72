import Crystallography
import Foundation
import Matching
import Simulation
import STEMCore

/// Shared set-up of the matching tests: the simulator's default geometry (128 x 128 detector, 0.02 Å⁻¹/px,
/// 200 kV) and a library matching it.
enum Fixture {
    static let detector = DetectorShape(rows: 128, columns: 128)
    static let reciprocalPixelSize = 0.02
    static let conditions = DiffractionConditions(voltage: 200_000)

    static func libraryParameters(step: Double = 1) -> LibraryParameters {
        LibraryParameters(stepDegrees: step, conditions: conditions, reciprocalPixelSize: reciprocalPixelSize,
                          minimumRadius: 7, maximumRadius: 60)
    }

    static func matchingParameters(centre: PatternCentre? = nil) -> MatchingParameters {
        MatchingParameters(centre: centre ?? .directBeam(x: 63.5, y: 63.5, searchRadius: 8))
    }

    /// Disorientation in degrees.
    static func degrees(_ a: Orientation, _ b: Orientation, _ group: PointGroup) -> Double {
        FriedelPseudoSymmetry.disorientationAngle(a, b, symmetry: group) * 180 / .pi
    }

    static func seconds(_ body: () throws -> Void) rethrows -> Double {
        let t0 = DispatchTime.now().uptimeNanoseconds
        try body()
        return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
    }
}

extension Fixture {
    /// Draws template `t` of `library` turned by `theta` about the centre as Gaussian spots (σ px, peak =
    /// intensity × amplitude), added into `pattern`.
    static func draw(_ library: TemplateLibrary, template t: Int, theta: Double, centreX: Double = 63.5, centreY: Double = 63.5,
                     sigma: Double = 1.2, amplitude: Double = 100, into pattern: inout [Float], detector: DetectorShape = detector) {
        let c = cos(theta), s = sin(theta)
        for j in library.spots(of: t) {
            let x0 = Double(library.spotX[j]), y0 = Double(library.spotY[j])
            let x = centreX + c * x0 - s * y0, y = centreY + s * x0 + c * y0
            let a = Double(library.spotIntensity[j]) * amplitude
            for r in max(0, Int(y) - 5) ... min(detector.rows - 1, Int(y) + 5) {
                for col in max(0, Int(x) - 5) ... min(detector.columns - 1, Int(x) + 5) {
                    let d2 = (Double(col) - x) * (Double(col) - x) + (Double(r) - y) * (Double(r) - y)
                    pattern[r * detector.columns + col] += Float(a * exp(-d2 / (2 * sigma * sigma)))
                }
            }
        }
    }

    /// A small cubic library (Al, 4° step) for fast unit tests.
    static func smallLibrary(step: Double = 4) throws -> (TemplateLibraryBuilder, TemplateLibrary) {
        let builder = try TemplateLibraryBuilder(phases: [BuiltInPhase.aluminium.structure], parameters: libraryParameters(step: step))
        return (builder, try builder.build())
    }
}
