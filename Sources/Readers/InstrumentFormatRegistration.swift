import Foundation
import STEMCore

// Connects the instrument formats of `FormatRegistry` to the command line's `InputSpec`, which tries
// these detectors in order, then the HDF5 signature (generic HDF5, including EMD files), then raw binary.

extension FormatRegistry {
    /// Every instrument format, including those read through HDF5 (Dectris master + data files).
    public static let instrumentFormats: [PatternFormat] = builtIn + [DectrisPatternSource.format]
}

extension InputSpec.Registration {
    /// The `InputSpec` registration of an instrument format.
    public init(_ format: PatternFormat) {
        self.init(
            name: format.name,
            detect: { path, _ in (try? FileProbe(path: path)).map(format.detect) ?? false },
            open: { spec in try format.open(spec.path, ReaderOptions(spec)) })
    }
}

extension ReaderOptions {
    /// The reader options the command-line input options imply.
    public init(_ spec: InputSpec) {
        self.init(scan: spec.scanShape, detector: spec.detectorShape, elementType: spec.elementType,
                  byteOrder: spec.byteOrder, headerBytes: spec.headerBytes, dataset: spec.datasetPath)
    }
}
