import Foundation
import HDF5
import STEMCore

/// Small 4D datasets whose every value the test knows, written with the HDF5 wrapper (serially).
enum SyntheticDataset {
    /// Value of pixel (ky, kx) of the pattern at scan (sy, sx): a bright disc at a position that drifts
    /// with the scan, on a position-dependent background; integers so every type holds them exactly.
    static func value(_ sy: Int, _ sx: Int, _ ky: Int, _ kx: Int, detector: DetectorShape) -> Float {
        let cx = Float(detector.columns) / 2 + Float(sx % 3) - 1
        let cy = Float(detector.rows) / 2 + Float(sy % 3) - 1
        let r2 = (Float(kx) - cx) * (Float(kx) - cx) + (Float(ky) - cy) * (Float(ky) - cy)
        var v = Float((sy * 7 + sx * 3 + ky + 2 * kx) % 11)
        if r2 <= 9 { v += 200 }
        if r2 > 100 && r2 < 200 { v += Float(sx + sy) }
        return v
    }

    static func patterns(scan: ScanGrid, detector: DetectorShape) -> [Float] {
        var out = [Float](repeating: 0, count: scan.count * detector.pixelCount)
        for sy in 0 ..< scan.rows { for sx in 0 ..< scan.columns {
            let base = (sy * scan.columns + sx) * detector.pixelCount
            for ky in 0 ..< detector.rows { for kx in 0 ..< detector.columns {
                out[base + ky * detector.columns + kx] = value(sy, sx, ky, kx, detector: detector)
            } }
        } }
        return out
    }

    /// Writes the dataset as HDF5 `/data` of the given type, 4D or 3D, chunked or contiguous.
    static func writeHDF5<T: H5Scalar>(_ path: String, scan: ScanGrid, detector: DetectorShape, as type: T.Type,
                                       fourD: Bool = true, chunked: Bool = false, convert: (Float) -> T) throws {
        let f = try H5File.create(path)
        let values = patterns(scan: scan, detector: detector).map(convert)
        let shape = fourD ? [scan.rows, scan.columns, detector.rows, detector.columns]
                          : [scan.count, detector.rows, detector.columns]
        let ds = try f.createDataset("data", of: T.self, shape: shape,
                                     chunks: chunked ? shape.enumerated().map { $0.offset < shape.count - 2 ? 1 : $0.element } : nil)
        try ds.setAttribute("pixel_size_mrad", 0.5)
        try values.withUnsafeBufferPointer { try ds.write(start: shape.map { _ in 0 }, count: shape, from: $0) }
    }
}
