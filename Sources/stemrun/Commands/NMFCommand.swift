import ArgumentParser
import Distributed
import Factorization
import Foundation
import Readers
import STEMCore

/// `stemrun nmf`: NMF clustering, the choice of k (K-component loss + Kneedle), overlap maps and image-quality
/// tables (arXiv:2503.06699), distributed over MPI ranks and, for the k-sweep, over groups of ranks.
struct NMFCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nmf",
        abstract: "NMF clustering with the choice of k, overlap maps and image-quality tables (run under mpirun).")

    @OptionGroup var input: InputOptions

    @Option(name: .shortAndLong, help: "Output HDF5 file.")
    var output: String = "nmf.h5"

    @Option(help: "Folder for the k-loss plot (SVG) and PNG maps (none: no images).")
    var pngDir: String?

    @Option(help: "k range MIN-MAX (authors: 3-20).")
    var kRange: String = "3-20"

    @Option(help: "Use this k instead of the knee.")
    var k: Int?

    @Option(help: "Groups of ranks sharing the k-sweep (each group holds its own partition of the data).")
    var groups: Int = 1

    @Option(help: "Detector binning factor (area average).")
    var bin: Int = 1

    @Option(help: "Clustering solver: cd (HALS, the authors' choice) or mu (multiplicative updates).")
    var solver: String = "cd"

    @Option(help: "Iterations of the clustering fit (authors: 1500).")
    var maxIter: Int = 1500

    @Option(help: "Relative tolerance, checked every 10 iterations (0: run all iterations).")
    var tol: Double = 1e-4

    @Flag(help: "Fit the k values of a group one after another instead of stacked in one wide product.")
    var noStack = false

    @Flag(help: "Skip the K-component loss (KL fits on 128 x 128 patterns); the knee then uses the Frobenius error.")
    var noComponentLoss = false

    @Option(help: "Iterations of the K-component loss fits (authors: 200).")
    var lossIter: Int = 200

    @Option(help: "Background component: auto (least intensity outside the direct beam), none, or an index.")
    var background: String = "auto"

    @Option(help: "Random restarts of the chosen k for the cluster-stability score (adjusted Rand index).")
    var restarts: Int = 2

    @Option(help: "Preprocessings to compare, comma-separated: raw, mean3x3, registered.")
    var preprocess: String = "raw"

    @Option(help: "Registered-reconstructed patterns (an HDF5 file with the same scan and detector) for 'registered'.")
    var registered: String?

    @Option(help: "Mask: set a disc of this radius (pixels after binning) at the detector centre to 0 (the direct beam of registered, centred patterns); 0: none.")
    var maskRadius: Double = 0

    @Option(help: "Memory per rank for one chunk of patterns while reading, in MiB.")
    var chunkMb: Int = 16

    func parameters() throws -> NMFJob.Parameters {
        var p = NMFJob.Parameters()
        let bounds = kRange.split(separator: "-").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard bounds.count == 2, let lo = bounds[0], let hi = bounds[1], lo >= 1, hi >= lo else {
            throw STEMError.invalidParameter(name: "--k-range", value: kRange, expected: "MIN-MAX with 1 <= MIN <= MAX, e.g. 3-20")
        }
        p.ks = Array(lo ... hi)
        p.chosenK = k
        p.groups = groups
        p.bin = bin
        guard let s = NMFSolver(rawValue: solver) else {
            throw STEMError.invalidParameter(name: "--solver", value: solver, expected: "cd or mu")
        }
        p.solver = s
        guard maxIter >= 1, lossIter >= 1, tol >= 0, restarts >= 0 else {
            throw STEMError.invalidParameter(name: "iterations / tolerance / restarts",
                                             value: "\(maxIter) / \(tol) / \(restarts)", expected: "iterations >= 1, tol >= 0, restarts >= 0")
        }
        p.maxIterations = maxIter
        p.tolerance = tol
        p.stacked = !noStack
        p.componentLoss = !noComponentLoss
        p.lossIterations = lossIter
        p.restarts = restarts
        switch background.lowercased() {
        case "auto": p.background = .auto
        case "none": p.background = .none
        default:
            guard let c = Int(background) else {
                throw STEMError.invalidParameter(name: "--background", value: background, expected: "auto, none or a component index")
            }
            p.background = .component(c)
        }
        p.chunkBudgetBytes = max(1, chunkMb) << 20
        p.groundTruthPath = input.input
        guard maskRadius >= 0, maskRadius.isFinite else {
            throw STEMError.invalidParameter(name: "--mask-radius", value: "\(maskRadius)", expected: "a radius >= 0 in pixels")
        }
        p.maskCenterRadius = maskRadius
        return p
    }

    func run() throws {
        try runOnWorld { comm in
            let p = try comm.collectively { try parameters() }
            let names = preprocess.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces).lowercased() }
            var sources: [(String, PatternSource)] = []
            try comm.collectively {
                let main = try input.spec().open()
                for name in names {
                    switch name {
                    case "raw", "mean3x3": sources.append((name, main))
                    case "registered":
                        guard let path = registered else {
                            throw STEMError.invalidParameter(name: "--preprocess", value: "registered",
                                                             expected: "--registered FILE with the registered-reconstructed patterns")
                        }
                        sources.append((name, try InputSpec(path: path, format: "auto", datasetPath: nil).open()))
                    default:
                        throw STEMError.invalidParameter(name: "--preprocess", value: name, expected: "raw, mean3x3 or registered")
                    }
                }
            }
            var prov = Provenance(command: "nmf", inputPath: input.input)
            prov.parameters = input.provenanceParameters + [
                ("k_range", kRange), ("k", k.map(String.init) ?? "knee"), ("groups", "\(groups)"), ("bin", "\(bin)"),
                ("solver", solver), ("max_iter", "\(maxIter)"), ("tol", "\(tol)"), ("stacked", "\(!noStack)"),
                ("component_loss", "\(!noComponentLoss)"), ("loss_iter", "\(lossIter)"), ("background", background),
                ("restarts", "\(restarts)"), ("mask_radius", "\(maskRadius)"), ("preprocess", preprocess), ("registered", registered ?? ""),
            ]
            let summary = try NMFJob.run(sources: sources, parameters: p, comm: comm, outputPath: output,
                                         pngFolder: pngDir, provenance: prov)
            printOnRoot(comm, String(format: "nmf: %d positions x %d pixels (%@ after binning) on %d ranks, %d group(s), in %.2f s",
                                     summary.positions, summary.detector.pixelCount, summary.detector.description,
                                     comm.size, groups, summary.seconds))
            printOnRoot(comm, "preprocessing   knee  region   chosen k  stability ARI  ground-truth ARI  sweep s   loss(k) / Frobenius rel. error")
            for v in summary.variants {
                let region = v.region.map { "\($0.lowerBound)-\($0.upperBound)" } ?? "-"
                let curve = zip(v.ks, zip(v.componentLoss, v.frobeniusRelativeError))
                    .map { String(format: "%d:%.4g/%.4g", $0.0, $0.1.0, $0.1.1) }.joined(separator: " ")
                func pad(_ s: String, _ width: Int) -> String { s.count >= width ? s : s + String(repeating: " ", count: width - s.count) }
                let row = pad(v.name, 16) + pad(v.knee.map(String.init) ?? "-", 6) + pad(region, 9)
                    + pad("\(v.chosenK)", 10) + pad(v.stability.map { String(format: "%.3f", $0) } ?? "-", 15)
                    + pad(v.groundTruthARI.map { String(format: "%.3f", $0) } ?? "-", 18)
                    + pad(String(format: "%.2f", v.sweepSeconds), 10) + curve
                printOnRoot(comm, row)
                if let psnr = v.versusRaw.first(where: { $0.metric == .psnr }),
                   let ssim = v.versusRaw.first(where: { $0.metric == .ssim }),
                   let mdsi = v.versusRaw.first(where: { $0.metric == .mdsi }),
                   let gmsd = v.versusRaw.first(where: { $0.metric == .gmsd }) {
                    printOnRoot(comm, String(format: "  %@: component vs raw mean, averaged: PSNR %.2f (higher better), SSIM %.3f (higher better), MDSI %.3f (lower better), GMSD %.4f (lower better)",
                                             v.name as NSString, psnr.mean, ssim.mean, mdsi.mean, gmsd.mean))
                }
            }
            printOnRoot(comm, "output: \(output)" + (pngDir.map { "; images in \($0)/" } ?? ""))
        }
    }
}
