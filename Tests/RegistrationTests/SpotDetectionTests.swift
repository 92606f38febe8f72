import Foundation
import Testing
import Registration

@Suite struct SpotDetectionTests {
    /// Known Friedel lattice at random sub-pixel positions on a diffuse background, Gaussian noise of
    /// sigma 3 counts (spots 60-150 counts, about 110 of them): every spot found, positions within 0.1 px RMS.
    @Test func subPixelPositionsAtModerateNoise() throws {
        var rng = SplitMix64(seed: 7)
        var allErrors = [Double]()
        for trial in 0 ..< 3 {
            let beam = (256 + rng.uniform() - 0.5, 256 + rng.uniform() - 0.5)
            let synth = SyntheticPattern.lattice(width: 512, beam: beam, a: (23.3 + Double(trial), 4.1), b: (-6.2, 21.7),
                                                 maxOrder: 10, maxRadius: 140, rng: &rng)
            let pattern = synth.render(gaussianNoise: 3, rng: &rng)
            let registrar = try PatternRegistrar(parameters: singlePatternParameters(width: 512),
                                                 shape: .init(rows: 512, columns: 512))
            let (reg, spots, _) = registrar.register(pattern: pattern)
            let m = matchSpots(truth: synth.spots, found: spots)
            #expect(m.missed == 0, "trial \(trial): \(m.missed) of \(synth.spots.count) spots missed")
            #expect(reg.maps.spotCount == synth.spots.count, "trial \(trial): spurious spots")
            // The direct beam is the first spot.
            #expect(abs(Double(spots[0].x) - beam.0) < 0.1 && abs(Double(spots[0].y) - beam.1) < 0.1)
            allErrors += m.errors
        }
        let rms = (allErrors.map { $0 * $0 }.reduce(0, +) / Double(allErrors.count)).squareRoot()
        #expect(rms < 0.1, "RMS position error \(rms) px")
    }

    /// Spots whose maxima fall on either side of the registrar's 64-pixel candidate blocks (columns 63 / 64,
    /// 127 / 128, 191 / 192), in the first and last blocks of a row, and near the top and bottom rows: every one
    /// is found within 0.1 px, with background subtraction (the blocks flagged in the subtraction pass) and
    /// without it (flagged from the final minimum).
    @Test(arguments: [true, false])
    func spotsAtCandidateBlockEdges(background: Bool) throws {
        var rng = SplitMix64(seed: 23)
        let xs = [63.4, 64.6, 127.5, 128.5, 191.6, 192.4, 9.3, 246.7]
        var spots = [TrueSpot(x: 128.3, y: 127.6, amplitude: 400, sigma: 2)]
        for (k, x) in xs.enumerated() {
            let y = [40.5, 80.2, 170.7, 210.4][k % 4]
            spots.append(TrueSpot(x: x, y: y, amplitude: 120, sigma: 1.5))
        }
        spots.append(TrueSpot(x: 100.5, y: 9.6, amplitude: 120, sigma: 1.5))
        spots.append(TrueSpot(x: 160.2, y: 246.5, amplitude: 120, sigma: 1.5))
        let synth = SyntheticPattern(width: 256, height: 256, spots: spots)
        let pattern = synth.render(gaussianNoise: 2, rng: &rng)
        var p = singlePatternParameters(width: 256)
        p.backgroundSubtraction = background
        let registrar = try PatternRegistrar(parameters: p, shape: .init(rows: 256, columns: 256))
        let (reg, found, _) = registrar.register(pattern: pattern)
        let m = matchSpots(truth: synth.spots, found: found, tolerance: 0.1)
        #expect(m.missed == 0, "\(m.missed) of \(spots.count) spots not found within 0.1 px: \(found.map { ($0.x, $0.y) })")
        #expect(reg.maps.spotCount == spots.count, "spurious spots: \(found.map { ($0.x, $0.y) })")
    }

