/// Rebuilds a clean pattern from its spot list (methods notes, section 1, "Reconstruction"): optionally
/// shifts all spots so the direct beam sits exactly at the centre, scales positions to the output size, and
/// draws each spot as an anti-aliased disc whose pixel values equal its intensity (radius 4 px for the direct
/// beam and 2 px for the others, 6 / 4 in the combined mode, at a 512-px output, scaled to the output size);
/// then an optional Gaussian blur.
public enum Reconstruction {
    /// Draws `spots` (the direct beam is `spots[directBeam]` when not nil) of a `workingWidth` x
    /// `workingHeight` pattern into `output` (`size` x `size`, zeroed first unless `zeroFirst` is false, for a
    /// caller that keeps the canvas clear itself, see `rowBands`). `blur`: the final blur of
    /// `parameters.reconstructionBlurSigma` for `size` x `size` images (nil: none).
    public static func render(_ spots: UnsafeBufferPointer<Spot>, directBeam: Int?, workingWidth: Int,
                              workingHeight: Int, parameters: RegistrationParameters, blur: GaussianBlur.RowStream?,
                              into output: UnsafeMutableBufferPointer<Float>, zeroFirst: Bool = true) {
        let size = parameters.reconstructionSize
        let n = size * size
        precondition(output.count >= n)
        if zeroFirst || blur != nil { output.baseAddress!.update(repeating: 0, count: n) }
        forEachDisc(spots, directBeam: directBeam, workingWidth: workingWidth, workingHeight: workingHeight,
                    parameters: parameters) { cx, cy, r, value in
            DiscRenderer.draw(into: output, width: size, height: size, cx: cx, cy: cy, radius: r, value: value)
        }
        blur?.apply(UnsafeBufferPointer(output), into: output)
    }

    /// The rows of the output that `render` can make non-zero, as sorted, disjoint, non-adjacent ranges
    /// (every row when the reconstruction is blurred). A writer may store these rows only (the rest is zero) and
    /// clear them afterwards, instead of clearing and storing the whole canvas.
    public static func rowBands(_ spots: UnsafeBufferPointer<Spot>, directBeam: Int?, workingWidth: Int,
                                workingHeight: Int, parameters: RegistrationParameters,
                                into bands: inout [Range<Int>]) {
        let size = parameters.reconstructionSize
        bands.removeAll(keepingCapacity: true)
        if parameters.reconstructionBlurSigma > 0 { bands.append(0 ..< size); return }
        forEachDisc(spots, directBeam: directBeam, workingWidth: workingWidth, workingHeight: workingHeight,
                    parameters: parameters) { _, cy, r, _ in
            if let rows = DiscRenderer.rows(cy: cy, radius: r, height: size) { bands.append(rows) }
        }
        guard bands.count > 1 else { return }
        bands.sort { $0.lowerBound < $1.lowerBound }
        var merged = 0
        for b in bands.dropFirst() {
            if b.lowerBound <= bands[merged].upperBound {
                bands[merged] = bands[merged].lowerBound ..< max(bands[merged].upperBound, b.upperBound)
            } else {
                merged += 1
                bands[merged] = b
            }
        }
        bands.removeLast(bands.count - merged - 1)
    }

    /// Every disc of the reconstruction: centre (output pixels), radius and value.
    @inline(__always)
    static func forEachDisc(_ spots: UnsafeBufferPointer<Spot>, directBeam: Int?, workingWidth: Int,
                            workingHeight: Int, parameters: RegistrationParameters,
                            _ body: (Float, Float, Float, Float) -> Void) {
        let size = parameters.reconstructionSize
        let scale = Float(size) / Float(max(1, workingWidth))
        let radiusScale = Float(size) / 512
        var ox: Float = 0, oy: Float = 0 // offset added before scaling
        if parameters.centreOnDirectBeam, let d = directBeam, d < spots.count {
            ox = Float(workingWidth) / 2 - spots[d].x
            oy = Float(workingHeight) / 2 - spots[d].y
        }
        for (k, s) in spots.enumerated() {
            let r = (k == directBeam ? parameters.directBeamDiscRadius512 : parameters.spotDiscRadius512) * radiusScale
            body((s.x + ox) * scale, (s.y + oy) * scale, r, s.intensity)
        }
    }
}
