import Foundation

/// The centre of a diffraction disc from its rim (not a step of the paper).
///
/// The paper's centroid measures where a spot's intensity is. Inside the discs of a thick crystal (dynamical
/// diffraction, convergent beam) the intensity is far from uniform: in abTEM's multislice of gold [001], 12 nm
/// thick at 2 mrad (discs of radius 6.5 px at 256 px), each {200} disc rises from 1 to 57 counts across its
/// diameter, and the refined centroids lie 3.5 px RMS outside the centres. Every disc of a pattern images the
/// same probe aperture, so all have the radius of the direct beam's disc (`radius`: the circle of greatest rim
/// contrast about the beam's centroid) and a sharp rim. A disc's centre is where a circle of that radius sits
/// on its rim, the maximum of the rim contrast `C(c) = mean_u [I(c + (R - d) u) - I(c + (R + d) u)]` over
/// directions u (depth d = 0.75 px, bilinear samples): a bright side sets the contrast on its half of the rim,
/// and it peaks where that half meets the edge, whatever the intensity inside. On the gold discs the centres
/// came to 0.29 px RMS from the lattice ({200}), 0.04-0.09 px ({220}, {400}, {420}).
public enum DiscEdge {
    /// Smallest direct-beam radius (px) for which the spots are treated as discs: below it a spot has no rim
    /// to sit a circle on (the paper's regime, spots of a few pixels; a Gaussian spot of sigma 2 px has a
    /// half-maximum radius of 3.3 px under the localisation blur).
    public static let minimumRadius: Float = 4
    /// Depth d of the rim contrast, px. A gradient inside the disc pulls the maximum of the contrast towards
    /// the bright side by an amount that grows with d, noise grows as d shrinks: on the gold discs d = 0.5,
    /// 0.75 and 1 px gave {220} centres 0.053, 0.039 and 0.080 px RMS from the lattice.
    static let rimDepth: Float = 0.75

    /// Rim contrast of a circle of radius `radius` about `(cx, cy)` (pixel centres at j + 0.5), over the unit
    /// vectors `directions`.
    @inline(__always)
    static func contrast(_ image: UnsafeBufferPointer<Float>, width w: Int, height h: Int, cx: Float, cy: Float,
                         radius r: Float, depth d: Float, directions: UnsafeBufferPointer<SIMD2<Float>>) -> Float {
        var s: Float = 0
        for u in directions {
            s += sample(image, w, h, cx + (r - d) * u.x, cy + (r - d) * u.y) - sample(image, w, h, cx + (r + d) * u.x, cy + (r + d) * u.y)
        }
        return s / Float(directions.count)
    }

    /// Bilinear sample at `(x, y)` (pixel centres at j + 0.5), clamped to the image.
    @inline(__always)
    static func sample(_ image: UnsafeBufferPointer<Float>, _ w: Int, _ h: Int, _ x: Float, _ y: Float) -> Float {
        let fx = min(max(x - 0.5, 0), Float(w - 1)), fy = min(max(y - 0.5, 0), Float(h - 1))
        let x0 = min(Int(fx), w - 2 < 0 ? 0 : w - 2), y0 = min(Int(fy), h - 2 < 0 ? 0 : h - 2)
        let tx = fx - Float(x0), ty = fy - Float(y0)
        let i = y0 * w + x0
        let x1 = w > 1 ? 1 : 0, y1 = h > 1 ? w : 0
        let top = image[i] + tx * (image[i + x1] - image[i])
        let bottom = image[i + y1] + tx * (image[i + y1 + x1] - image[i + y1])
        return top + ty * (bottom - top)
    }

    /// Calls `body` with `count` unit vectors evenly around the circle (from +x), and, with `coarse`, one of
    /// every two of them.
    static func withDirections<R>(_ count: Int, coarse: Bool = false,
                                  _ body: (UnsafeBufferPointer<SIMD2<Float>>, UnsafeBufferPointer<SIMD2<Float>>) -> R) -> R {
        let half = coarse ? count / 2 : 0
        return withUnsafeTemporaryAllocation(of: SIMD2<Float>.self, capacity: count + half) { dirs in
            for k in 0 ..< count { dirs[k] = circleDirection(k, of: count) }
            for k in 0 ..< half { dirs[count + k] = dirs[2 * k] }
            let all = UnsafeBufferPointer(dirs)
            return body(UnsafeBufferPointer(rebasing: all[0 ..< count]), UnsafeBufferPointer(rebasing: all[count ..< count + half]))
        }
    }

