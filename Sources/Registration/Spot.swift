/// One Bragg reflection of one pattern (methods notes, section 1, "Spot record"). Positions are sub-pixel,
/// in pixels of the working pattern, with pixel (row i, column j) covering [j, j+1) x [i, i+1) (the centre of
/// the image is (W/2, H/2), as in the authors' ImageJ macros).
public struct Spot: Sendable, Equatable {
    public var x: Float
    public var y: Float
    /// Mean of the background-subtracted, unblurred pattern in a disc of 3 px diameter around (x, y).
    public var intensity: Float
    /// Peak value minus the minimum within 40 px (direct beam) or 25 px (others), on the blurred pattern.
    public var pseudoProminence: Float

    public init(x: Float, y: Float, intensity: Float, pseudoProminence: Float) {
        self.x = x; self.y = y; self.intensity = intensity; self.pseudoProminence = pseudoProminence
    }

    /// Bytes of one row of the stored spot table: scan index (Int64), scan x and y (Int32 each), then
    /// sub-pixel x, y, intensity, pseudo-prominence, noise and threshold (Float32 each).
    public static let tableRowBytes = 8 + 2 * 4 + 6 * 4
}

/// Compression achieved by registration (methods notes, section 1, "Compression"):
/// input pattern bytes over spot-table bytes. Infinite when no spot was found (returned as `.infinity`).
public func compressionRate(patternCount: Int, bytesPerPattern: Int, spotCount: Int,
                            bytesPerSpotRow: Int = Spot.tableRowBytes) -> Double {
    let input = Double(patternCount) * Double(bytesPerPattern)
    let table = Double(spotCount) * Double(bytesPerSpotRow)
    return table > 0 ? input / table : .infinity
}
