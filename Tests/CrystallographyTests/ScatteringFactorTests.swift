import Foundation
import Testing
import Crystallography

@Test func hydrogenMatchesTheExactMottBetheAmplitude() throws {
    // Hydrogen 1s: f_x(q) = 16/(4 + q²a0²)², and Mott–Bethe f_e = 2(Z − f_x)/(a0 q²) = 2a0 (8 + x)/(4 + x)²,
    // x = (q a0)², q = 4π s. In particular f_e(0) = a0 = 0.529177 Å.
    let f = try ElectronScatteringFactor.forElement("H")
    let a0 = 0.529177
    for s in [0.0, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5] {
        let x = pow(4 * Double.pi * s * a0, 2)
        let exact = 2 * a0 * (8 + x) / ((4 + x) * (4 + x))
        #expect(abs(f(s) - exact) < 0.002 * a0 + 0.01 * exact, "H f(\(s)) = \(f(s)), exact \(exact)")
    }
}

/// Two independent fits of the same Hartree–Fock data (the library's 0–2 Å⁻¹ table and the 0–6 Å⁻¹ table in
/// `WideRangeScatteringFit.swift`) agree within about 5 % up to s = 1 Å⁻¹ for every element, and within 2.5 % for the
/// elements of the built-in phases and the common heavy elements; a mistyped coefficient shows up as a larger
/// difference.
@Test func coefficientsAgreeWithTheWideRangeFit() throws {
    #expect(wideRangeFit.count == 98)
    let common: Set<String> = ["H", "Li", "C", "O", "Al", "Si", "P", "Fe", "Cu", "Ag", "Sn", "Pt", "Au", "Pb"]
    for (z, entry) in wideRangeFit.enumerated() {
        let (symbol, c) = entry
        let f = try ElectronScatteringFactor.forElement(symbol)
        #expect(f.atomicNumber == z + 1)
        let tolerance = common.contains(symbol) ? 0.025 : 0.06
        for s in [0.0, 0.1, 0.25, 0.5, 0.75, 1.0] {
            var reference = 0.0
            for i in 0 ..< 5 { reference += c[2 * i] * exp(-c[2 * i + 1] * s * s) }
            let rel = abs(f(s) / reference - 1)
            #expect(rel < tolerance, "\(symbol) f(\(s)) = \(f(s)) vs \(reference) (relative difference \(rel))")
        }
    }
}

@Test func elementTableCoversHydrogenToCalifornium() throws {
    for z in 1 ... 98 {
        let f = try #require(ElectronScatteringFactor.forAtomicNumber(z))
        #expect(f.atomicNumber == z)
        // f(0) is positive and of order Z^(1/3) Å (0.53 Å for H, about 20 Å for the heaviest); f decreases with s.
        #expect(f(0) > 0.4 && f(0) < 25, "Z=\(z) f(0)=\(f(0))")
        #expect(f(0.5) < f(0) && f(1.0) < f(0.5) && f(1.0) > 0)
    }
    #expect(try ElectronScatteringFactor.forElement("FE2+").symbol == "Fe")
    #expect(try ElectronScatteringFactor.forElement("Si1").symbol == "Si")
    #expect(throws: CrystallographyError.self) { try ElectronScatteringFactor.forElement("Xx") }
}
