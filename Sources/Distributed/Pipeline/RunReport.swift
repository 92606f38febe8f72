import Foundation
import HDF5
import Imaging
import STEMCore

/// The run report: one self-contained HTML page per dataset (every image a base64 data URI, no external
/// file, script or font), with each stage's figures and tables, timings per stage and per rank, and the
/// provenance. Written by rank 0 from the committed stage files.
public struct RunReport {
    public let manifest: PipelineManifest
    public let folder: String
    public let stages: [PipelineStage]
    public let scan: ScanGrid
    public let detector: DetectorShape
    public let wallSeconds: Double

    public init(manifest: PipelineManifest, folder: String, stages: [PipelineStage], scan: ScanGrid,
                detector: DetectorShape, wallSeconds: Double) {
        self.manifest = manifest
        self.folder = folder
        self.stages = stages
        self.scan = scan
        self.detector = detector
        self.wallSeconds = wallSeconds
    }

    public func write(to path: String) throws {
        try AtomicFile.write(Data(try render().utf8), to: path)
    }

    public func render() throws -> String {
        let scratch = folder + "/.report-scratch"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let context = ReportContext(scan: scan, detector: detector, scratchFolder: scratch)
        let title = "stemrun report: " + (manifest.input as NSString).lastPathComponent
        var h = """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>\(esc(title))</title>
        <style>
        body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px;color:#222;max-width:1200px}
        h1{font-size:1.5em;margin-bottom:0} h2{border-bottom:1px solid #ccc;padding-bottom:4px;margin-top:32px}
        .sub{color:#666;margin-top:4px} table{border-collapse:collapse;margin:8px 0 16px}
        td,th{border:1px solid #ddd;padding:4px 10px;text-align:left;font-size:0.9em;vertical-align:top}
        th{background:#f4f4f4} td.num{text-align:right;font-variant-numeric:tabular-nums}
        .figs{display:flex;flex-wrap:wrap;gap:20px} figure{margin:0} figcaption{font-size:0.85em;color:#555;max-width:300px}
        figure img.map{image-rendering:pixelated;width:256px;border:1px solid #ccc}
        .key{display:flex;align-items:center;gap:6px;font-size:0.8em;margin-top:4px} .key img{width:160px;height:12px}
        .swatch{display:inline-block;width:12px;height:12px;border:1px solid #999;margin-right:4px}
        .bar{background:#4e79a7;height:10px;display:inline-block} .ok{color:#1a7f37} .reused{color:#6e7781}
        code{font-size:0.85em;word-break:break-all}
        </style></head><body>
        <h1>\(esc(title))</h1>
        <p class="sub">\(esc(manifest.input)) &middot; \(scan.rows) &times; \(scan.columns) scan positions &middot; \(detector.rows) &times; \(detector.columns) detector pixels &middot; \(manifest.ranks) MPI rank(s) &middot; finished \(esc(manifest.finishedAt ?? ""))</p>

        """
        h += timingSection()
        for stage in stages {
            let file = PipelineLayout.stageFile(folder: folder, stage: stage.name)
            h += "<h2 id=\"stage-\(esc(stage.name))\">Stage: \(esc(stage.name))</h2>\n"
            h += "<p class=\"sub\">parameters: <code>\(esc(stage.parameterText))</code></p>\n"
            let blocks = try stage.report(stageFile: file, context: context)
            h += try render(blocks, scratch: scratch)
        }
        h += provenanceSection()
        h += "</body></html>\n"
        return h
    }

    func timingSection() -> String {
        var h = "<h2>Stages and timings</h2>\n<table><tr><th>stage</th><th>status</th><th>slowest rank (s)</th><th>mean (s)</th><th>key</th><th>finished</th></tr>\n"
        for s in manifest.stages {
            let mx = s.secondsPerRank.max() ?? 0, mean = s.secondsPerRank.isEmpty ? 0 : s.secondsPerRank.reduce(0, +) / Double(s.secondsPerRank.count)
            let status = s.status == "computed" ? "<span class=\"ok\">computed</span>" : "<span class=\"reused\">reused (checkpoint)</span>"
            h += "<tr><td>\(esc(s.name))</td><td>\(status)</td><td class=\"num\">\(fmt(mx))</td><td class=\"num\">\(fmt(mean))</td><td><code>\(esc(String(s.key.prefix(16))))</code></td><td>\(esc(s.finishedAt))</td></tr>\n"
        }
        h += "</table>\n<p>This invocation: \(fmt(wallSeconds)) s wall time (reused stages cost nothing).</p>\n"
        // Per rank: one row per rank, one column per stage, with a bar proportional to the time.
        let ranks = manifest.stages.map(\.secondsPerRank.count).max() ?? 0
        guard ranks > 0 else { return h }
        let longest = manifest.stages.flatMap(\.secondsPerRank).max() ?? 1
        h += "<h3>Per rank</h3>\n<table><tr><th>rank</th><th>host</th>" + manifest.stages.map { "<th>\(esc($0.name)) (s)</th>" }.joined() + "</tr>\n"
        for r in 0 ..< ranks {
            h += "<tr><td class=\"num\">\(r)</td><td>\(esc(r < manifest.hosts.count ? manifest.hosts[r] : ""))</td>"
            for s in manifest.stages {
                if r < s.secondsPerRank.count {
                    let t = s.secondsPerRank[r]
                    let w = Int((t / max(longest, 1e-9) * 120).rounded())
                    h += "<td class=\"num\">\(fmt(t)) <span class=\"bar\" style=\"width:\(w)px\"></span></td>"
                } else { h += "<td></td>" }
            }
            h += "</tr>\n"
        }
        return h + "</table>\n"
    }

