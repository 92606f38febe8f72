import Crystallography

/// The pseudo-symmetry of kinematic zero-order patterns.
///
/// Friedel's law (|F(g)| = |F(−g)|) makes every kinematic pattern of a flat Ewald sphere centrosymmetric, so an
/// orientation g and its turn by 180° about the beam, g · R_z(π), give the same pattern up to the small excitation-
/// error differences of a tilted crystal. Unless the beam lies along an even-fold axis of the crystal (then the
/// turn is a true symmetry) the two are distinct orientations no kinematic template can tell apart: the [111] zone
/// of a cubic crystal, for example, looks 6-fold. Accuracy figures (tests, benchmark) therefore measure the
/// disorientation up to this turn, for stemrun and for its peers alike, and the reliability can skip the twin.
public enum FriedelPseudoSymmetry {
    /// g · R_z(π): the crystal turned by 180° about the beam.
    public static func twin(of o: Orientation) -> Orientation {
        Orientation(quaternion: o.quaternion * Quaternion(w: 0, x: 0, y: 0, z: 1))
    }

    /// Smallest symmetry-aware disorientation angle (radians) between `a` and `b` or `b`'s Friedel twin.
    public static func disorientationAngle(_ a: Orientation, _ b: Orientation, symmetry: PointGroup) -> Double {
        min(a.disorientationAngle(to: b, symmetry: symmetry), a.disorientationAngle(to: twin(of: b), symmetry: symmetry))
    }
}