    /// Same with Poisson (shot) noise, at 4 counts per unit (spots of 240-600 counts over 40-160 counts).
    @Test func subPixelPositionsWithPoissonNoise() throws {
        var rng = SplitMix64(seed: 11)
        let synth = SyntheticPattern.lattice(width: 512, beam: (255.7, 256.2), a: (25.1, -3.3), b: (5.4, 22.9),
                                             maxOrder: 10, maxRadius: 140, rng: &rng)
        let pattern = synth.render(poisson: &rng, dose: 4)
        let registrar = try PatternRegistrar(parameters: singlePatternParameters(width: 512), shape: .init(rows: 512, columns: 512))
        let (_, spots, _) = registrar.register(pattern: pattern)
        let m = matchSpots(truth: synth.spots, found: spots)
        #expect(m.missed == 0)
        #expect(m.rms < 0.1, "RMS position error \(m.rms) px")
    }

    /// A 512-px lattice pattern with its direct beam (20x the strongest reflection) moved by the descan shift
    /// (3.37, -2.81) px, with Gaussian noise of 3 counts.
    static let descanShift = (3.37, -2.81)
    static func descanShiftedPattern() -> [Float] {
        var rng = SplitMix64(seed: 3)
        let synth = SyntheticPattern.lattice(width: 512, beam: (256 + descanShift.0, 256 + descanShift.1), a: (24.2, 3.9),
                                             b: (-4.4, 23.5), maxOrder: 10, maxRadius: 140, rng: &rng, beamAmplitude: 3000)
        return synth.render(gaussianNoise: 3, rng: &rng)
    }

    /// The authors' centring of one 512-px pattern, in place.
    static func centre(_ pattern: inout [Float]) -> DirectBeamCentring.Result {
        let p = RegistrationParameters(workingWidth: 512)
        return pattern.withUnsafeMutableBufferPointer { pp in
            DirectBeamCentring.centre(pp, count: 1, width: 512, height: 512, initialRadius: p.centringInitialRadius,
                                      minimumRadius: p.centringMinimumRadius, maxPasses: p.centringMaxPasses,
                                      tolerance: p.centringTolerance)
        }
    }

    /// A descan shift moves the whole pattern: the direct beam found without centring and the centring shift
    /// both recover it within 0.1 px. The direct beam is 20x the strongest reflection (real beams are brighter
    /// still): the plain intensity centroid of the paper converges by the fraction of the circle's intensity
    /// that the beam holds, so a faint beam on a bright background stops short of the tolerance.
    @Test func descanShiftRecovered() throws {
        let shift = Self.descanShift
        var pattern = Self.descanShiftedPattern()
        let registrar = try PatternRegistrar(parameters: singlePatternParameters(width: 512), shape: .init(rows: 512, columns: 512))
        let (_, spots, _) = registrar.register(pattern: pattern)
        #expect(abs(Double(spots[0].x) - 256 - shift.0) < 0.1)
        #expect(abs(Double(spots[0].y) - 256 - shift.1) < 0.1)

        let result = Self.centre(&pattern)
        #expect(abs(Double(result.shifts[0].dx) + shift.0) < 0.1, "centring dx \(result.shifts[0].dx)")
        #expect(abs(Double(result.shifts[0].dy) + shift.1) < 0.1, "centring dy \(result.shifts[0].dy)")
        #expect(result.passes <= 10)
        // After centring the direct beam sits at the centre.
        let (_, centred, _) = registrar.register(pattern: pattern)
        #expect(abs(centred[0].x - 256) < 0.1 && abs(centred[0].y - 256) < 0.1)
    }

