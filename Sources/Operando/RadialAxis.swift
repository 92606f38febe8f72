/// The radial bins of integrated profiles: `count` bins of equal width in `unit`, bin `b` covering
/// [lower + b·width, lower + (b+1)·width) with centre lower + (b + ½)·width (pyFAI's bin centres).
public struct RadialAxis: Hashable, Sendable, Codable {
    public var unit: RadialUnit
    public var lower: Double
    public var width: Double
    public var count: Int

    public init(unit: RadialUnit, lower: Double, width: Double, count: Int) {
        self.unit = unit
        self.lower = lower
        self.width = width
        self.count = count
    }

    /// `count` bins between `lower` and `upper`.
    public init(unit: RadialUnit, lower: Double, upper: Double, count: Int) {
        self.init(unit: unit, lower: lower, width: (upper - lower) / Double(max(count, 1)), count: count)
    }

    public var upper: Double { lower + width * Double(count) }

    /// Bin centres.
    public var centres: [Double] { (0 ..< count).map { lower + (Double($0) + 0.5) * width } }

    /// d-spacing (Å) at each bin centre.
    public func dSpacings(wavelength: Double) -> [Double] {
        centres.map { unit.dSpacing(of: $0, wavelength: wavelength) }
    }
}

/// Integrated 1D profiles of a contiguous run of scan positions, profile-major: profile `p` occupies
/// `values[p * axis.count ..< (p + 1) * axis.count]` (the 1D analogue of `PatternBlock`).
public struct ProfileBlock: Sendable {
    public var firstIndex: Int
    public var count: Int
    public var axis: RadialAxis
    public var values: [Float]

    public init(firstIndex: Int, count: Int, axis: RadialAxis, values: [Float]) {
        precondition(values.count == count * axis.count, "ProfileBlock: buffer size mismatch")
        self.firstIndex = firstIndex
        self.count = count
        self.axis = axis
        self.values = values
    }

    public var indices: Range<Int> { firstIndex ..< firstIndex + count }

    /// A copy of profile `p` (0-based inside the block).
    public func profile(_ p: Int) -> [Float] {
        Array(values[p * axis.count ..< (p + 1) * axis.count])
    }
}
