import STEMCore

/// Decoding of Merlin raw-mode (`R64`) frames into the assembled image, following the readout order
/// documented by LiberTEM's MIB reader: the chip sends 64-bit words most significant byte first, so
/// - 1-bit counters: pixel `j` of each 64-pixel group is bit `j` of the big-endian 64-bit word;
/// - 6-bit counters: one byte per pixel, the 8 bytes of each word in reverse order;
/// - 12-bit counters: one big-endian 16-bit value per pixel, the 4 values of each word in reverse order;
/// - 24-bit counters: two 12-bit readouts one after the other, the first holding the upper 12 bits.
/// A quad (2 x 2) readout row holds one row of each chip as [4 | 3 | 2 | 1]: chips 1 and 2 form the top
/// half as read, chips 3 and 4 the bottom half rotated by 180 degrees.
enum MerlinRawDecoding {
    /// Decodes one readout row of `count` pixels at `source` (12-bit and 1/6-bit rules above).
    @inline(__always)
    static func decodeRow(_ source: UnsafePointer<UInt8>, count: Int, depth: Int, into out: UnsafeMutablePointer<Float>) {
        switch depth {
        case 1:
            for word in 0 ..< count / 64 {
                let w = source + 8 * word
                let o = out + 64 * word
                for byte in 0 ..< 8 {
                    let b = w[7 - byte]
                    for bit in 0 ..< 8 { o[8 * byte + bit] = Float((b >> UInt8(bit)) & 1) }
                }
            }
        case 6:
            for i in 0 ..< count { out[i] = Float(source[(i & ~7) + 7 - (i & 7)]) }
        default:  // 12
            for i in 0 ..< count {
                let j = (i & ~3) + 3 - (i & 3)
                out[i] = Float(UInt16(source[2 * j]) << 8 | UInt16(source[2 * j + 1]))
            }
        }
    }

    /// Bytes of one readout row of `count` pixels.
    static func rowBytes(count: Int, depth: Int) -> Int {
        depth == 1 ? count / 8 : depth == 6 ? count : 2 * count
    }

    /// Decodes one frame's data (`header.dataBytes` bytes at `source`) into `header.detector.pixelCount` floats.
    /// `row` is scratch of at least `header.headerWidth` floats.
    static func decodeFrame(_ source: UnsafePointer<UInt8>, header: MerlinHeader, into out: UnsafeMutablePointer<Float>,
                            row: UnsafeMutablePointer<Float>) {
        guard case .raw(let depth) = header.encoding else { return }
        let W = header.headerWidth, H = header.headerHeight
        if depth == 24 {
            // Two 12-bit readouts of (H, W/2) pixels: upper bits first.
            let w = W / 2, n = w * H, half = rowBytes(count: n, depth: 12)
            decodeRow(source, count: n, depth: 12, into: out)
            for r in 0 ..< H {
                decodeRow(source + half + r * rowBytes(count: w, depth: 12), count: w, depth: 12, into: row)
                let o = out + r * w
                for c in 0 ..< w { o[c] = o[c] * 4096 + row[c] }
            }
            return
        }
        let stride = rowBytes(count: W, depth: depth)
        if !header.isRawQuad {
            for r in 0 ..< H { decodeRow(source + r * stride, count: W, depth: depth, into: out + r * W) }
            return
        }
        let q = W / 4, outW = 2 * q, outH = 2 * H
        for r in 0 ..< H {
            decodeRow(source + r * stride, count: W, depth: depth, into: row)
            let top = out + r * outW
            let bottom = out + (outH - 1 - r) * outW
            for c in 0 ..< q {
                top[c] = row[3 * q + c]                // chip 1, top left
                top[q + c] = row[2 * q + c]            // chip 2, top right
                bottom[c] = row[2 * q - 1 - c]         // chip 3, bottom left, rotated
                bottom[q + c] = row[q - 1 - c]         // chip 4, bottom right, rotated
            }
        }
    }
}