    /// The same descan shift on dark-subtracted data: a pedestal of 25 counts taken off every pixel leaves
    /// most of the centring circle negative. Negative values weigh zero in the centroid, so the shift is still
    /// recovered within 0.1 px (weighted as they are, the pedestal's pull made the iteration run away).
    @Test func descanShiftRecoveredOnDarkSubtractedData() throws {
        var pattern = Self.descanShiftedPattern().map { $0 - 25 }
        #expect(pattern.filter { $0 < 0 }.count > pattern.count / 2)
        let result = Self.centre(&pattern)
        #expect(abs(Double(result.shifts[0].dx) + Self.descanShift.0) < 0.1, "centring dx \(result.shifts[0].dx)")
        #expect(abs(Double(result.shifts[0].dy) + Self.descanShift.1) < 0.1, "centring dy \(result.shifts[0].dy)")
    }

    /// Pure noise (Gaussian or Poisson) yields at most one spot.
    @Test(arguments: [128, 256, 512])
    func pureNoiseYieldsAtMostOneSpot(width: Int) throws {
        var rng = SplitMix64(seed: UInt64(width))
        let registrar = try PatternRegistrar(parameters: singlePatternParameters(width: width),
                                             shape: .init(rows: width, columns: width))
        for trial in 0 ..< 4 {
            let pattern: [Float] = (0 ..< width * width).map { _ in
                trial % 2 == 0 ? Float(100 + 5 * rng.gaussian()) : Float(rng.poisson(20))
            }
            let (reg, _, _) = registrar.register(pattern: pattern)
            #expect(reg.maps.spotCount <= 1, "width \(width) trial \(trial): \(reg.maps.spotCount) spots")
        }
    }

    /// The threshold is max(user, 3 grey levels, noise), and the noise is the std of the corners.
    /// The paper's noise (the standard deviation of the pixels outside the inscribed circle, the high-angle
    /// corners; `SpotMeasurement.CornerNoise`, eight lanes at a time) against the same statistic computed pixel by
    /// pixel in double precision, on widths whose corner runs end in partial vectors and on non-square patterns.
    @Test(arguments: [(64, 64), (67, 67), (128, 96), (45, 80)])
    func cornerNoiseIsTheStandardDeviationOutsideTheCircle(width: Int, height: Int) {
        var rng = SplitMix64(seed: UInt64(width * 1000 + height))
        let image = (0 ..< width * height).map { _ in Float(100 + 7 * rng.gaussian()) }
        var noise = SpotMeasurement.CornerNoise(width: width, height: height)
        image.withUnsafeBufferPointer { p in
            for y in 0 ..< height { noise.add(row: p.baseAddress! + y * width, index: y) }
        }
        let r = Double(min(width, height)) / 2
        var corner = [Double]()
        for y in 0 ..< height {
            for x in 0 ..< width {
                let dx = Double(x) + 0.5 - Double(width) / 2, dy = Double(y) + 0.5 - Double(height) / 2
                if dx * dx + dy * dy > r * r { corner.append(Double(image[y * width + x])) }
            }
        }
        let mean = corner.reduce(0, +) / Double(corner.count)
        let sd = (corner.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(corner.count - 1)).squareRoot()
        #expect(corner.count > width * height / 6)
        #expect(abs(Double(noise.mean) - mean) < 1e-5 * mean, "mean \(noise.mean) against \(mean)")
        #expect(abs(Double(noise.value) - sd) < 1e-3 * sd, "noise \(noise.value) against \(sd)")
    }

    /// The pseudo-prominence (peak value minus the minimum within the radius; `SpotMeasurement.pseudoProminence`,
    /// eight lanes at a time) equals the minimum over every pixel centre within the radius found one by one, for
    /// discs inside the pattern, cut by its edges and at its corners, with radii whose rows end in partial vectors.
    @Test func pseudoProminenceIsThePeakOverTheLowestPixelOfTheDisc() {
        var rng = SplitMix64(seed: 5)
        let w = 61, h = 47
        let image = (0 ..< w * h).map { _ in Float(50 + 10 * rng.gaussian()) }
        for (x, y, r) in [(30.2, 22.7, 25.0), (30.5, 23.5, 9.3), (2.1, 3.4, 12.0), (58.9, 45.6, 7.5), (0.5, 23.0, 40.0)]
            as [(Float, Float, Float)] {
            let found = image.withUnsafeBufferPointer {
                SpotMeasurement.pseudoProminence($0, width: w, height: h, x: x, y: y, radius: r)
            }
            let peak = image[min(Int(y), h - 1) * w + min(Int(x), w - 1)]
            var lowest = peak
            for i in 0 ..< h {
                for j in 0 ..< w {
                    let dx = Float(j) + 0.5 - x, dy = Float(i) + 0.5 - y
                    if dx * dx + dy * dy <= r * r { lowest = min(lowest, image[i * w + j]) }
                }
            }
            #expect(found == peak - lowest, "disc at (\(x), \(y)), radius \(r): \(found), one by one \(peak - lowest)")
        }
    }

