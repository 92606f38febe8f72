/// Scalar maps of one scan position (methods notes, section 1, "Maps per scan position").
public struct PatternMaps: Sendable, Equatable {
    /// Virtual bright field: intensity of the direct beam (0 when no spot).
    public var virtualBrightField: Float = 0
    /// Full virtual bright field: sum of the intensities of all spots.
    public var fullVirtualBrightField: Float = 0
    public var spotCount: Int = 0
    public var noise: Float = 0
    public var threshold: Float = 0
    /// Sum of the pseudo-prominences of all spots.
    public var pseudoProminenceSum: Float = 0
    /// Half-maximum radius of the direct beam on the blurred detection image, working px (0 when no spot):
    /// for convergent-beam data the radius of the probe's disc (`SpotMeasurement.halfMaximumRadius`). Not a
    /// map of the paper; stored as `beam_radius` in input px with the beam position.
    public var beamRadius: Float = 0

    public init() {}

    /// Names and values in the order the maps are stored.
    public static let names = ["virtual_bright_field", "full_virtual_bright_field", "spot_count", "noise",
                               "threshold", "pseudo_prominence_sum"]
    public var values: [Float] {
        [virtualBrightField, fullVirtualBrightField, Float(spotCount), noise, threshold, pseudoProminenceSum]
    }
}

/// A virtual dark-field detector: the summed intensity of the reflections whose position, relative to the
/// direct beam (px of the working pattern, +x right, +y down), lies within `radius` of (x, y).
public struct DarkFieldSelector: Sendable, Equatable, Codable {
    public var x: Float
    public var y: Float
    public var radius: Float

    public init(x: Float, y: Float, radius: Float) { self.x = x; self.y = y; self.radius = radius }

    /// The dark-field value of one pattern's spots (`spots[directBeam]` is the direct beam; without one,
    /// positions are taken relative to the pattern centre (W/2, H/2) = `(centreX, centreY)`).
    public func value(spots: UnsafeBufferPointer<Spot>, directBeam: Int?, centreX: Float, centreY: Float) -> Float {
        let ox = directBeam.map { spots[$0].x } ?? centreX, oy = directBeam.map { spots[$0].y } ?? centreY
        var sum: Float = 0
        for s in spots {
            let dx = s.x - ox - x, dy = s.y - oy - y
            if dx * dx + dy * dy <= radius * radius { sum += s.intensity }
        }
        return sum
    }
}
