/// Rebuilds a clean pattern from its spot list (methods notes, section 1, "Reconstruction"): optionally
/// shifts all spots so the direct beam sits exactly at the centre, scales positions to the output size, and
/// draws each spot as an anti-aliased disc whose pixel values equal its intensity (radius 4 px for the direct
/// beam and 2 px for the others, 6 / 4 in the combined mode, at a 512-px output, scaled to the output size);
/// then an optional Gaussian blur.
public enum Reconstruction {
    /// Draws `spots` (the direct beam is `spots[directBeam]` when not nil) of a `workingWidth` x
    /// `workingHeight` pattern into `output` (`size` x `size`, zeroed first). `scratch` holds `size²` values
    /// and is used only when `parameters.reconstructionBlurSigma > 0`.
    public static func render(_ spots: UnsafeBufferPointer<Spot>, directBeam: Int?, workingWidth: Int,
                              workingHeight: Int, parameters: RegistrationParameters, blur: GaussianBlur?,
                              scratch: UnsafeMutableBufferPointer<Float>,
                              into output: UnsafeMutableBufferPointer<Float>) {
        let size = parameters.reconstructionSize
        let n = size * size
        precondition(output.count >= n)
        output.baseAddress!.update(repeating: 0, count: n)
        let scale = Float(size) / Float(max(1, workingWidth))
        let radiusScale = Float(size) / 512
        var ox: Float = 0, oy: Float = 0 // offset added before scaling
        if parameters.centreOnDirectBeam, let d = directBeam, d < spots.count {
            ox = Float(workingWidth) / 2 - spots[d].x
            oy = Float(workingHeight) / 2 - spots[d].y
        }
        for (k, s) in spots.enumerated() {
            let r = (k == directBeam ? parameters.directBeamDiscRadius512 : parameters.spotDiscRadius512) * radiusScale
            DiscRenderer.draw(into: output, width: size, height: size, cx: (s.x + ox) * scale,
                              cy: (s.y + oy) * scale, radius: r, value: s.intensity)
        }
        if let blur, blur.radius > 0 {
            blur.apply(UnsafeBufferPointer(output), width: size, height: size, scratch: scratch, into: output)
        }
    }
}
