import Foundation
import Testing
import Factorization

/// The Swift half of scripts/oracles/nmf-sklearn.sh: reads the matrix and the fit configurations the script
/// wrote, fits them with stemrun's solvers and writes the final objectives back. It runs only when the script sets
/// STEMRUN_NMF_ORACLE_DIR (the comparison with scikit-learn itself happens in the script).
@Suite("scikit-learn oracle bridge")
struct OracleBridgeTests {
    static let directory = ProcessInfo.processInfo.environment["STEMRUN_NMF_ORACLE_DIR"]

    struct Job: Codable {
        var name: String
        var loss: String
        var solver: String
        var initialization: String
        var components: Int
        var iterations: Int
    }

    struct Input: Codable {
        var rows: Int
        var columns: Int
        var matrix: String
        var jobs: [Job]
    }

    struct Output: Codable {
        var name: String
        var reconstructionError: Double
        var divergence: Double
        var iterations: Int
        var seconds: Double
    }

    @Test("Fits the oracle script's jobs", .enabled(if: directory != nil, "run by scripts/oracles/nmf-sklearn.sh"))
    func runJobs() throws {
        let dir = URL(fileURLWithPath: try #require(Self.directory))
        let input = try JSONDecoder().decode(Input.self, from: Data(contentsOf: dir.appendingPathComponent("input.json")))
        let data = try Data(contentsOf: dir.appendingPathComponent(input.matrix))
        #expect(data.count == input.rows * input.columns * 4)
        let values = data.withUnsafeBytes { raw in
            (0 ..< input.rows * input.columns).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
        }
        let block = try NMFDataBlock(values: values, rows: input.rows, columns: input.columns)
        var outputs: [Output] = []
        for job in input.jobs {
            let options = NMFOptions(components: job.components, loss: try #require(NMFLoss(rawValue: job.loss)),
                                     solver: try #require(NMFSolver(rawValue: job.solver)),
                                     initialization: job.initialization == "nndsvd" ? .nndsvd : .nndsvda,
                                     maxIterations: job.iterations, tolerance: 0)
            let start = Date()
            let fit = try NMF.fit(block, options: options)
            outputs.append(Output(name: job.name, reconstructionError: fit.quality.reconstructionError,
                                  divergence: fit.quality.divergence, iterations: fit.iterations,
                                  seconds: Date().timeIntervalSince(start)))
        }
        try JSONEncoder().encode(outputs).write(to: dir.appendingPathComponent("stemrun.json"))
    }
}