    @Test func adaptiveThreshold() throws {
        var rng = SplitMix64(seed: 5)
        let synth = SyntheticPattern.lattice(width: 256, beam: (128, 128), a: (20, 0), b: (0, 20), maxOrder: 4,
                                             maxRadius: 80, rng: &rng)
        let clean = synth.render()
        var p = singlePatternParameters(width: 256)
        let registrar = try PatternRegistrar(parameters: p, shape: .init(rows: 256, columns: 256))
        let lo = clean.min()!, hi = clean.max()!
        let (r0, _, _) = registrar.register(pattern: clean)
        #expect(abs(r0.maps.threshold - 3 * (hi - lo) / 255) < 1e-3 * hi)
        let noisy = synth.render(gaussianNoise: 12, rng: &rng)
        let (r1, _, _) = registrar.register(pattern: noisy)
        #expect(abs(r1.maps.noise - 12) < 0.6, "corner noise \(r1.maps.noise)")
        #expect(r1.maps.threshold == max(r1.maps.noise, 3 * (noisy.max()! - noisy.min()!) / 255))
        p.userProminence = 1000
        let strict = try PatternRegistrar(parameters: p, shape: .init(rows: 256, columns: 256))
        let (r2, _, _) = strict.register(pattern: noisy)
        #expect(r2.maps.threshold == 1000)
        #expect(r2.maps.spotCount <= 1)
    }

    /// Spots are sorted by distance to the centre, at most `maxSpots` are kept, and intensities and
    /// pseudo-prominences are positive for real spots.
    @Test func spotRecordAndOrdering() throws {
        var rng = SplitMix64(seed: 9)
        let synth = SyntheticPattern.lattice(width: 512, beam: (256.2, 255.9), a: (21, 2), b: (-3, 22), maxOrder: 12,
                                             maxRadius: 180, rng: &rng)
        let pattern = synth.render(gaussianNoise: 2, rng: &rng)
        var p = singlePatternParameters(width: 512)
        let registrar = try PatternRegistrar(parameters: p, shape: .init(rows: 512, columns: 512))
        let (reg, spots, _) = registrar.register(pattern: pattern)
        #expect(spots.count > 100)
        let d = spots.map { (($0.x - 256) * ($0.x - 256) + ($0.y - 256) * ($0.y - 256)).squareRoot() }
        #expect(zip(d.dropFirst(), d.dropFirst(2)).allSatisfy { $0 <= $1 })
        #expect(spots.allSatisfy { $0.intensity > 0 && $0.pseudoProminence > 0 })
        // Direct beam: amplitude 400 (sigma 2) -> mean over the 3-px disc is close to the peak.
        #expect(spots[0].intensity > 300 && spots[0].intensity < 420)
        #expect(reg.maps.virtualBrightField == spots[0].intensity)
        #expect(abs(reg.maps.fullVirtualBrightField - spots.map(\.intensity).reduce(0, +)) < 1e-2)
        p.maxSpots = 20
        let capped = try PatternRegistrar(parameters: p, shape: .init(rows: 512, columns: 512))
        let (_, few, _) = capped.register(pattern: pattern)
        #expect(few.count == 20)
        // The 20 strongest include the direct beam.
        #expect(abs(few[0].x - spots[0].x) < 1e-4)
    }
}
