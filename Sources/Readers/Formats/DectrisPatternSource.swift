import HDF5
import STEMCore

/// Dectris Arina / Quadro (NeXus-style) acquisitions: a `*_master.h5` whose `/entry/data/data_NNNNNN`
/// links point at datasets of (frames, rows, columns) in `*_data_NNNNNN.h5` files beside it, usually
/// compressed with bitshuffle-LZ4 (HDF5 filter 32008, from Debian's `bitshuffle` / `hdf5-filter-plugin`
/// packages in the HDF5 plugin folder). Frames of all data files in name order form the scan, as
/// rosettasciio's `arina` reader does; the scan shape comes from the options, else a square scan when the
/// frame count is a perfect square, else one row.
public final class DectrisPatternSource: PatternSource {
    public let formatName = "dectris"
    public let path: String
    public let scan: ScanGrid
    public let detector: DetectorShape
    public let elementType: ElementType
    public let metadata: [(String, String)]
    let file: H5File
    /// Each data file's dataset and the first frame it holds.
    let segments: [(dataset: H5Dataset, first: Int, count: Int)]

    static let hdf5Magic: [UInt8] = [0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A]

    public static let format = PatternFormat(
        name: "dectris", summary: "Dectris Arina/Quadro HDF5 master + data files (bitshuffle-LZ4)",
        detect: { p in
            guard !p.isDirectory, p.headStarts(with: hdf5Magic), let f = try? H5File.open(p.path),
                  f.exists("entry/data"), let g = try? f.group("entry/data") else { return false }
            return g.memberNames().contains { $0.hasPrefix("data_0") }
        },
        open: { try DectrisPatternSource(path: $0, options: $1) })

    public init(path: String, options: ReaderOptions = ReaderOptions()) throws {
        let file = try H5File.open(path)
        guard file.exists("entry/data") else {
            throw STEMError.missingField(path: path, field: "/entry/data", hint: "a Dectris master file links its data files there")
        }
        let group = try file.group("entry/data")
        let names = group.memberNames().filter { $0.hasPrefix("data_") }.sorted()
        guard !names.isEmpty else {
            throw STEMError.missingField(path: path, field: "/entry/data/data_000001", hint: "no data file links in the master file")
        }
        var segments: [(H5Dataset, Int, Int)] = []
        var frames = 0
        var shape: DetectorShape?
        var type: ElementType?
        let base = path.hasSuffix("_master.h5") ? String(path.dropLast("_master.h5".count)) : path
        for name in names {
            let ds: H5Dataset
            do { ds = try group.dataset(name) } catch {
                throw STEMError.missingField(path: path, field: "/entry/data/\(name)",
                                             hint: "its data file (normally \(base)_\(name).h5 beside the master) is missing or unreadable")
            }
            let s = ds.shape
            guard s.count == 3, s[1] > 0, s[2] > 0 else {
                throw STEMError.shapeMismatch(path: path, field: "/entry/data/\(name)", expected: "(frames, rows, columns)", found: "\(s)")
            }
            guard let t = ds.elementType else {
                throw STEMError.unsupportedType(path: path, field: "/entry/data/\(name)", type: ds.typeDescription)
            }
            let d = DetectorShape(rows: s[1], columns: s[2])
            if let shape, shape != d {
                throw STEMError.shapeMismatch(path: path, field: "/entry/data/\(name)", expected: "frames of \(shape) like the first data file", found: "\(d)")
            }
            shape = d
            type = type ?? t
            segments.append((ds, frames, s[0]))
            frames += s[0]
        }
        self.path = path
        self.file = file
        self.segments = segments
        self.detector = shape!
        self.elementType = type!
        let side = Int(Double(frames).squareRoot().rounded())
        let square = side * side == frames ? ScanGrid(rows: side, columns: side) : nil
        self.scan = try resolveScan(path: path, frames: frames, fromFile: square, options: options)
        var meta: [(String, String)] = [("data files", "\(names.count)"), ("frames", "\(frames)")]
        for key in ["count_time", "frame_time", "detector_distance", "beam_center_x", "beam_center_y", "x_pixel_size",
                    "y_pixel_size", "sensor_material", "description"] {
            let p = "entry/instrument/detector/" + key
            if file.exists(p), let ds = try? file.dataset(p), ds.shape.reduce(1, *) == 1,
               let v = try? ds.readAll(as: Double.self).first {
                meta.append((key, "\(v)"))
            }
        }
        self.metadata = meta
    }

    public func read(positions: Range<Int>, into destination: UnsafeMutableBufferPointer<Float>) throws {
        let P = detector.pixelCount
        guard positions.lowerBound >= 0, positions.upperBound <= scan.count, destination.count >= positions.count * P else {
            throw STEMError.invalidParameter(name: "scan positions", value: "\(positions)", expected: "a range inside 0..<\(scan.count) (\(path))")
        }
        for (ds, first, count) in segments {
            let lo = max(positions.lowerBound, first), hi = min(positions.upperBound, first + count)
            if lo >= hi { continue }
            // HDF5 decompresses and converts the integers to float32 on the way in.
            try ds.read(start: [lo - first, 0, 0], count: [hi - lo, detector.rows, detector.columns], memoryType: .float32,
                        into: UnsafeMutableRawPointer(destination.baseAddress! + (lo - positions.lowerBound) * P))
        }
    }
}
