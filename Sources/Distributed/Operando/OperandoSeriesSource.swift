import Foundation
import HDF5
import Operando
import STEMCore

/// What an operando series holds at every scan position and time step.
public enum OperandoDataKind: String, Sendable {
    /// 1D profiles on a radial axis (already integrated).
    case profiles
    /// 2D detector images, integrated by stemrun.
    case patterns
}

/// The rectangles (row, first column, rows, columns) of a row-major scan that cover the contiguous scan
/// positions `range`: a partial first row, whole rows, a partial last row.
func scanRectangles(_ range: Range<Int>, columns nx: Int) -> [(row: Int, column: Int, rows: Int, columns: Int)] {
    var out: [(Int, Int, Int, Int)] = []
    var lo = range.lowerBound
    let hi = range.upperBound
    if lo < hi, lo % nx != 0 {
        let end = min(hi, (lo / nx + 1) * nx)
        out.append((lo / nx, lo % nx, 1, end - lo))
        lo = end
    }
    let full = (hi - lo) / nx
    if full > 0 { out.append((lo / nx, 0, full, nx)); lo += full * nx }
    if lo < hi { out.append((lo / nx, 0, 1, hi - lo)) }
    return out
}

/// A time series of diffraction maps in HDF5: one file with a dataset shaped (T, Ny, Nx, ...) or one file
/// per time step with (Ny, Nx, ...), where ... is (B) for profiles or (Ky, Kx) for patterns.
///
/// Profiles carry their radial axis in attributes `radial_unit` (pyFAI unit name: q_A^-1, q_nm^-1, 2th_deg,
/// d_A), `radial_lower`, `radial_width` (and `wavelength` in m for 2θ); patterns may carry their geometry in
/// attributes `dist`, `poni1`, `poni2`, `rot1`, `rot2`, `rot3`, `pixel1`, `pixel2`, `wavelength` (pyFAI's
/// PONI names, SI units), or it comes from a PONI file.
public final class OperandoSeriesSource {
    public let paths: [String]
    public let datasetPath: String
    public let kind: OperandoDataKind
    public let steps: Int
    public let scan: ScanGrid
    /// (B) or (Ky, Kx).
    public let trailing: [Int]
    public let axis: RadialAxis?
    public let geometry: DetectorGeometry?
    private let files: [H5File]
    private let datasets: [H5Dataset]
    private let timeAxis: Bool

    /// Default dataset names, tried in order when none is given.
    public static let defaultDatasets = ["operando/patterns", "operando/profiles", "patterns", "profiles"]