    /// The radius of the disc centred at `(x, y)`: the circle of greatest rim contrast between 0.6 and 1.5
    /// times `start` (the half-maximum radius of the direct beam, which the blur and the disc's curvature put a
    /// few tenths of a pixel inside the rim), in steps of 1/20 px, refined by the parabola through the best
    /// three.
    public static func radius(_ image: UnsafeBufferPointer<Float>, width w: Int, height h: Int, x: Float, y: Float,
                              start: Float) -> Float {
        withDirections(max(32, Int((4 * Float.pi * 1.5 * start).rounded(.up)))) { d, _ in
            let step: Float = 0.05
            let lo = 0.6 * start, n = Int((0.9 * start / step).rounded(.up))
            var values = [Float](repeating: 0, count: n + 1)
            for i in 0 ... n {
                values[i] = contrast(image, width: w, height: h, cx: x, cy: y, radius: lo + Float(i) * step, depth: rimDepth, directions: d)
            }
            let b = values.indices.max { values[$0] < values[$1] }!
            var r = lo + Float(b) * step
            if b > 0 && b < n {
                let c0 = values[b - 1], c1 = values[b], c2 = values[b + 1], den = c0 - 2 * c1 + c2
                if den < 0 { r += step * 0.5 * (c0 - c2) / den }
            }
            return r
        }
    }

    /// The centre of the disc of radius `radius` whose rim lies nearest `(x, y)`: the greatest rim contrast
    /// on a 1-px grid within `reach` px of the start (the centroid, which a disc's inside pulls by up to most
    /// of its radius), then a climb over the 8 neighbours of the current point on grids of 1/2 ... 1/16 px.
    /// Returns the start when no point has a positive contrast (no rim there).
    public static func centre(_ image: UnsafeBufferPointer<Float>, width w: Int, height h: Int, x: Float, y: Float,
                              radius: Float, reach: Float) -> (x: Float, y: Float) {
        let count = max(32, Int((2 * Float.pi * radius).rounded(.up)))
        return withDirections(count, coarse: true) { d, coarse in
            func value(_ cx: Float, _ cy: Float) -> Float {
                contrast(image, width: w, height: h, cx: cx, cy: cy, radius: radius, depth: rimDepth, directions: d)
            }
            // Every point of a 1-px grid within the reach (the inside of a disc can hold dark lines, whose
            // edges a climb from the centroid would take for the rim), on one direction in two (one per 2 px of
            // the rim), then a climb on the finer grids with all of them.
            var best = (x: x, y: y), bestCoarse = -Float.infinity
            let n = Int(reach.rounded(.down))
            for i in -n ... n {
                for j in -n ... n where Float(i * i + j * j) <= reach * reach {
                    let c = contrast(image, width: w, height: h, cx: x + Float(j), cy: y + Float(i), radius: radius,
                                     depth: rimDepth, directions: coarse)
                    if c > bestCoarse { bestCoarse = c; best = (x + Float(j), y + Float(i)) }
                }
            }
            var bestC = value(best.x, best.y)
            var step: Float = 0.5
            while step >= 1.0 / 16 {
                var moved = true, moves = 0
                while moved && moves < 64 {
                    moved = false
                    let here = best
                    for (i, j) in [(-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1)] {
                        let cx = here.x + Float(j) * step, cy = here.y + Float(i) * step
                        if (cx - x) * (cx - x) + (cy - y) * (cy - y) > reach * reach { continue }
                        let c = value(cx, cy)
                        if c > bestC { bestC = c; best = (cx, cy); moved = true }
                    }
                    moves += 1
                }
                step /= 2
            }
            return bestC > 0 ? best : (x, y)
        }
    }
}
