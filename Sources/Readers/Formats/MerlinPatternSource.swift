import STEMCore

/// Quantum Detectors Merlin `.mib` files: a stack of frames, each an ASCII header (`MQ1,...`) followed by
/// the pixel data, processed (big-endian `U08`/`U16`/`U32`/`U64`) or raw (`R64`, bit-packed by counter depth,
/// single or quad chips). The scan shape comes from the options, else from the `.hdr` file beside the `.mib`,
/// else one row of all frames. Frames are flipped vertically like rosettasciio does (see `ReaderOptions`).
public final class MerlinPatternSource: PatternSource {
    public let formatName = "mib"
    public let path: String
    public let scan: ScanGrid
    public let detector: DetectorShape
    public let elementType: ElementType
    public let metadata: [(String, String)]
    public let header: MerlinHeader
    /// Frames in the file (at least `scan.count`).
    public let frameCount: Int
    let file: PositionalFile
    let flip: Bool
    let scratchPool = ScratchPool()

    public static let format = PatternFormat(
        name: "mib", summary: "Quantum Detectors Merlin .mib (+ .hdr)",
        detect: { p in !p.isDirectory && (p.headStarts(with: Array("MQ1,".utf8)) || (p.pathExtension == "hdr" && p.headStarts(with: Array("HDR".utf8)))) },
        open: { try MerlinPatternSource(path: $0, options: $1) })

    public init(path givenPath: String, options: ReaderOptions = ReaderOptions()) throws {
        var path = givenPath
        if givenPath.lowercased().hasSuffix(".hdr") { path = String(givenPath.dropLast(4)) + ".mib" }
        let file = try PositionalFile(path: path)
        let header = try MerlinHeader.parse(try file.prefix(MerlinHeader.maximumHeaderBytes), path: path)
        let frameBytes = header.headerBytes + header.dataBytes
        let frames = file.length / frameBytes
        guard frames > 0 else {
            throw STEMError.truncated(path: path, offset: 0, needed: frameBytes, available: file.length)
        }
        var acquisition: MerlinAcquisitionHeader?
        let hdrPath = String(path.dropLast(path.lowercased().hasSuffix(".mib") ? 4 : 0)) + ".hdr"
        if let hdr = try? PositionalFile(path: hdrPath), hdr.length < 1 << 20 {
            acquisition = MerlinAcquisitionHeader.parse(String(decoding: try hdr.bytes(at: 0, count: hdr.length), as: UTF8.self))
        }
        self.path = path
        self.file = file
        self.header = header
        self.frameCount = frames
        self.detector = header.detector
        self.elementType = header.elementType
        self.flip = options.merlinFlipRows
        self.scan = try resolveScan(path: path, frames: frames, fromFile: acquisition?.scan, options: options)
        var meta: [(String, String)] = [
            ("pixel depth", header.pixelDepth), ("chips", "\(header.chipCount)"),
            ("layout", "\(header.layout.columns)x\(header.layout.rows)"),
            ("header bytes", "\(header.headerBytes)"), ("frames in file", "\(frames)"),
        ]
        if let d = header.counterDepth { meta.append(("counter depth", "\(d)")) }
        if let t = header.timestamp { meta.append(("timestamp", t)) }
        if let e = header.exposureNanoseconds { meta.append(("exposure (ns)", "\(e)")) }
        if acquisition != nil { meta.append(("hdr file", hdrPath)) }
        self.metadata = meta
    }

    public func read(positions: Range<Int>, into destination: UnsafeMutableBufferPointer<Float>) throws {
        let P = detector.pixelCount
        guard positions.lowerBound >= 0, positions.upperBound <= scan.count, destination.count >= positions.count * P else {
            throw STEMError.invalidParameter(name: "scan positions", value: "\(positions) into \(destination.count) values",
                                             expected: "a range inside 0..<\(scan.count) and \(positions.count * P) values (\(path))")
        }
        if positions.isEmpty { return }
        let frameBytes = header.headerBytes + header.dataBytes
        let perChunk = max(1, min(positions.count, (8 << 20) / frameBytes))
        try scratchPool.with(bytes: perChunk * frameBytes) { scratch in
        let row = UnsafeMutablePointer<Float>.allocate(capacity: header.headerWidth)
        defer { row.deallocate() }
        var done = 0
        while done < positions.count {
            let n = min(perChunk, positions.count - done)
            let first = positions.lowerBound + done
            try file.read(at: first * frameBytes, count: n * frameBytes, into: scratch)
            for k in 0 ..< n {
                let frame = scratch + k * frameBytes
                let m = frame.assumingMemoryBound(to: UInt8.self)
                guard m[0] == 0x4D, m[1] == 0x51, m[2] == 0x31 else {
                    throw STEMError.badFormat(path: path, location: "frame \(first + k) header at byte \((first + k) * frameBytes)",
                                              expected: "'MQ1' (every frame \(frameBytes) bytes, as the first header says)",
                                              found: printable(UnsafeBufferPointer(start: m, count: 4)))
                }
                let out = destination.baseAddress! + (done + k) * P
                switch header.encoding {
                case .processed(let t):
                    // Row r of the pattern is row (rows - 1 - r) of the frame when flipping: no extra pass.
                    let w = detector.columns, h = detector.rows, rowBytes = w * t.byteSize
                    for r in 0 ..< h {
                        convertToFloat(frame + header.headerBytes + (flip ? h - 1 - r : r) * rowBytes, type: t, order: .big,
                                       count: w, into: out + r * w)
                    }
                case .raw:
                    MerlinRawDecoding.decodeFrame(UnsafePointer(m + header.headerBytes), header: header, into: out, row: row)
                    if flip { flipRows(out, patterns: 1, detector: detector) }
                }
            }
            done += n
        }
        }
    }
}