    public init(paths: [String], datasetPath: String? = nil, kind: OperandoDataKind? = nil) throws {
        guard !paths.isEmpty else {
            throw STEMError.invalidParameter(name: "series", value: "no file", expected: "one HDF5 file or one per time step")
        }
        var files: [H5File] = [], datasets: [H5Dataset] = []
        var dsPath = datasetPath
        for p in paths {
            guard FileManager.default.fileExists(atPath: p) else { throw STEMError.fileNotFound(path: p) }
            let f = try H5File.open(p)
            if dsPath == nil {
                dsPath = Self.defaultDatasets.first { f.kind(of: $0) == .dataset }
                guard dsPath != nil else {
                    throw STEMError.missingField(path: p, field: Self.defaultDatasets.joined(separator: " or "),
                                                 hint: "give the dataset with --dataset")
                }
            }
            guard f.kind(of: dsPath!) == .dataset else {
                throw STEMError.missingField(path: p, field: dsPath!, hint: "every file of a series needs the same dataset")
            }
            files.append(f)
            datasets.append(try f.dataset(dsPath!))
        }
        let ds = datasets[0], path = paths[0], name = dsPath!
        guard ds.elementType != nil else { throw STEMError.unsupportedType(path: path, field: name, type: ds.typeDescription) }
        let k: OperandoDataKind
        if let kind { k = kind } else if let a = ds.stringAttribute("kind"), let parsed = OperandoDataKind(rawValue: a) {
            k = parsed
        } else if name.hasSuffix("patterns") { k = .patterns } else if name.hasSuffix("profiles") { k = .profiles } else {
            throw STEMError.missingField(path: path, field: "\(name) attribute 'kind'",
                                         hint: "say whether the data are profiles or patterns")
        }
        let shape = ds.shape
        let perStepRank = k == .profiles ? 3 : 4
        let timeAxis: Bool
        if paths.count == 1 && shape.count == perStepRank + 1 { timeAxis = true } else if shape.count == perStepRank {
            timeAxis = false
        } else {
            throw STEMError.shapeMismatch(path: path, field: name,
                                          expected: k == .profiles ? "(T, Ny, Nx, B), or (Ny, Nx, B) per step file"
                                                                   : "(T, Ny, Nx, Ky, Kx), or (Ny, Nx, Ky, Kx) per step file",
                                          found: "\(shape)")
        }
        let o = timeAxis ? 1 : 0
        for (p, d) in zip(paths, datasets) where d.shape != shape {
            throw STEMError.shapeMismatch(path: p, field: name, expected: "\(shape) like \(path)", found: "\(d.shape)")
        }
        self.paths = paths
        self.datasetPath = name
        self.kind = k
        self.steps = timeAxis ? shape[0] : paths.count
        self.scan = ScanGrid(rows: shape[o], columns: shape[o + 1])
        self.trailing = Array(shape[(o + 2)...])
        self.files = files
        self.datasets = datasets
        self.timeAxis = timeAxis
        guard steps >= 1, scan.count >= 1, trailing.allSatisfy({ $0 >= 1 }) else {
            throw STEMError.shapeMismatch(path: path, field: name, expected: "non-empty time, scan and data axes", found: "\(shape)")
        }
        func number(_ key: String) -> Double? { ds.numericAttribute(key)?.first }
        if k == .profiles, let unitName = ds.stringAttribute("radial_unit") {
            guard let unit = RadialUnit(rawValue: unitName) else {
                throw STEMError.badFormat(path: path, location: "\(name) attribute radial_unit",
                                          expected: RadialUnit.allCases.map(\.rawValue).joined(separator: ", "), found: unitName)
            }
            guard let lo = number("radial_lower"), let w = number("radial_width"), w > 0 else {
                throw STEMError.missingField(path: path, field: "\(name) attributes radial_lower, radial_width",
                                             hint: "the radial axis of the profiles")
            }
            axis = RadialAxis(unit: unit, lower: lo, width: w, count: trailing[0])
        } else {
            axis = nil
        }
        if k == .patterns, let d = number("dist"), let p1 = number("poni1"), let p2 = number("poni2"),
           let px1 = number("pixel1"), let px2 = number("pixel2"), let wl = number("wavelength") {
            geometry = DetectorGeometry(distance: d, poni1: p1, poni2: p2, rot1: number("rot1") ?? 0,
                                        rot2: number("rot2") ?? 0, rot3: number("rot3") ?? 0, pixel1: px1, pixel2: px2,
                                        wavelength: wl, detector: DetectorShape(rows: trailing[0], columns: trailing[1]))
        } else {
            geometry = nil
        }
        wavelengthAttribute = number("wavelength")
    }

    /// `wavelength` attribute of the dataset (m), if any.
    public let wavelengthAttribute: Double?

    /// Values per scan position and step (B, or Ky·Kx).
    public var valuesPerPosition: Int { trailing.reduce(1, *) }

    /// Detector shape of pattern data.
    public var detector: DetectorShape? {
        kind == .patterns ? DetectorShape(rows: trailing[0], columns: trailing[1]) : nil
    }

    /// Reads the scan positions `positions` of time step `step` as Float, position-major.
    public func read(step: Int, positions: Range<Int>, into buffer: UnsafeMutableBufferPointer<Float>) throws {
        guard step >= 0, step < steps else {
            throw STEMError.invalidParameter(name: "step", value: "\(step)", expected: "0 ..< \(steps)")
        }
        let per = valuesPerPosition
        precondition(buffer.count >= positions.count * per)
        let ds = timeAxis ? datasets[0] : datasets[step]
        var offset = 0
        for r in scanRectangles(positions, columns: scan.columns) {
            let start = (timeAxis ? [step] : []) + [r.row, r.column] + trailing.map { _ in 0 }
            let count = (timeAxis ? [1] : []) + [r.rows, r.columns] + trailing
            try ds.read(start: start, count: count, memoryType: .float32, into: buffer.baseAddress! + offset)
            offset += r.rows * r.columns * per
        }
    }
}

extension OperandoSeriesSource {
    /// Integrated profiles must be finite: a NaN or Inf comes from an unmasked detector pixel holding one
    /// (gaps are often NaN or a huge marker value). Throws naming the step and scan position.
    func checkFinite(_ profiles: UnsafeBufferPointer<Float>, positions: Range<Int>, bins: Int, step: Int) throws {
        for o in 0 ..< positions.count {
            for b in 0 ..< bins where !profiles[o * bins + b].isFinite {
                let (row, col) = scan.position(of: positions.lowerBound + o)
                throw STEMError.invalidValues(path: paths[timeAxis ? 0 : step],
                                              location: "time step \(step), scan position (row \(row), column \(col))",
                                              detail: "pattern has NaN or Inf on unmasked pixels; mask them with --mask")
            }
        }
    }
}
