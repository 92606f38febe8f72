// Oracle helper: reads a pattern file with stemrun's readers and writes every pattern as little-endian
// float32 (scan-major), reading in three ScanPartition parts as three ranks would.
// With --write-blo FILE / --write-bmp DIR it also exports the patterns with BlockfileWriter /
// BMPSequenceWriter (8-bit, values clipped), so that rosettasciio can judge the writers.
// usage: readers-dump PATH OUT.bin [--format NAME] [--scan ROWSxCOLS] [--write-blo F] [--write-bmp DIR]
import STEMCore

#if canImport(Glibc)
import Glibc
#endif

@main
enum ReadersDump {
    static func main() {
        var args = Array(CommandLine.arguments.dropFirst())
        var format: String?
        var options = ReaderOptions()
        if let i = args.firstIndex(of: "--format") { format = args[i + 1]; args.removeSubrange(i ... i + 1) }
        if let i = args.firstIndex(of: "--scan") {
            let p = args[i + 1].split(separator: "x").compactMap { Int($0) }
            options.scan = ScanGrid(rows: p[0], columns: p[1])
            args.removeSubrange(i ... i + 1)
        }
        var writeBlo: String?, writeBMP: String?
        if let i = args.firstIndex(of: "--write-blo") { writeBlo = args[i + 1]; args.removeSubrange(i ... i + 1) }
        if let i = args.firstIndex(of: "--write-bmp") { writeBMP = args[i + 1]; args.removeSubrange(i ... i + 1) }
        do {
            let source = try openPatternSource(path: args[0], format: format, options: options)
            let partition = ScanPartition(total: source.scan.count, parts: 3)
            let out = try OutputFile(path: args[1], truncate: true)
            var offset = 0
            let blo = try writeBlo.map { try BlockfileWriter(path: $0, scan: source.scan, patternSize: source.detector.rows) }
            let bmp = try writeBMP.map { try BMPSequenceWriter(folder: $0, scan: source.scan, detector: source.detector, bitDepth: 8) }
            for part in 0 ..< 3 {
                let block = try source.readBlock(partition.range(of: part))
                try blo?.write(block)
                try bmp?.write(block)
                try block.pixels.withUnsafeBytes { try out.write(at: offset, bytes: $0) }
                offset += block.pixels.count * 4
            }
            print("format=\(source.formatName) scan=\(source.scan.rows)x\(source.scan.columns) detector=\(source.detector.rows)x\(source.detector.columns) type=\(source.elementType.rawValue)")
        } catch {
            print("error: \(error)")
            exit(1)
        }
    }
}
