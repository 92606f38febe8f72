import Foundation
import Testing
import Crystallography

private func modulus(_ s: CrystalStructure, _ h: Int, _ k: Int, _ l: Int) -> Double { s.intensity(h, k, l).squareRoot() }

@Test func fccAbsencesAndAluminiumRatios() throws {
    let al = BuiltInPhase.aluminium.structure
    for h in -3 ... 3 { for k in -3 ... 3 { for l in -3 ... 3 where h != 0 || k != 0 || l != 0 {
        let mixed = !((h & 1) == (k & 1) && (k & 1) == (l & 1))
        if mixed { #expect(modulus(al, h, k, l) < 1e-10, "Al (\(h)\(k)\(l)) should be absent") }
        else { #expect(modulus(al, h, k, l) > 0.1) }
    } } }
    // Unmixed fcc reflections: |F| = 4 f(s) exp(−B s²).
    let f = try ElectronScatteringFactor.forElement("Al")
    let b = 0.80
    func expected(_ h: Int, _ k: Int, _ l: Int) -> Double {
        let s = 0.5 / al.cell.dSpacing(h, k, l)
        return 4 * f(s) * exp(-b * s * s)
    }
    #expect(abs(modulus(al, 1, 1, 1) - expected(1, 1, 1)) < 1e-9)
    let ratio = modulus(al, 2, 0, 0) / modulus(al, 1, 1, 1)
    #expect(abs(ratio - expected(2, 0, 0) / expected(1, 1, 1)) < 1e-9)
    #expect(ratio > 0.8 && ratio < 0.95)   // f decreases from s = 0.214 to 0.247 Å⁻¹
}

@Test func diamondAbsencesAndSiliconRatio() throws {
    let si = BuiltInPhase.silicon.structure
    #expect(modulus(si, 2, 0, 0) < 1e-9)
    #expect(modulus(si, 2, 2, 2) < 1e-9)
    #expect(modulus(si, 4, 2, 0) < 1e-9)   // h+k+l = 4n+2
    #expect(modulus(si, 1, 1, 0) < 1e-9)   // fcc mixed
    // Diamond: |F(111)| = 4√2 f DW (h+k+l odd), |F(220)| = 8 f DW (h+k+l = 4n).
    let f = try ElectronScatteringFactor.forElement("Si")
    let b = 0.46
    func dw(_ h: Int, _ k: Int, _ l: Int) -> Double { let s = 0.5 / si.cell.dSpacing(h, k, l); return f(s) * exp(-b * s * s) }
    let f111 = 4 * 2.0.squareRoot() * dw(1, 1, 1), f220 = 8 * dw(2, 2, 0), f400 = 8 * dw(4, 0, 0)
    #expect(abs(modulus(si, 1, 1, 1) - f111) < 1e-9)
    #expect(abs(modulus(si, 2, 2, 0) / modulus(si, 1, 1, 1) - f220 / f111) < 1e-9)
    #expect(abs(modulus(si, 4, 0, 0) - f400) < 1e-9)
}

@Test func bccAbsences() throws {
    let fe = BuiltInPhase.ironAlpha.structure
    for h in -3 ... 3 { for k in -3 ... 3 { for l in -3 ... 3 where h != 0 || k != 0 || l != 0 {
        if (h + k + l) % 2 != 0 { #expect(modulus(fe, h, k, l) < 1e-10) } else { #expect(modulus(fe, h, k, l) > 0.1) }
    } } }
}

@Test func pnmaAndHexagonalAbsences() throws {
    // Pnma: 0kl with k+l odd, hk0 with h odd, h00 with h odd are absent.
    let lfp = BuiltInPhase.lithiumIronPhosphate.structure
    #expect(modulus(lfp, 0, 1, 0) < 1e-9 && modulus(lfp, 0, 1, 2) < 1e-9 && modulus(lfp, 1, 0, 0) < 1e-9 && modulus(lfp, 3, 2, 0) < 1e-9)
    #expect(modulus(lfp, 2, 0, 0) > 0.01 && modulus(lfp, 0, 1, 1) > 0.01)
    // P6_3/mmc graphite: 00l with l odd absent; (002) strong.
    let c = BuiltInPhase.graphite.structure
    #expect(modulus(c, 0, 0, 1) < 1e-9 && modulus(c, 0, 0, 3) < 1e-9)
    #expect(modulus(c, 0, 0, 2) > 1)
}
