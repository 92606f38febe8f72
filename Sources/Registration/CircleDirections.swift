import Foundation

/// Unit vector `k` of `count` spaced evenly around the circle from +x, `(cos a, sin a)` at `a = 2 pi k / count`:
/// the sampling directions of the beam flank's circles (`BeamFlank.directions`) and of the disc rims
/// (`DiscEdge.withDirections`).
@inline(__always)
func circleDirection(_ k: Int, of count: Int) -> SIMD2<Float> {
    let a = 2 * Float.pi * Float(k) / Float(count)
    return SIMD2(cos(a), sin(a))
}
