import Foundation
import STEMCore

/// A small line-plot writer (SVG) for curves people read in reports: the NMF k-loss curve with its knee,
/// depth profiles, stage fractions over time. No dependencies; the SVG opens in any browser.
public struct SVGPlot: Sendable {
    public struct Series: Sendable {
        public var label: String
        public var x: [Double]
        public var y: [Double]
        public var color: String
        public var markers: Bool
        public init(label: String, x: [Double], y: [Double], color: String = "#1f77b4", markers: Bool = true) {
            self.label = label; self.x = x; self.y = y; self.color = color; self.markers = markers
        }
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var series: [Series] = []
    /// Vertical lines (x, label), e.g. the knee.
    public var verticalLines: [(Double, String)] = []
    /// Shaded x intervals (from, to, label), e.g. the recommended k region.
    public var shadedRegions: [(Double, Double, String)] = []
    public var width = 640.0
    public var height = 400.0

    public init(title: String, xLabel: String, yLabel: String) {
        self.title = title; self.xLabel = xLabel; self.yLabel = yLabel
    }

    private static func niceTicks(_ lo: Double, _ hi: Double, count: Int = 5) -> [Double] {
        guard hi > lo, lo.isFinite, hi.isFinite else { return [lo] }
        let raw = (hi - lo) / Double(count)
        let mag = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 2.5, 5, 10].map { $0 * mag }.first { $0 >= raw } ?? raw
        var t = ceil(lo / step) * step
        var out: [Double] = []
        while t <= hi + step * 1e-9 { out.append(t); t += step }
        return out
    }

    private static func fmt(_ v: Double) -> String {
        if v == 0 { return "0" }
        if abs(v) >= 1e4 || abs(v) < 1e-3 { return String(format: "%.2e", v) }
        return String(format: "%g", (v * 1e6).rounded() / 1e6)
    }

    private static func esc(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
    }

    /// The SVG document.
    public func render() -> String {
        let xs = series.flatMap { $0.x }.filter { $0.isFinite } + verticalLines.map { $0.0 }
        let ys = series.flatMap { $0.y }.filter { $0.isFinite }
        var (x0, x1) = (xs.min() ?? 0, xs.max() ?? 1)
        var (y0, y1) = (ys.min() ?? 0, ys.max() ?? 1)
        if x1 <= x0 { x1 = x0 + 1 }
        if y1 <= y0 { y1 = y0 + 1 }
        let pad = (y1 - y0) * 0.05
        y0 -= pad; y1 += pad
        let (l, r, t, b) = (70.0, 20.0, 40.0, 50.0)
        let pw = width - l - r, ph = height - t - b
        func px(_ x: Double) -> Double { l + (x - x0) / (x1 - x0) * pw }
        func py(_ y: Double) -> Double { t + (1 - (y - y0) / (y1 - y0)) * ph }
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" font-family=\"sans-serif\" font-size=\"12\">\n"
        s += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        s += "<text x=\"\(width / 2)\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">\(Self.esc(title))</text>\n"
        for (a, c, label) in shadedRegions {
            let xa = px(max(a, x0)), xc = px(min(c, x1))
            s += "<rect x=\"\(xa)\" y=\"\(t)\" width=\"\(max(0, xc - xa))\" height=\"\(ph)\" fill=\"#f4a261\" fill-opacity=\"0.25\"><title>\(Self.esc(label))</title></rect>\n"
        }
        for tx in Self.niceTicks(x0, x1) {
            s += "<line x1=\"\(px(tx))\" y1=\"\(t + ph)\" x2=\"\(px(tx))\" y2=\"\(t + ph + 5)\" stroke=\"black\"/>"
            s += "<text x=\"\(px(tx))\" y=\"\(t + ph + 18)\" text-anchor=\"middle\">\(Self.fmt(tx))</text>\n"
        }
        for ty in Self.niceTicks(y0, y1) {
            s += "<line x1=\"\(l - 5)\" y1=\"\(py(ty))\" x2=\"\(l)\" y2=\"\(py(ty))\" stroke=\"black\"/>"
            s += "<line x1=\"\(l)\" y1=\"\(py(ty))\" x2=\"\(l + pw)\" y2=\"\(py(ty))\" stroke=\"#ddd\"/>"
            s += "<text x=\"\(l - 8)\" y=\"\(py(ty) + 4)\" text-anchor=\"end\">\(Self.fmt(ty))</text>\n"
        }
        s += "<rect x=\"\(l)\" y=\"\(t)\" width=\"\(pw)\" height=\"\(ph)\" fill=\"none\" stroke=\"black\"/>\n"
        s += "<text x=\"\(l + pw / 2)\" y=\"\(height - 10)\" text-anchor=\"middle\">\(Self.esc(xLabel))</text>\n"
        s += "<text transform=\"translate(16,\(t + ph / 2)) rotate(-90)\" text-anchor=\"middle\">\(Self.esc(yLabel))</text>\n"
        for (x, label) in verticalLines {
            s += "<line x1=\"\(px(x))\" y1=\"\(t)\" x2=\"\(px(x))\" y2=\"\(t + ph)\" stroke=\"#d62728\" stroke-dasharray=\"5,4\"/>"
            s += "<text x=\"\(px(x) + 4)\" y=\"\(t + 14)\" fill=\"#d62728\">\(Self.esc(label))</text>\n"
        }
        for (i, ser) in series.enumerated() {
            let pts = zip(ser.x, ser.y).filter { $0.0.isFinite && $0.1.isFinite }
            let path = pts.map { "\(px($0.0)),\(py($0.1))" }.joined(separator: " ")
            s += "<polyline fill=\"none\" stroke=\"\(ser.color)\" stroke-width=\"2\" points=\"\(path)\"/>\n"
            if ser.markers {
                for p in pts { s += "<circle cx=\"\(px(p.0))\" cy=\"\(py(p.1))\" r=\"3\" fill=\"\(ser.color)\"/>" }
                s += "\n"
            }
            let ly = t + 16 + Double(i) * 16
            s += "<line x1=\"\(l + pw - 150)\" y1=\"\(ly)\" x2=\"\(l + pw - 130)\" y2=\"\(ly)\" stroke=\"\(ser.color)\" stroke-width=\"2\"/>"
            s += "<text x=\"\(l + pw - 125)\" y=\"\(ly + 4)\">\(Self.esc(ser.label))</text>\n"
        }
        s += "</svg>\n"
        return s
    }

    /// Writes the SVG (through a temporary name).
    public func write(to path: String) throws {
        let tmp = path + ".partial"
        try render().write(toFile: tmp, atomically: false, encoding: .utf8)
        guard rename(tmp, path) == 0 else {
            throw STEMError.outputFailed(path: path, detail: "rename from \(tmp): \(String(cString: strerror(errno)))")
        }
    }
}
