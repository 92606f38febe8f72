import Foundation
import HDF5
import Registration
import STEMCore
import Testing

/// `stemrun register` under mpirun with 1 to 4 ranks: the halo-row exchange makes the spot table, its
/// index, the maps and the reconstructions identical to the one-rank run.
@Suite(.serialized) struct RegistrationMPITests {
    static let spotColumns = ["scan_index", "scan_x", "scan_y", "x", "y", "intensity", "pseudo_prominence", "noise", "threshold"]
    static let maps = ["virtual_bright_field", "full_virtual_bright_field", "spot_count", "noise", "threshold",
                       "pseudo_prominence_sum", "dark_field_0", "beam_x", "beam_y", "beam_radius"]

    func simulate(_ dir: String, scan: String) throws -> String {
        let input = dir + "/sim.h5"
        let r = try StemrunProcess.run(["simulate", "-o", input, "--scan", scan, "--detector", "64x64", "--grains", "3",
                                        "--hot-pixels", "2"])
        #expect(r.status == 0, "simulate: \(r.stderr)")
        return input
    }

    func contents(_ path: String) throws -> [String: [Double]] {
        let f = try H5File.open(path)
        var out: [String: [Double]] = [:]
        for c in Self.spotColumns { out["spots/" + c] = try f.dataset("registration/spots/" + c).readAll(as: Double.self) }
        out["index_offset"] = try f.dataset("registration/spots/index_offset").readAll(as: Double.self)
        out["index_count"] = try f.dataset("registration/spots/index_count").readAll(as: Double.self)
        for m in Self.maps { out[m] = try f.dataset("registration/maps/" + m).readAll(as: Double.self) }
        out["reconstruction"] = try f.dataset("registration/reconstruction").readAll(as: Double.self)
        out["compression_rate"] = try f.group("registration").numericAttribute("compression_rate")
        out["mask"] = try f.dataset("registration/bad_pixel_mask").readAll(as: Double.self)
        return out
    }

