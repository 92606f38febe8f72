/// A checksum of the pattern values a job read, independent of how the scan was split across ranks:
/// each pattern's 64-bit hash is mixed with its scan index, and the mixes are added with wrap-around
/// (addition commutes, so any partition and any reduction order give the same total).
public enum PatternChecksum {
    /// Hash of one pattern's Float bit patterns: four independent multiply-xor lanes over 64-bit words
    /// (fast enough not to slow a read), folded at the end.
    public static func hash(_ values: UnsafeBufferPointer<Float>) -> UInt64 {
        let m: UInt64 = 0x9E37_79B9_7F4A_7C15
        var h0: UInt64 = 0x243F_6A88_85A3_08D3, h1: UInt64 = 0x1319_8A2E_0370_7344
        var h2: UInt64 = 0xA409_3822_299F_31D0, h3: UInt64 = 0x082E_FA98_EC4E_6C89
        let raw = UnsafeRawBufferPointer(values)
        let words = raw.count / 8
        let w = raw.baseAddress!.assumingMemoryBound(to: UInt64.self)
        var i = 0
        while i + 4 <= words {
            h0 = (h0 ^ w[i]) &* m; h1 = (h1 ^ w[i + 1]) &* m
            h2 = (h2 ^ w[i + 2]) &* m; h3 = (h3 ^ w[i + 3]) &* m
            i += 4
        }
        while i < words { h0 = (h0 ^ w[i]) &* m; i += 1 }
        if raw.count % 8 != 0 { h1 = (h1 ^ UInt64(values[values.count - 1].bitPattern)) &* m }
        var h = h0 ^ (h1 &<< 1) ^ (h2 &<< 2) ^ (h3 &<< 3) ^ UInt64(values.count)
        h ^= h >> 33; h = h &* 0xFF51_AFD7_ED55_8CCD; h ^= h >> 33
        return h
    }

    /// The contribution of the pattern at `scanIndex` to the total.
    public static func contribution(hash: UInt64, scanIndex: Int) -> UInt64 {
        var z = hash ^ (UInt64(scanIndex) &* 0xBF58_476D_1CE4_E5B9)
        z = (z ^ (z >> 31)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 29)
    }
}
