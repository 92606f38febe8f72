import Foundation
import Readers
import STEMCore

/// 128-bit FNV-1a (two 64-bit lanes with different offsets) of a canonical text: a change detector for
/// checkpoints, not a cryptographic hash.
public enum StableHash {
    public static func hex(_ text: String) -> String {
        var a: UInt64 = 0xcbf2_9ce4_8422_2325, b: UInt64 = 0x8422_2325_cbf2_9ce4
        for byte in text.utf8 {
            a = (a ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
            b = (b ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
            b = (b << 7) | (b >> 57)
        }
        return String(format: "%016llx%016llx", a, b)
    }
}

/// A stage's checkpoint identity: the hash of its kind and version, its resolved parameters, and its inputs
/// (the input fingerprint for the first stages, the keys of the stages it reads for the others — a change
/// anywhere upstream changes every key downstream).
public struct StageKey: Equatable, Sendable {
    public let parameterHash: String
    public let inputHash: String
    public var value: String { StableHash.hex(parameterHash + "/" + inputHash) }

    public init(stage: PipelineStage, version: Int, inputFingerprint: String, upstreamKeys: [String]) {
        parameterHash = StableHash.hex("\(stage.name)@\(version) \(stage.parameterText)")
        inputHash = StableHash.hex(([inputFingerprint] + upstreamKeys).joined(separator: "|"))
    }
}

extension InputSpec {
    /// What identifies the input without reading it: how it is read (format, dataset, shapes, type,
    /// layout) and the file's absolute path, size and modification time (nanoseconds).
    public func fingerprint() throws -> String {
        let url = URL(fileURLWithPath: path).standardizedFileURL
        var st = stat()
        guard stat(url.path, &st) == 0 else { throw STEMError.fileNotFound(path: path) }
        let mtime = Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec)
        let layout = [format, datasetPath ?? "-", scanShape.map { "\($0.rows)x\($0.columns)" } ?? "-",
                      detectorShape.map { "\($0.rows)x\($0.columns)" } ?? "-", elementType?.rawValue ?? "-",
                      byteOrder.rawValue, "\(headerBytes)", "\(frameHeaderBytes)", "\(frameFooterBytes)"]
        return StableHash.hex(([url.path, "\(st.st_size)", "\(mtime)"] + layout).joined(separator: "|"))
    }
}

