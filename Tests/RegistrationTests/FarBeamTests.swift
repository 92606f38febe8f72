import Testing
import Registration

/// The centring's start for a direct beam beyond the paper's first circle (`DirectBeamCentring.farBeamShift`,
/// `RegistrationParameters.searchFarBeam`).
struct FarBeamTests {
    /// Three 128 px lattice patterns (Poisson noise) whose beam sits at `beam` plus a descan of up to 1.5 px.
    static func batch(beam: (Double, Double), brightSpot: TrueSpot? = nil) -> (pixels: [Float], beams: [(Double, Double)]) {
        var rng = SplitMix64(seed: 29)
        var pixels = [Float](), beams = [(Double, Double)]()
        for k in 0 ..< 3 {
            let b = (beam.0 + 0.73 * Double(k) + 0.21, beam.1 - 0.52 * Double(k) + 0.34)
            var synth = SyntheticPattern.lattice(width: 128, beam: b, a: (17.3, 2.1), b: (-3.0, 15.8), maxOrder: 3,
                                                 maxRadius: 45, rng: &rng)
            if let s = brightSpot { synth.spots.append(s) }
            pixels += synth.render(poisson: &rng)
            beams.append(b)
        }
        return (pixels, beams)
    }

    static func shifts(_ pixels: [Float], search: Bool, firstPass: [(x: Float, y: Float)?]? = nil) -> [(dx: Float, dy: Float)] {
        let p = RegistrationParameters(workingWidth: 128)
        return pixels.withUnsafeBufferPointer {
            DirectBeamCentring.shifts($0, count: 3, width: 128, height: 128, initialRadius: p.centringInitialRadius,
                                      minimumRadius: p.centringMinimumRadius, maxPasses: p.centringMaxPasses,
                                      tolerance: p.centringTolerance, searchFarBeam: search, firstPass: firstPass).shifts
        }
    }

    /// The first pass measured ahead (as `RegistrationPipeline.prepareBatch` does, each pattern from the centre
    /// with the first radius) gives the shifts bit for bit, a beam inside the circle or beyond it (where the
    /// far-beam start replaces it); a wrong value handed in for a pattern that starts from the centre shows.
    @Test func firstPassMeasuredAheadGivesTheSameShifts() {
        let r0 = RegistrationParameters(workingWidth: 128).centringInitialRadius
        for beam in [(64.0 - 9, 64.0 + 6), (64.0 - 40, 64.0 - 25)] {
            let (pixels, _) = Self.batch(beam: beam)
            let ahead: [(x: Float, y: Float)?] = pixels.withUnsafeBufferPointer { all in
                (0 ..< 3).map { k in
                    DirectBeamCentring.centroid(UnsafeBufferPointer(rebasing: all[k * 128 * 128 ..< (k + 1) * 128 * 128]),
                                                width: 128, height: 128, dx: 0, dy: 0, radius: r0)
                }
            }
            for search in [false, true] {
                let plain = Self.shifts(pixels, search: search), given = Self.shifts(pixels, search: search, firstPass: ahead)
                #expect(given.elementsEqual(plain) { $0.dx == $1.dx && $0.dy == $1.dy }, "beam \(beam), search \(search)")
            }
            let wrong = Self.shifts(pixels, search: false, firstPass: [ahead[1], ahead[1], ahead[1]])
            #expect(!wrong.elementsEqual(Self.shifts(pixels, search: false)) { $0.dx == $1.dx && $0.dy == $1.dy })
        }
    }

    /// The beam 47 px from the centre of a 128 px detector (the first circle has a radius of 32 px): the
    /// paper's start centres the lattice and background inside the circle; the search finds the beam, and the
    /// passes then bring it to the centre within 0.1 px.
    @Test func beamBeyondTheFirstCircleIsCentred() {
        let (pixels, beams) = Self.batch(beam: (64 - 40, 64 - 25))
        let found = Self.shifts(pixels, search: true)
        for (s, b) in zip(found, beams) {
            #expect(abs(Double(s.dx) - (64 - b.0)) < 0.1 && abs(Double(s.dy) - (64 - b.1)) < 0.1,
                    "shift (\(s.dx), \(s.dy)), expected (\(64 - b.0), \(64 - b.1))")
        }
        let paper = Self.shifts(pixels, search: false)
        let worst = zip(paper, beams).map { s, b in
            ((Double(s.dx) - (64 - b.0)) * (Double(s.dx) - (64 - b.0)) + (Double(s.dy) - (64 - b.1)) * (Double(s.dy) - (64 - b.1))).squareRoot()
        }.max()!
        #expect(worst > 5, "the paper's start ends \(worst) px from the beam")
    }

    /// The start: the block-sum centroid of the brightest 3 x 3 block window, within a block (4 px) of the beam.
    @Test func startLiesOnTheBeam() throws {
        let (pixels, beams) = Self.batch(beam: (64 + 44, 64 + 30))
        let s = try #require(pixels.withUnsafeBufferPointer {
            DirectBeamCentring.farBeamShift(UnsafeBufferPointer(rebasing: $0[0 ..< 128 * 128]), width: 128, height: 128, radius: 32)
        })
        #expect(abs(Double(s.dx) - (64 - beams[0].0)) < 4 && abs(Double(s.dy) - (64 - beams[0].1)) < 4,
                "start (\(s.dx), \(s.dy)), beam shift (\(64 - beams[0].0), \(64 - beams[0].1))")
    }

    /// A beam inside the first circle starts from the centre, as in the paper, even with a reflection beyond
    /// the circle holding more than the beam's intensity (a spot of sigma 2.5 px and 1.2 times the beam's
    /// amplitude holds 1.9 times its integral, under the factor 2): the shifts are bit for bit the paper's.
    @Test func beamInsideTheCircleStartsFromTheCentre() {
        let bright = TrueSpot(x: 64 + 50, y: 64 - 42, amplitude: 480, sigma: 2.5)
        let (pixels, beams) = Self.batch(beam: (64 - 9, 64 + 6), brightSpot: bright)
        let searched = Self.shifts(pixels, search: true), paper = Self.shifts(pixels, search: false)
        #expect(searched.elementsEqual(paper) { $0.dx == $1.dx && $0.dy == $1.dy })
        for (s, b) in zip(searched, beams) {
            #expect(abs(Double(s.dx) - (64 - b.0)) < 0.1 && abs(Double(s.dy) - (64 - b.1)) < 0.1)
        }
        let none = pixels.withUnsafeBufferPointer {
            DirectBeamCentring.farBeamShift(UnsafeBufferPointer(rebasing: $0[0 ..< 128 * 128]), width: 128, height: 128, radius: 32)
        }
        #expect(none == nil)
    }
}