    func provenanceSection() -> String {
        var rows: [(String, String)] = [
            ("stemrun version", manifest.stemrunVersion), ("command line", manifest.commandLine),
            ("configuration", manifest.config), ("input", manifest.input),
            ("input fingerprint (path, size, mtime, layout)", manifest.inputFingerprint),
            ("ranks", "\(manifest.ranks)"), ("hosts", Array(Set(manifest.hosts)).sorted().joined(separator: ", ")),
            ("started", manifest.startedAt), ("finished", manifest.finishedAt ?? ""),
        ]
        // What the stage files recorded about the input they read.
        for s in manifest.stages {
            let file = folder + "/" + s.file
            guard let f = try? H5File.open(file), let p = try? f.group("provenance") else { continue }
            if let b = p.numericAttribute("input_bytes"), let c = p.stringAttribute("input_checksum") {
                rows.append(("input bytes and checksum (\(s.name))", "\(Int(b.first ?? 0)) bytes, checksum \(c)"))
            }
        }
        var h = "<h2>Provenance</h2>\n<table>\n"
        for (k, v) in rows { h += "<tr><th>\(esc(k))</th><td><code>\(esc(v))</code></td></tr>\n" }
        return h + "</table>\n"
    }

    func render(_ blocks: [ReportBlock], scratch: String) throws -> String {
        var h = "", figures = ""
        func flush() { if !figures.isEmpty { h += "<div class=\"figs\">\n" + figures + "</div>\n"; figures = "" } }
        for b in blocks {
            switch b {
            case let .image(title, png, caption, key):
                figures += "<figure><img class=\"map\" alt=\"\(esc(title))\" src=\"data:image/png;base64,\(png.base64EncodedString())\">"
                figures += "<figcaption><b>\(esc(title))</b><br>\(esc(caption))"
                if let key { figures += try keyHTML(key, scratch: scratch) }
                figures += "</figcaption></figure>\n"
            case let .svg(title, svg, caption):
                figures += "<figure><img alt=\"\(esc(title))\" src=\"data:image/svg+xml;base64,\(Data(svg.utf8).base64EncodedString())\">"
                figures += "<figcaption><b>\(esc(title))</b><br>\(esc(caption))</figcaption></figure>\n"
            case let .table(title, header, rows):
                flush()
                h += "<h3>\(esc(title))</h3>\n<table><tr>" + header.map { "<th>\(esc($0))</th>" }.joined() + "</tr>\n"
                for r in rows { h += "<tr>" + r.map { "<td>\(esc($0))</td>" }.joined() + "</tr>\n" }
                h += "</table>\n"
            case let .text(t):
                flush()
                h += "<p>\(esc(t))</p>\n"
            }
        }
        flush()
        return h
    }

    func keyHTML(_ key: ColorKey, scratch: String) throws -> String {
        switch key {
        case let .continuous(colormap, low, high, label):
            let bar = try ReportImages.colorBar(colormap, scratch: scratch).base64EncodedString()
            return "<div class=\"key\"><span>\(fmt(Double(low)))</span><img alt=\"colour key: \(esc(label))\" src=\"data:image/png;base64,\(bar)\"><span>\(fmt(Double(high)))</span></div>"
        case let .categories(items):
            return "<div class=\"key\">" + items.map { item in
                String(format: "<span><span class=\"swatch\" style=\"background:#%02x%02x%02x\"></span>", item.rgb.0, item.rgb.1, item.rgb.2)
                    + esc(item.label) + "</span>"
            }.joined(separator: " ") + "</div>"
        }
    }

    func fmt(_ v: Double) -> String {
        if v == 0 { return "0" }
        let a = abs(v)
        return a >= 1e5 || a < 1e-3 ? String(format: "%.3g", v) : String(format: a >= 100 ? "%.1f" : "%.3f", v)
    }

    func esc(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
