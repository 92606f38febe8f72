/// Where the direct beam fell on the detector at each scan position: the descan shift map that users check
/// before trusting a registration and that differential phase contrast reads (py4DSTEM's origin `qx0, qy0`,
/// pyxem's `get_direct_beam_position`).
///
/// The centring moved the pattern's content by (dx, dy) working pixels (`DirectBeamCentring`), and the
/// refinement put the direct beam at (x_b, y_b) in the centred pattern; in the input pattern it was at
/// `b (x_b - dx, b (y_b - dy))`, b the binning factor: working pixel j covers input pixels [b j, b (j + 1)),
/// so with pixel j spanning [j, j + 1) (the spot table's convention) a position scales by b exactly.
public enum DirectBeamPosition {
    /// The direct beam's position in input-detector pixels (pixel j spans [j, j + 1)), or NaN for both when
    /// no spot was found. `shift` is the centring shift of the pattern ((0, 0) without centring).
    @inlinable
    public static func inInput(directBeam: Spot?, shift: (dx: Float, dy: Float), binningFactor b: Int) -> (x: Float, y: Float) {
        guard let s = directBeam else { return (.nan, .nan) }
        return (Float(b) * (s.x - shift.dx), Float(b) * (s.y - shift.dy))
    }
}
