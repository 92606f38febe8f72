import Foundation

/// Maps reciprocal-space detector coordinates (Å⁻¹) to pixels: (x, y) = centre + D (g / Δ), where Δ is the
/// reciprocal pixel size and D stretches by (1 + ellipticity) along the direction at `ellipseAngle` (radians from
/// +x), modelling the elliptical distortion of projector lenses. x indexes detector columns, y rows.
public struct DetectorCalibration: Sendable, Hashable {
    /// Å⁻¹ per pixel.
    public var reciprocalPixelSize: Double
    /// Pixel coordinates of g = 0 (column, row); pixel centres are at integer coordinates.
    public var centreX: Double, centreY: Double
    public var ellipticity: Double
    public var ellipseAngle: Double

    public init(reciprocalPixelSize: Double, centreX: Double, centreY: Double, ellipticity: Double = 0, ellipseAngle: Double = 0) {
        self.reciprocalPixelSize = reciprocalPixelSize
        self.centreX = centreX; self.centreY = centreY
        self.ellipticity = ellipticity; self.ellipseAngle = ellipseAngle
    }

    /// Offset in pixels from the centre of a reciprocal vector (gx, gy).
    @inlinable public func pixelOffset(gx: Double, gy: Double) -> (dx: Double, dy: Double) {
        let u = gx / reciprocalPixelSize, v = gy / reciprocalPixelSize
        if ellipticity == 0 { return (u, v) }
        let c = cos(ellipseAngle), s = sin(ellipseAngle)
        let along = u * c + v * s
        let extra = ellipticity * along
        return (u + extra * c, v + extra * s)
    }

    /// Pixel position (column, row) of (gx, gy).
    @inlinable public func pixel(gx: Double, gy: Double) -> (x: Double, y: Double) {
        let o = pixelOffset(gx: gx, gy: gy)
        return (centreX + o.dx, centreY + o.dy)
    }

    /// Inverse of `pixel`: the reciprocal vector (Å⁻¹) at pixel (x, y).
    public func reciprocal(x: Double, y: Double) -> (gx: Double, gy: Double) {
        var u = x - centreX, v = y - centreY
        if ellipticity != 0 {
            let c = cos(ellipseAngle), s = sin(ellipseAngle)
            let along = u * c + v * s
            let shrink = along * (1 / (1 + ellipticity) - 1)
            u += shrink * c; v += shrink * s
        }
        return (u * reciprocalPixelSize, v * reciprocalPixelSize)
    }
}
