import ArgumentParser
import Readers
import STEMCore

/// The input options every command shares: the file and what its format needs.
struct InputOptions: ParsableArguments {
    @Argument(help: "Input dataset (HDF5, raw binary, or an instrument format).")
    var input: String

    @Option(help: "Input format: auto (from the file's content), hdf5, raw, or an instrument format.")
    var format: String = "auto"

    @Option(help: "HDF5 dataset path (default: the largest 3D or 4D numeric dataset).")
    var dataset: String?

    @Option(help: "Scan shape NYxNX (needed for (N, Ky, Kx) data and raw files; checked otherwise).")
    var scanShape: String?

    @Option(help: "Raw input: detector shape KYxKX.")
    var detectorShape: String?

    @Option(help: "Raw input: element type (uint8, uint16, uint32, int16, int32, float32, float64).")
    var dtype: String?

    @Option(help: "Raw input: byte order, little or big.")
    var byteOrder: String = "little"

    @Option(help: "Raw input: bytes of file header before the first frame.")
    var headerBytes: Int = 0

    @Option(help: "Raw input: bytes of header before each frame.")
    var frameHeaderBytes: Int = 0

    @Option(help: "Raw input: bytes after each frame (EMPAD: 2 rows x width x 4).")
    var frameFooterBytes: Int = 0

    static func parseShape(_ text: String, option: String) throws -> (Int, Int) {
        let parts = text.lowercased().split(whereSeparator: { $0 == "x" || $0 == "," }).map { Int($0) }
        guard parts.count == 2, let a = parts[0], let b = parts[1], a > 0, b > 0 else {
            throw STEMError.invalidParameter(name: option, value: text, expected: "two positive integers like 64x64")
        }
        return (a, b)
    }

    func spec() throws -> InputSpec {
        var spec = InputSpec(path: input, format: format, datasetPath: dataset)
        if let s = scanShape {
            let (r, c) = try Self.parseShape(s, option: "--scan-shape")
            spec.scanShape = ScanGrid(rows: r, columns: c)
        }
        if let d = detectorShape {
            let (r, c) = try Self.parseShape(d, option: "--detector-shape")
            spec.detectorShape = DetectorShape(rows: r, columns: c)
        }
        if let t = dtype {
            guard let e = ElementType(userName: t) else {
                throw STEMError.invalidParameter(name: "--dtype", value: t,
                                                 expected: "uint8, uint16, uint32, int16, int32, float32 or float64")
            }
            spec.elementType = e
        }
        guard let order = ByteOrder(rawValue: byteOrder.lowercased()) else {
            throw STEMError.invalidParameter(name: "--byte-order", value: byteOrder, expected: "little or big")
        }
        spec.byteOrder = order
        spec.headerBytes = headerBytes
        spec.frameHeaderBytes = frameHeaderBytes
        spec.frameFooterBytes = frameFooterBytes
        return spec
    }

    /// Provenance parameters describing the input.
    var provenanceParameters: [(String, String)] {
        [("input_format", format), ("dataset", dataset ?? "auto"), ("scan_shape", scanShape ?? "from file")]
    }
}
