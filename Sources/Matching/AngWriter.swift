import Crystallography
import Foundation
import STEMCore

/// Writes an orientation map in the EDAX/TSL `.ang` text format that orix (`orix.io.load`), MTEX and OIM read.
///
/// Header: one block per phase (`Phase n`, `MaterialName`, `Formula`, `Info`, `Symmetry` as the TSL code of the
/// proper point group, e.g. 43 for m-3m, `LatticeConstants` a b c α β γ in Å and degrees, `NumberFamilies 0`),
/// then `GRID: SqrGrid`, `XSTEP`, `YSTEP`, `NCOLS_ODD`, `NCOLS_EVEN`, `NROWS`. Body: one line per scan position,
/// rows outer, with the ten TSL columns phi1 Phi phi2 (Bunge, radians) x y IQ CI PhaseID detector-signal fit.
/// stemrun puts the correlation index Q in IQ, reliability/100 in CI, phase reliability/100 in the detector-signal
/// column and 0 in fit; phase ids are 1-based. A position that is not indexed gets Euler angles 4π, IQ 0,
/// CI −1, phase 0 and fit 180 (orix's own convention; orix reads CI = −1 as not indexed).
///
/// Frames: the Euler angles are those of `Orientation` (sample → crystal, orix/MTEX convention) with the sample
/// frame x along scan columns (and detector columns), y along scan rows, z along the beam. orix's `.ang` reader
/// turns the angles into rotations with `Rotation.from_euler` and applies no reference-frame change (checked in
/// orix/io/plugins/ang.py over its whole history), so orientations round-trip exactly. MTEX's loader can convert
/// between an EDAX Euler frame and the map axes (`convertEuler2SpatialReferenceFrame`); in stemrun's files the
/// Euler and spatial frames are the same (x ∥ columns, y ∥ rows), so no conversion is wanted.
public enum AngWriter {
    /// The TSL point-group code of a proper point group (orix maps these back: 43 → 432, 62 → 622, 42 → 422,
    /// 22 → 222, 20 → 121, the others are the group names).
    public static func symmetryCode(_ group: PointGroup) -> String {
        switch group.name {
        case "432": return "43"
        case "622": return "62"
        case "422": return "42"
        case "222": return "22"
        case "2": return "20"
        case "32", "23", "6", "4", "3", "1": return group.name
        default: return "1"
        }
    }

    /// The file's text.
    public static func text(results: [MatchResult], scan: ScanGrid, stepX: Double = 1, stepY: Double = 1,
                            phases: [TemplatePhase]) throws -> String {
        guard results.count == scan.count else {
            throw STEMError.shapeMismatch(path: ".ang", field: "results", expected: "\(scan.count) positions (\(scan))",
                                          found: "\(results.count)")
        }
        guard stepX > 0, stepY > 0, stepX.isFinite, stepY.isFinite else {
            throw STEMError.invalidParameter(name: "scan step", value: "\(stepX) x \(stepY)", expected: "positive step sizes")
        }
        var s = "# TEM_PIXperUM          1.000000\n# x-star                 0.000000\n# y-star                 0.000000\n"
        s += "# z-star                 0.000000\n# WorkingDistance        0.000000\n#\n"
        for (i, p) in phases.enumerated() {
            let c = p.cell
            let name = p.name.replacingOccurrences(of: "\n", with: " ")
            s += "# Phase \(i + 1)\n# MaterialName  \t\(name)\n# Formula     \t\(name)\n# Info \t\t\n"
            s += "# Symmetry              \(symmetryCode(p.symmetry))\n"
            s += String(format: "# LatticeConstants      %.4f %.4f %.4f  %.3f  %.3f  %.3f\n", c.a, c.b, c.c, c.alpha, c.beta, c.gamma)
            s += "# NumberFamilies        0\n#\n"
        }
        s += "# GRID: SqrGrid\n"
        s += String(format: "# XSTEP: %.6f\n# YSTEP: %.6f\n", stepX, stepY)
        s += "# NCOLS_ODD: \(scan.columns)\n# NCOLS_EVEN: \(scan.columns)\n# NROWS: \(scan.rows)\n#\n"
        s += "# OPERATOR: \tstemrun\n#\n# SAMPLEID: \t\n#\n# SCANID: \t\n#\n"
        s.reserveCapacity(s.utf8.count + results.count * 96)
        for i in 0 ..< scan.count {
            let (row, col) = scan.position(of: i)
            let r = results[i]
            let x = Double(col) * stepX, y = Double(row) * stepY
            if r.isIndexed && r.phase < phases.count {
                let e = r.orientation.euler
                s += String(format: "%9.5f %9.5f %9.5f %12.5f %12.5f %8.5f %8.5f %2d %8.5f %6.3f\n",
                            e.phi1, e.Phi, e.phi2, x, y, Double(r.correlation), Double(r.reliability) / 100,
                            r.phase + 1, Double(r.phaseReliability) / 100, 0.0)
            } else {
                let f = 4 * Double.pi
                s += String(format: "%9.5f %9.5f %9.5f %12.5f %12.5f %8.5f %8.5f %2d %8.5f %6.3f\n",
                            f, f, f, x, y, 0.0, -1.0, 0, 0.0, 180.0)
            }
        }
        return s
    }

    /// Writes the file (see `text`).
    public static func write(results: [MatchResult], scan: ScanGrid, stepX: Double = 1, stepY: Double = 1,
                             phases: [TemplatePhase], to path: String) throws {
        let body = try text(results: results, scan: scan, stepX: stepX, stepY: stepY, phases: phases)
        do {
            try body.write(toFile: path, atomically: true, encoding: .utf8)
        } catch {
            throw STEMError.outputFailed(path: path, detail: "\(error)")
        }
    }
}
