import Foundation
import STEMCore

/// pyFAI's PONI calibration file ("key: value" lines): Distance, Poni1, Poni2, Rot1, Rot2, Rot3 and
/// Wavelength in metres and radians, pixel sizes either as `PixelSize1`/`PixelSize2` (PONI version 1) or in
/// `Detector_config: {"pixel1": ..., "pixel2": ..., "max_shape": [rows, columns]}` (versions 2 and later).
extension DetectorGeometry {
    /// Parses PONI text; `detector` overrides (or supplies) the detector shape.
    public static func parsePONI(_ text: String, detector: DetectorShape? = nil,
                                 path: String = "PONI file") throws -> DetectorGeometry {
        var values: [String: String] = [:]
        for line in text.split(whereSeparator: \.isNewline) {
            let s = line.trimmingCharacters(in: .whitespaces)
            guard !s.hasPrefix("#"), let colon = s.firstIndex(of: ":") else { continue }
            values[s[..<colon].trimmingCharacters(in: .whitespaces).lowercased()] =
                s[s.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        func number(_ key: String, required: Bool = true) throws -> Double? {
            guard let v = values[key] else {
                if required { throw STEMError.missingField(path: path, field: key, hint: "PONI files name it \(key.capitalized)") }
                return nil
            }
            guard let d = Double(v), d.isFinite else {
                throw STEMError.badFormat(path: path, location: key, expected: "a number", found: v)
            }
            return d
        }
        var pixel1 = try number("pixelsize1", required: false)
        var pixel2 = try number("pixelsize2", required: false)
        var shape = detector
        if let config = values["detector_config"], let data = config.data(using: .utf8),
           let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any] {
            pixel1 = pixel1 ?? (json["pixel1"] as? NSNumber)?.doubleValue
            pixel2 = pixel2 ?? (json["pixel2"] as? NSNumber)?.doubleValue
            if let o = (json["orientation"] as? NSNumber)?.intValue, o != 3 {
                throw STEMError.invalidParameter(name: "\(path) Detector_config orientation", value: "\(o)",
                                                 expected: "3 (pyFAI's default, no flip); flip the images instead")
            }
            if shape == nil, let m = json["max_shape"] as? [NSNumber], m.count == 2 {
                shape = DetectorShape(rows: m[0].intValue, columns: m[1].intValue)
            }
        }
        guard let p1 = pixel1, let p2 = pixel2 else {
            throw STEMError.missingField(path: path, field: "pixel size",
                                         hint: "PixelSize1/PixelSize2 or Detector_config with pixel1/pixel2")
        }
        guard let det = shape else {
            throw STEMError.missingField(path: path, field: "detector shape",
                                         hint: "Detector_config max_shape, or give the detector shape")
        }
        let g = DetectorGeometry(distance: try number("distance")!, poni1: try number("poni1")!, poni2: try number("poni2")!,
                                 rot1: try number("rot1")!, rot2: try number("rot2")!, rot3: try number("rot3")!,
                                 pixel1: p1, pixel2: p2, wavelength: try number("wavelength")!, detector: det)
        try g.validate()
        return g
    }

    /// Reads a PONI file.
    public static func readPONI(path: String, detector: DetectorShape? = nil) throws -> DetectorGeometry {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw STEMError.fileNotFound(path: path)
        }
        return try parsePONI(text, detector: detector, path: path)
    }

    /// PONI text (version 2) that pyFAI reads.
    public var poniText: String {
        """
        # Nota: C-Order, 1 refers to the Y axis, 2 to the X axis
        # Written by stemrun
        poni_version: 2
        Detector: Detector
        Detector_config: {"pixel1": \(pixel1), "pixel2": \(pixel2), "max_shape": [\(detector.rows), \(detector.columns)]}
        Distance: \(distance)
        Poni1: \(poni1)
        Poni2: \(poni2)
        Rot1: \(rot1)
        Rot2: \(rot2)
        Rot3: \(rot3)
        Wavelength: \(wavelength)

        """
    }
}
