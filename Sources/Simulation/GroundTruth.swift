import Crystallography
import STEMCore

/// One simulated grain.
public struct SimulatedGrain: Sendable {
    public let id: Int
    /// Index into `SimulationParameters.phases`.
    public let phaseIndex: Int
    public let phaseName: String
    /// Sample → crystal orientation (orix / MTEX convention, see `Orientation`).
    public let orientation: Orientation
    /// Bunge Euler angles of `orientation` (radians).
    public var euler: EulerAngles { orientation.euler }
    public var quaternion: Quaternion { orientation.quaternion }
    /// Voronoi seed in scan coordinates.
    public let seedRow: Double, seedColumn: Double
}

/// What the simulator put into the data, per scan position (index = row * columns + column).
public struct GroundTruth: Sendable {
    public let scan: ScanGrid
    public let detector: DetectorShape
    public let grains: [SimulatedGrain]
    /// The dominant grain at each position.
    public let grainID: [Int32]
    /// The neighbouring grain mixed in near a boundary, or -1 where the pattern is pure.
    public let secondaryGrainID: [Int32]
    /// Weight of the dominant grain (0.5 on a boundary ... 1 inside a grain); the secondary grain has 1 − weight.
    public let dominantWeight: [Float]
    /// Pattern centre (direct-beam position) in detector pixels: x = column, y = row coordinate.
    public let beamCentreX: [Double]
    public let beamCentreY: [Double]
    /// The calibration that placed the spots: reciprocal pixel size and elliptical distortion; its centre is the
    /// undisturbed detector centre (the per-position pattern centre, with descan, is `beamCentreX/Y`).
    public let calibration: DetectorCalibration

    /// Phase index of the dominant grain at scan position `index`.
    public func phaseIndex(at index: Int) -> Int { grains[Int(grainID[index])].phaseIndex }

    /// Orientation of the dominant grain at scan position `index`.
    public func orientation(at index: Int) -> Orientation { grains[Int(grainID[index])].orientation }
}

/// One Bragg spot as drawn by the simulator (see `PolycrystalSimulator.trueSpots(at:)`).
public struct TrueSpot: Hashable, Sendable {
    /// Sub-pixel centre: x = column, y = row coordinate (pixel centres at integers).
    public var x: Double, y: Double
    /// Peak expected counts of the Gaussian spot (before noise).
    public var peak: Double
    public var hkl: SIMD3<Int32>
    /// The grain it belongs to.
    public var grain: Int
}
