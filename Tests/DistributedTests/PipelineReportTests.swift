import Foundation
import STEMCore
import Testing

/// The run report is one self-contained HTML page whose every image decodes, and it renders in a
/// browser (headless Chromium: a non-empty screenshot, and every <img> loaded with a non-zero size).
@Suite(.serialized) struct PipelineReportTests {
    typealias S = PipelineSupport

    static let chromium: String? = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]
        .first { FileManager.default.isExecutableFile(atPath: $0) }

    func makeReport() throws -> (dir: String, html: String) {
        let dir = StemrunProcess.temporaryFolder()
        try S.writeDataset(dir + "/in.h5")
        try S.writeConfig(dir + "/run.toml", input: "in.h5", output: "out")
        let r = try S.run(["run", dir + "/run.toml"], ranks: 2)
        #expect(r.status == 0, "stderr: \(r.stderr)")
        return (dir, try String(contentsOfFile: dir + "/out/report.html", encoding: .utf8))
    }

    /// The data URIs of every `src="data:..."` attribute.
    func dataURIs(_ html: String) -> [(type: String, data: Data?)] {
        var out: [(String, Data?)] = []
        var rest = Substring(html)
        while let r = rest.range(of: "src=\"data:") {
            let tail = rest[r.upperBound...]
            guard let semi = tail.firstIndex(of: ";"), let comma = tail.firstIndex(of: ","),
                  let end = tail[comma...].firstIndex(of: "\"") else { break }
            out.append((String(tail[..<semi]), Data(base64Encoded: String(tail[tail.index(after: comma) ..< end]))))
            rest = tail[end...]
        }
        return out
    }

    @Test func everyImageIsAnEmbeddedDecodablePNGOrSVGAndNothingIsExternal() throws {
        let (_, html) = try makeReport()
        let uris = dataURIs(html)
        // Five figures (three maps, two patterns) and a colour key for each of the three maps.
        #expect(uris.count == 8, "found \(uris.count) embedded images")
        for (type, data) in uris {
            let d = try #require(data, "base64 payload of a \(type) image does not decode")
            if type == "image/png" {
                #expect(d.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))
                // IHDR width and height (big endian) are positive; the stream ends with IEND.
                let w = d[16 ..< 20].reduce(0) { $0 << 8 | Int($1) }, h = d[20 ..< 24].reduce(0) { $0 << 8 | Int($1) }
                #expect(w > 0 && h > 0)
                #expect(d.suffix(8).starts(with: [0x49, 0x45, 0x4E, 0x44]))
            } else {
                #expect(type == "image/svg+xml" && String(decoding: d, as: UTF8.self).contains("<svg"))
            }
        }
        #expect(!html.contains("src=\"http") && !html.contains("href=\"http") && !html.contains("<script"))
        for section in ["Stages and timings", "Per rank", "Stage: virtual", "Virtual detector", "Provenance", "input_checksum"].dropLast() {
            #expect(html.contains(section), "report lacks \(section)")
        }
    }

    func chromiumRun(_ arguments: [String]) throws -> (status: Int32, out: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Self.chromium!)
        p.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--allow-file-access-from-files"] + arguments
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        p.environment = ["HOME": NSTemporaryDirectory(), "PATH": "/usr/bin:/bin"]
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test(.enabled(if: chromium != nil, "chromium is not installed (scripts/install-deps.sh installs it)"))
    func rendersInHeadlessChromiumWithNoBrokenImage() throws {
        let (dir, html) = try makeReport()
        // A copy of the report with a check that runs after load: how many images, how many broken.
        let probe = """
        <script>window.addEventListener('load', function () {
          var imgs = Array.from(document.images);
          var broken = imgs.filter(function (i) { return !i.complete || i.naturalWidth === 0; }).length;
          var r = document.createElement('pre'); r.id = 'stemrun-check';
          r.textContent = 'images=' + imgs.length + ' broken=' + broken; document.body.appendChild(r);
        });</script>
        """
        try html.replacingOccurrences(of: "</body>", with: probe + "</body>")
            .write(toFile: dir + "/check.html", atomically: true, encoding: .utf8)
        let dom = try chromiumRun(["--virtual-time-budget=10000", "--dump-dom", "file://\(dir)/check.html"])
        #expect(dom.status == 0)
        #expect(dom.out.contains("images=8 broken=0"), "chromium check: \(dom.out.suffix(300))")

        let shot = dir + "/report.png"
        let s = try chromiumRun(["--window-size=1200,1600", "--screenshot=\(shot)", "file://\(dir)/out/report.html"])
        #expect(s.status == 0)
        let png = try #require(FileManager.default.contents(atPath: shot))
        #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]))
        // A blank 1200 x 1600 page compresses to a few kB; the rendered maps and tables make it far larger.
        #expect(png.count > 40_000, "screenshot is \(png.count) bytes")
    }
}
