import Foundation
import Testing
import Crystallography

/// Peng et al. (1996) Table 3 / International Tables Vol. C Table 4.3.2.3: the independent five-Gaussian fit over
/// 0 ≤ s ≤ 6 Å⁻¹ (a_i, b_i pairs). Two fits of the same Hartree–Fock data agree to about 2 % up to s = 1 Å⁻¹, so a
/// mistyped coefficient in the library's 0–2 Å⁻¹ table shows up as a larger difference.
private let wideRangeFit: [String: [(Double, Double)]] = [
    "H": [(0.0088, 0.1152), (0.0449, 1.0867), (0.1481, 4.9755), (0.2356, 16.5591), (0.0914, 43.2743)],
    "Li": [(0.0478, 0.2258), (0.2048, 2.1032), (0.5253, 12.9349), (1.5225, 50.7501), (0.9853, 136.6280)],
    "C": [(0.0489, 0.1140), (0.2091, 1.0825), (0.7537, 5.4281), (1.1420, 17.8811), (0.3555, 51.1341)],
    "O": [(0.0365, 0.0652), (0.1729, 0.6184), (0.5805, 2.9449), (0.8814, 9.6298), (0.3121, 28.2194)],
    "Al": [(0.1165, 0.1295), (0.5504, 1.2619), (1.0179, 6.8242), (2.6295, 28.4577), (1.5711, 88.4750)],
    "Si": [(0.0567, 0.0582), (0.3365, 0.6155), (0.8104, 3.2522), (2.4960, 16.7929), (2.1186, 57.6767)],
    "P": [(0.1005, 0.0977), (0.4615, 0.9084), (1.0663, 4.9654), (2.5854, 18.5471), (1.2725, 54.3648)],
    "Fe": [(0.1929, 0.1087), (0.8239, 1.0806), (1.8689, 4.7637), (2.3694, 22.8500), (1.9060, 76.7309)],
    "Cu": [(0.3501, 0.1867), (1.6558, 1.9917), (1.9582, 11.3396), (0.2134, 53.2619), (1.4109, 63.2520)],
    "Ag": [(0.2739, 0.0881), (1.0503, 0.8028), (3.1564, 4.4451), (2.7543, 18.7011), (1.4328, 79.2633)],
    "Sn": [(0.2966, 0.0896), (1.1157, 0.8268), (3.0973, 4.2242), (3.8156, 20.6900), (2.5281, 71.3399)],
    "Pt": [(0.3083, 0.0609), (1.4158, 0.5993), (2.9662, 3.1921), (3.9349, 12.5285), (2.1709, 49.7675)],
    "Au": [(0.3055, 0.0596), (1.3945, 0.5827), (2.9617, 3.1035), (3.8990, 11.9693), (2.0026, 47.9106)],
    "Pb": [(0.3540, 0.0668), (1.5453, 0.6465), (3.5975, 3.6968), (4.3152, 16.2056), (2.7743, 61.4909)],
]

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

@Test func coefficientsAgreeWithTheWideRangeFit() throws {
    for (symbol, pairs) in wideRangeFit {
        let f = try ElectronScatteringFactor.forElement(symbol)
        for s in [0.0, 0.1, 0.25, 0.5, 0.75, 1.0] {
            let reference = pairs.reduce(0.0) { $0 + $1.0 * exp(-$1.1 * s * s) }
            let rel = abs(f(s) / reference - 1)
            #expect(rel < 0.025, "\(symbol) f(\(s)) = \(f(s)) vs \(reference) (relative difference \(rel))")
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
