import Foundation

/// Line shape of a diffraction peak of height A, centre μ and full width at half maximum w:
/// pseudo-Voigt V(x) = A [η L(u) + (1 − η) G(u)], u = (x − μ) / w, with G = exp(−4 ln2 u²) and
/// L = 1 / (1 + 4u²) (Wertheim et al., J. Electron Spectrosc. 5 (1974) 1041; η = 0 is a Gaussian).
public struct PeakShape: Hashable, Sendable, Codable {
    /// Lorentzian fraction η in [0, 1].
    public var eta: Double

    public init(eta: Double) { self.eta = min(max(eta, 0), 1) }

    public static let gaussian = PeakShape(eta: 0)
    public static func pseudoVoigt(eta: Double = 0.5) -> PeakShape { PeakShape(eta: eta) }

    static let fourLn2 = 4 * log(2.0)

    /// Unit-height value and its derivatives with respect to μ and w at x.
    @inlinable
    public func evaluate(_ x: Double, centre mu: Double, fwhm w: Double) -> (value: Double, dMu: Double, dW: Double) {
        let u = (x - mu) / w
        let g = exp(-4 * 0.6931471805599453 * u * u)
        let l = 1 / (1 + 4 * u * u)
        let value = eta * l + (1 - eta) * g
        // d/dμ: G·8ln2·u/w and L²·8u/w; d/dw: the same times u.
        let dG = g * 8 * 0.6931471805599453 * u / w, dL = l * l * 8 * u / w
        let dMu = eta * dL + (1 - eta) * dG
        return (value, dMu, dMu * u)
    }

    /// Area under a peak of height A and FWHM w: A w [η π/2 + (1 − η) √(π / (4 ln 2))].
    public func area(height: Double, fwhm: Double) -> Double {
        height * fwhm * (eta * Double.pi / 2 + (1 - eta) * (Double.pi / Self.fourLn2).squareRoot())
    }
}
