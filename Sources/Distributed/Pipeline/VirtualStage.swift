import Foundation
import HDF5
import Imaging
import STEMCore

/// The `[virtual]` stage: virtual bright-field and annular dark-field images, total intensity, mean and
/// maximum pattern (`VirtualImagingJob`), committed as `stages/virtual.h5` with the maps under `/virtual`.
public struct VirtualStage: PipelineStage {
    public static let kind = StageKind(
        section: "virtual",
        summary: "Virtual bright-field / annular dark-field images, total intensity, mean and maximum pattern.",
        version: 1,
        keys: [
            ConfigKey("center", "[x, y] floats", default: "found from the mean pattern", "Direct-beam centre in detector pixels."),
            ConfigKey("bf_radius", "float", default: "1.1 x the direct-beam radius found", "Bright-field disc radius in pixels."),
            ConfigKey("adf_inner", "float", default: "2 x bf_radius", "Annular dark-field inner radius in pixels."),
            ConfigKey("adf_outer", "float", default: "half the smaller detector side", "Annular dark-field outer radius in pixels."),
            ConfigKey("sample_per_rank", "integer", default: "64", "Patterns per rank averaged to find the centre."),
        ],
        make: { try VirtualStage(section: $0) })

    public let name = "virtual"
    public let dependencies: [String] = []
    public var parameters: VirtualImagingJob.Parameters

    public init(parameters: VirtualImagingJob.Parameters = .init()) { self.parameters = parameters }

    init(section t: ConfigTable) throws {
        try t.rejectUnknownKeys(Self.kind.keys.map(\.name))
        var p = VirtualImagingJob.Parameters()
        if let c = try t.numbers("center") {
            guard c.count == 2 else {
                throw ConfigError.invalidValue(file: t.file, key: t.qualified("center"), value: "\(c)", expected: "[x, y]")
            }
            p.center = (Float(c[0]), Float(c[1]))
        }
        func positive(_ key: String) throws -> Float? {
            guard let v = try t.number(key) else { return nil }
            guard v >= 0, v.isFinite else {
                throw ConfigError.invalidValue(file: t.file, key: t.qualified(key), value: "\(v)", expected: "a radius >= 0 in pixels")
            }
            return Float(v)
        }
        p.brightFieldRadius = try positive("bf_radius")
        p.annularInner = try positive("adf_inner")
        p.annularOuter = try positive("adf_outer")
        if let n = try t.integer("sample_per_rank") {
            guard n > 0 else {
                throw ConfigError.invalidValue(file: t.file, key: t.qualified("sample_per_rank"), value: "\(n)", expected: "a positive integer")
            }
            p.samplePerRank = n
        }
        parameters = p
    }

    public var parameterText: String {
        func f(_ v: Float?) -> String { v.map { "\($0)" } ?? "auto" }
        let c = parameters.center.map { "\($0.x),\($0.y)" } ?? "auto"
        return "center=\(c) bf_radius=\(f(parameters.brightFieldRadius)) adf_inner=\(f(parameters.annularInner)) "
            + "adf_outer=\(f(parameters.annularOuter)) sample_per_rank=\(parameters.samplePerRank)"
    }

    public func estimatedBytes(scan: ScanGrid, detector: DetectorShape) -> Int {
        3 * scan.count * 4 + 2 * detector.pixelCount * 4
    }

    public func run(comm: Communicator, context: StageContext) throws {
        var p = parameters
        p.chunkBudgetBytes = context.chunkBudgetBytes
        _ = try VirtualImagingJob.run(source: context.source, parameters: p, comm: comm,
                                      outputPath: context.stageFile(name), pngFolder: nil,
                                      provenance: context.provenance)
    }

    public func report(stageFile: String, context: ReportContext) throws -> [ReportBlock] {
        let f = try H5File.open(stageFile)
        let g = try f.group("virtual")
        var blocks: [ReportBlock] = []
        let maps: [(String, String, Colormap)] = [
            ("bright_field", "Virtual bright field", .gray), ("annular_dark_field", "Virtual annular dark field", .viridis),
            ("total_intensity", "Total intensity", .viridis),
        ]
        for (dataset, title, cmap) in maps {
            let values = try f.dataset("virtual/" + dataset).readAll(as: Float.self)
            blocks.append(try ReportImages.scalarMap(title: title, values, scan: context.scan, colormap: cmap,
                                                     scratch: context.scratchFolder))
        }
        for (dataset, title) in [("mean_pattern", "Mean pattern (log scale)"), ("max_pattern", "Maximum pattern (log scale)")] {
            let values = try f.dataset("virtual/" + dataset).readAll(as: Float.self)
            blocks.append(try ReportImages.pattern(title: title, values, detector: context.detector, scratch: context.scratchFolder))
        }
        let center = g.numericAttribute("center") ?? []
        let adf = g.numericAttribute("annular_radii") ?? []
        let bf = g.numericAttribute("bright_field_radius") ?? []
        func fmt(_ v: [Double]) -> String { v.map { String(format: "%.2f", $0) }.joined(separator: ", ") }
        blocks.append(.table(title: "Virtual detector", header: ["quantity", "value (detector pixels)"],
                             rows: [["direct-beam centre (x, y)", fmt(center)], ["bright-field radius", fmt(bf)],
                                    ["annular dark-field radii", fmt(adf)]]))
        return blocks
    }
}
