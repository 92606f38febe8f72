import Foundation

/// Relativistic electron wavelength in Å for an accelerating voltage in volts:
/// λ = h / √(2 m₀ e V (1 + eV / (2 m₀ c²)))  (CODATA 2018 constants; λ(200 kV) = 0.025079 Å).
public func electronWavelength(voltage: Double) -> Double {
    let h = 6.62607015e-34, m0 = 9.1093837015e-31, e = 1.602176634e-19, c = 299_792_458.0
    let eV = e * voltage
    return h / (2 * m0 * eV * (1 + eV / (2 * m0 * c * c))).squareRoot() * 1e10
}