    /// 9 scan rows: blocks of 9; 5 + 4; 3 + 3 + 3 (a middle block whose halos on both sides take its ring's
    /// free slot); 3 + 2 + 2 + 2; 2 + 2 + 2 + 1 + 1 + 1 (one-row blocks with a halo on both sides), ranks
    /// sweeping down and up.
    @Test func sameResultsForOneToSixRanks() throws {
        let dir = StemrunProcess.temporaryFolder("stemrun-register")
        let input = try simulate(dir, scan: "9x7")
        let n = 63
        var reference: [String: [Double]]?
        var referenceCSV = ""
        // The last run sends the halo rows (7 x 64 x 64 floats) in pieces of 1000 (STEMRUN_MPI_MAX_MESSAGE).
        for (run, ranks) in [1, 2, 3, 4, 6, 3].enumerated() {
            let out = dir + "/r\(run).h5", csv = dir + "/r\(run).csv"
            let r = try StemrunProcess.run(["register", input, "-o", out, "--csv", csv, "--png-dir", dir + "/png\(run)",
                                            "--find-bad-pixels", "--dark-field", "10,0,30", "--chunk-mb", "1"], ranks: ranks,
                                           extraEnvironment: run == 5 ? ["STEMRUN_MPI_MAX_MESSAGE": "1000"] : [:])
            #expect(r.status == 0, "stderr: \(r.stderr)")
            let c = try contents(out)
            // The index points at each position's rows of the table.
            let offsets = c["index_offset"]!, counts = c["index_count"]!, scanIndex = c["spots/scan_index"]!
            #expect(counts.reduce(0, +) == Double(scanIndex.count) && scanIndex.count > n)
            for i in 0 ..< n {
                for k in Int(offsets[i]) ..< Int(offsets[i] + counts[i]) { #expect(scanIndex[k] == Double(i)) }
            }
            #expect(counts == c["spot_count"]!)
            // The beam maps follow the simulated descan path (ramps of 4 and -3 px and a wobble of 0.75 px;
            // the simulator's pixel centres are integers, the maps' are at j + 0.5).
            let truth = try H5File.open(input)
            let tx = try truth.dataset("ground_truth/beam_center_x").readAll(as: Double.self)
            let ty = try truth.dataset("ground_truth/beam_center_y").readAll(as: Double.self)
            let errors = (0 ..< n).map { hypot(c["beam_x"]![$0] - tx[$0] - 0.5, c["beam_y"]![$0] - ty[$0] - 0.5) }
            #expect(tx.max()! - tx.min()! > 3 && ty.max()! - ty.min()! > 2, "the descan path spans pixels")
            #expect(errors.max()! < 0.25, "beam map off the simulated beam by up to \(errors.max()!) px")
            // Compression rate = input bytes / spot-table bytes (uint16 64 x 64 patterns, 40 bytes a row).
            let expectedRate = Double(n) * 64 * 64 * 2 / (Double(scanIndex.count) * 40)
            #expect(abs(c["compression_rate"]![0] - expectedRate) < 1e-9 * expectedRate)
            #expect(c["mask"]!.reduce(0, +) >= 2, "the simulated hot pixels are masked")
            #expect(FileManager.default.fileExists(atPath: dir + "/png\(run)/virtual_bright_field.png"))
            let text = try String(contentsOfFile: csv, encoding: .utf8)
            #expect(text.split(separator: "\n").count == scanIndex.count + 1)
            if let ref = reference {
                for (k, v) in c { #expect(v == ref[k]!, "\(k) differs with \(ranks) ranks") }
                #expect(text == referenceCSV)
            } else {
                reference = c
                referenceCSV = text
            }
        }
    }

    /// An input that breaks in the middle of a rank's block (an image sequence with one file cut short, read
    /// after the rank has written reconstructions): every rank stops with the error naming the file and the
    /// exit status 1 (not killed by the timeout: no rank hangs closing the output), and no output, complete or
    /// partial, is left.
    @Test func readErrorInsideABlockEndsEveryRank() throws {
        let dir = StemrunProcess.temporaryFolder("stemrun-register-bad")
        let input = try simulate(dir, scan: "5x7")
        let frames = dir + "/frames"
        let e = try StemrunProcess.run(["export", input, "--to", "bmp", "--output", frames], ranks: 1)
        #expect(e.status == 0, "export: \(e.stderr)")
        // Pattern 8 is in scan row 1: inside rank 0's block (rows 0-2 on 2 ranks, 0-1 on 3), read after row 0.
        let bad = URL(fileURLWithPath: frames + "/pattern_08.bmp")
        try Data(contentsOf: bad).prefix(1000).write(to: bad)
        for ranks in [1, 2, 3] {
            let out = dir + "/r\(ranks).h5"
            let r = try StemrunProcess.run(["register", frames, "--scan-shape", "5x7", "-o", out], ranks: ranks, timeout: 60)
            #expect(r.status == 1 && r.stderr.contains("pattern_08.bmp"), "\(ranks) ranks: status \(r.status), \(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: out) && !FileManager.default.fileExists(atPath: out + ".partial"))
        }
    }

    /// A counting detector's bright direct beam (100000 counts over reflections of 200) sets the 8-bit range
    /// of the paper's grey-level rule, 3 grey levels = 1176 counts: only the beam passes, and the command says
    /// so and names the remedy; with `--grey-levels absolute` the six reflections are found and no note.
    @Test func brightBeamGreyLevelNote() throws {
        let dir = StemrunProcess.temporaryFolder("stemrun-register-beam")
        let input = dir + "/beam.h5"
        let scan = ScanGrid(rows: 2, columns: 3), w = 128
        let spots: [(Double, Double, Double, Double)] = [(64, 64, 2, 100_000)] + (0 ..< 6).map { k in
            let a = Double(k) * Double.pi / 3 + 0.3
            return (64 + 25 * cos(a), 64 + 25 * sin(a), 1.5, 200)
        }
        var values = [UInt32](repeating: 0, count: scan.count * w * w)
        for y in 0 ..< w { for x in 0 ..< w {
            var v = 2.0
            for (cx, cy, sigma, amplitude) in spots {
                let dx = Double(x) + 0.5 - cx, dy = Double(y) + 0.5 - cy
                v += amplitude * exp(-(dx * dx + dy * dy) / (2 * sigma * sigma))
            }
            for k in 0 ..< scan.count { values[k * w * w + y * w + x] = UInt32(v.rounded()) }
        } }
        do { // file and dataset released (the file closed) before stemrun opens it
            let f = try H5File.create(input)
            let ds = try f.createDataset("data", of: UInt32.self, shape: [scan.rows, scan.columns, w, w])
            try values.withUnsafeBufferPointer { try ds.write(start: [0, 0, 0, 0], count: [scan.rows, scan.columns, w, w], from: $0) }
        }
        let r = try StemrunProcess.run(["register", input, "-o", dir + "/a.h5", "--no-reconstruction"], ranks: 2)
        #expect(r.status == 0, "stderr: \(r.stderr)")
        #expect(r.stdout.contains("6 spots (1.0 per pattern)") && r.stdout.contains("note: on 100 % of the positions")
                && r.stdout.contains("--grey-levels absolute"), "stdout: \(r.stdout)")
        let a = try StemrunProcess.run(["register", input, "-o", dir + "/b.h5", "--no-reconstruction", "--grey-levels", "absolute"], ranks: 2)
        #expect(a.status == 0, "stderr: \(a.stderr)")
        #expect(a.stdout.contains("42 spots (7.0 per pattern)") && !a.stdout.contains("note:"), "stdout: \(a.stdout)")
        // The descan line: every pattern's beam at (64, 64) of the input detector.
        let line = a.stdout.split(separator: "\n").first { $0.contains("direct beam (descan) at x ") }
        let numbers = (line ?? "").replacingOccurrences(of: ",", with: " ").split(separator: " ").compactMap { Double($0) }
        #expect(numbers.count >= 4 && numbers.prefix(4).allSatisfy { abs($0 - 64) < 0.05 }, "line: \(line ?? "none")")
        let f = try H5File.open(dir + "/b.h5")
        let xs = try f.dataset("registration/spots/x").readAll(as: Double.self)
        let ys = try f.dataset("registration/spots/y").readAll(as: Double.self)
        for (cx, cy, _, _) in spots { // every spot of the first position within 0.2 px
            #expect((0 ..< 7).contains { k in hypot(xs[k] - cx, ys[k] - cy) < 0.2 }, "spot at (\(cx), \(cy))")
        }
    }

    /// No spot anywhere (a threshold above every maximum): on 2 ranks, a complete output with empty spot columns,
    /// an index of zeros, NaN beam maps, a CSV of the header alone and a note naming the threshold's levers.
    @Test func noSpotInAnyPattern() throws {
        let dir = StemrunProcess.temporaryFolder("stemrun-register-none")
        let input = try simulate(dir, scan: "3x4")
        let out = dir + "/none.h5", csv = dir + "/none.csv"
        let r = try StemrunProcess.run(["register", input, "-o", out, "--csv", csv, "--prominence", "1e9"], ranks: 2)
        #expect(r.status == 0, "stderr: \(r.stderr)")
        #expect(r.stdout.contains("0 spots (0.0 per pattern)") && r.stdout.contains("note: no spot passed the threshold")
                && !r.stdout.contains("direct beam (descan)"), "stdout: \(r.stdout)")
        let f = try H5File.open(out)
        for c in Self.spotColumns { #expect(try f.dataset("registration/spots/" + c).shape == [0], "column \(c)") }
        #expect(try f.dataset("registration/spots/index_count").readAll(as: Double.self) == [Double](repeating: 0, count: 12))
        #expect(try f.dataset("registration/maps/beam_x").readAll(as: Double.self).allSatisfy(\.isNaN))
        let lines = try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n")
        #expect(lines == [Substring(Self.spotColumns.joined(separator: ","))])
    }

    /// The shot-noise test from the command line and the configuration: on counted (uint16) data at 1/1000
    /// of `simulate`'s dose it removes spots (its electron value defaults to 1, stored in the provenance); on
    /// floating-point data it needs `--electron-value`, and without it the run stops before writing anything.
    @Test func shotNoiseTestOptions() throws {
        let dir = StemrunProcess.temporaryFolder("stemrun-register-shot")
        let input = dir + "/low.h5", float = dir + "/float.h5"
        for (path, extra) in [(input, ["--dose", "0.001"]), (float, ["--dtype", "float32"])] {
            let r = try StemrunProcess.run(["simulate", "-o", path, "--scan", "6x6", "--detector", "128x128"] + extra)
            #expect(r.status == 0, "simulate: \(r.stderr)")
        }
        let config = dir + "/reg.toml"
        try "shot-noise-test = true\n".write(toFile: config, atomically: true, encoding: .utf8)
        let paper = try StemrunProcess.run(["register", input, "-o", dir + "/paper.h5", "--no-reconstruction"], ranks: 2)
        let tested = try StemrunProcess.run(["register", input, "-o", dir + "/tested.h5", "--no-reconstruction", "--config", config], ranks: 2)
        #expect(paper.status == 0 && tested.status == 0, "stderr: \(paper.stderr) \(tested.stderr)")
        func spots(_ path: String) throws -> Int { try H5File.open(path).dataset("registration/spots/x").shape[0] }
        #expect(try spots(dir + "/tested.h5") * 2 < spots(dir + "/paper.h5"))
        let params = try H5File.open(dir + "/tested.h5").group("provenance/parameters")
        #expect(params.stringAttribute("shot_noise_test") == "true" && params.stringAttribute("electron_value") == "1.0")
        let bad = try StemrunProcess.run(["register", float, "-o", dir + "/f.h5", "--shot-noise-test"], ranks: 2)
        #expect(bad.status != 0 && bad.stderr.contains("electron-value") && bad.stderr.contains("float32"), "stderr: \(bad.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/f.h5"))
        let given = try StemrunProcess.run(["register", float, "-o", dir + "/g.h5", "--electron-value", "1", "--disc-centres"], ranks: 2)
        #expect(given.status == 0, "stderr: \(given.stderr)")
        #expect(try H5File.open(dir + "/g.h5").group("provenance/parameters").stringAttribute("disc_centres") == "true")
    }

    /// A one-row scan on more ranks than rows, and a TOML configuration (max-spots) with the command line
    /// winning over it; an unknown key in the configuration is an error naming it.
    @Test func oneRowScanAndConfiguration() throws {
        let dir = StemrunProcess.temporaryFolder("stemrun-register")
        let input = try simulate(dir, scan: "1x6")
        let config = dir + "/reg.toml"
        try "max-spots = 2\nscan-mean = false\nbackground-radius = 6.4\n".write(toFile: config, atomically: true, encoding: .utf8)
        let r = try StemrunProcess.run(["register", input, "-o", dir + "/a.h5", "--config", config], ranks: 3)
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let f = try H5File.open(dir + "/a.h5")
        let counts = try f.dataset("registration/spots/index_count").readAll(as: Double.self)
        #expect(counts.count == 6 && counts.allSatisfy { $0 >= 1 && $0 <= 2 })
        let params = try f.group("provenance/parameters")
        #expect(params.stringAttribute("scan_mean") == "false" && params.stringAttribute("background_radius") == "6.4")
        let r2 = try StemrunProcess.run(["register", input, "-o", dir + "/b.h5", "--config", config, "--max-spots", "1"], ranks: 2)
        #expect(r2.status == 0)
        #expect(try H5File.open(dir + "/b.h5").dataset("registration/spots/index_count").readAll(as: Double.self).allSatisfy { $0 == 1 })
        try "max-spot = 2\n".write(toFile: config, atomically: true, encoding: .utf8)
        let r3 = try StemrunProcess.run(["register", input, "-o", dir + "/c.h5", "--config", config], ranks: 2)
        #expect(r3.status != 0 && r3.stderr.contains("max-spot"))
        #expect(!FileManager.default.fileExists(atPath: dir + "/c.h5"))
    }

    /// The reconstructions (written a scan row at a time, or from 256 px on sparsely: only the rows that hold
    /// a disc, the rest of the dataset never written and read as zero): on 1 and 2 ranks, and with reconstruction
    /// sizes other than the detector's, every stored pattern equals the one `Reconstruction.render` draws from
    /// the file's own spot table, pixel for pixel.
    @Test(arguments: [(1, 64), (2, 48), (1, 256), (3, 256)])
    func reconstructionsEqualTheirSpotTable(ranks: Int, size: Int) throws {
        let dir = StemrunProcess.temporaryFolder("stemrun-register")
        let input = try simulate(dir, scan: "6x5")
        let out = dir + "/rec.h5"
        let r = try StemrunProcess.run(["register", input, "-o", out, "--reconstruction-size", "\(size)"], ranks: ranks)
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let f = try H5File.open(out)
        let rec = try f.dataset("registration/reconstruction")
        #expect(rec.shape == [6, 5, size, size])
        let stored = try rec.readAll(as: Float.self)
        let xs = try f.dataset("registration/spots/x").readAll(as: Float.self)
        let ys = try f.dataset("registration/spots/y").readAll(as: Float.self)
        let intensity = try f.dataset("registration/spots/intensity").readAll(as: Float.self)
        let offsets = try f.dataset("registration/spots/index_offset").readAll(as: Int64.self)
        let counts = try f.dataset("registration/spots/index_count").readAll(as: Int32.self)
        var params = RegistrationParameters(detectorWidth: 64)
        params.reconstructionSize = size
        let n = size * size
        var drawn = [Float](repeating: 0, count: n)
        var nonZero = 0 // positions with spots whose reconstruction is not all zero
        for i in 0 ..< 30 {
            let spots = (Int(offsets[i]) ..< Int(offsets[i]) + Int(counts[i])).map {
                Spot(x: xs[$0], y: ys[$0], intensity: intensity[$0], pseudoProminence: 0)
            }
            spots.withUnsafeBufferPointer { sp in
                drawn.withUnsafeMutableBufferPointer { d in
                    Reconstruction.render(sp, directBeam: sp.isEmpty ? nil : 0, workingWidth: 64, workingHeight: 64,
                                          parameters: params, blur: nil, into: d)
                }
            }
            let mine = Array(stored[i * n ..< (i + 1) * n])
            #expect(mine == drawn, "position \(i) differs from its spots (\(ranks) ranks)")
            if counts[i] > 0 && mine.contains(where: { $0 != 0 }) { nonZero += 1 }
        }
        #expect(nonZero >= 25, "discs were drawn for the positions with spots")
    }

    /// The job (rows prepared ahead of the one registered, each centring shift applied only just before the
    /// pattern is first read, the 3 x 3 mean formed inside the registrar, halo rows between ranks) finds exactly
    /// the spots the in-memory pipeline finds on the whole scan at once (`RegistrationPipeline.run`, which
    /// centres each row as soon as it is prepared), on 1 and 2 ranks and without the 3 x 3 mean. The simulated
    /// descan moves the beam by several pixels, so every pattern is shifted.
    @Test(arguments: [(1, true), (2, true), (2, false)])
    func jobFindsTheSpotsOfTheInMemoryPipeline(ranks: Int, scanMean: Bool) throws {
        let dir = StemrunProcess.temporaryFolder("stemrun-register")
        let input = try simulate(dir, scan: "5x6")
        let out = dir + "/job.h5"
        let r = try StemrunProcess.run(["register", input, "-o", out, "--no-reconstruction"] + (scanMean ? [] : ["--no-scan-mean"]),
                                       ranks: ranks)
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let f = try H5File.open(out)
        let columns = ["x", "y", "intensity", "pseudo_prominence"]
        let job = try columns.map { try f.dataset("registration/spots/\($0)").readAll(as: Float.self) }
        let counts = try f.dataset("registration/spots/index_count").readAll(as: Int32.self)

        let pixels = try H5File.open(input).dataset("data").readAll(as: Float.self)
        var p = RegistrationParameters(workingWidth: 64) // the command's defaults at 64 px
        p.scanMean = scanMean
        let pipeline = try RegistrationPipeline(parameters: p, inputShape: DetectorShape(rows: 64, columns: 64))
        let res = try pipeline.run(block: PatternBlock(firstIndex: 0, count: 30, detector: DetectorShape(rows: 64, columns: 64),
                                                       pixels: pixels),
                                   scan: ScanGrid(rows: 5, columns: 6), reconstruct: false)
        #expect(res.centringShifts.allSatisfy { $0.dx != 0 || $0.dy != 0 }, "every pattern is shifted")
        #expect(counts.map(Int.init) == res.spotCounts, "spots per position (\(ranks) ranks)")
        let memory: [[Float]] = [res.spots.map(\.x), res.spots.map(\.y), res.spots.map(\.intensity),
                                 res.spots.map(\.pseudoProminence)]
        #expect(res.spots.count > 60)
        for (k, name) in columns.enumerated() { #expect(job[k] == memory[k], "spots/\(name) (\(ranks) ranks)") }
    }
}
