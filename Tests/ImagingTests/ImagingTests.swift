import Foundation
import Imaging
import Testing

@Suite struct ImagingTests {
    @Test func pngRoundTripThroughLibpng() throws {
        let path = NSTemporaryDirectory() + "img-\(UUID().uuidString.prefix(8)).png"
        let values: [Float] = (0 ..< 12).map { Float($0) }
        let img = MapRenderer.scalar(values, width: 4, height: 3, colormap: .gray, limits: (0, 11), scale: 2)
        try img.write(to: path)
        let back = try PNGImage.read(from: path, channels: .rgb)
        #expect(back.width == 8 && back.height == 6)
        #expect(back.samples == img.samples)
        // Grey map: first pixel black, last white, monotone along the row.
        #expect(back.samples[0] == 0 && back.samples[back.samples.count - 1] == 255)
    }

    @Test func labelsUseDistinctColoursAndBlackForUnindexed() {
        let img = MapRenderer.labels([0, 1, -1, 2], width: 2, height: 2)
        let px = stride(from: 0, to: 12, by: 3).map { [img.samples[$0], img.samples[$0 + 1], img.samples[$0 + 2]] }
        #expect(Set(px).count == 4)
        #expect(px[2] == [0, 0, 0])
    }

    @Test func svgPlotContainsSeriesAndKnee() throws {
        var plot = SVGPlot(title: "loss", xLabel: "k", yLabel: "loss")
        plot.series = [.init(label: "K-loss", x: [3, 4, 5], y: [5, 4, 3.5])]
        plot.verticalLines = [(4, "knee k = 4")]
        plot.shadedRegions = [(3, 5, "region")]
        let svg = plot.render()
        #expect(svg.hasPrefix("<svg") && svg.contains("knee k = 4") && svg.contains("polyline"))
        let path = NSTemporaryDirectory() + "plot-\(UUID().uuidString.prefix(8)).svg"
        try plot.write(to: path)   // a new file (no destination to replace)
        try plot.write(to: path)   // and over an existing one
        #expect(try String(contentsOfFile: path, encoding: .utf8) == svg)
        #expect(!FileManager.default.fileExists(atPath: path + ".partial"))
    }
}
