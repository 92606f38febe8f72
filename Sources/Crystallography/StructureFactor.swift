import Foundation

extension CrystalStructure {
    /// The kinematic structure factor (Å) of reflection (h, k, l):
    /// F = Σ_j occ_j f_j(s) exp(−B_j s²) exp(2πi (h x_j + k y_j + l z_j)),  s = 1/(2d)
    /// (e.g. De Graef, *Introduction to Conventional TEM*, §2.6), over every atom of the cell.
    public func structureFactor(_ h: Int, _ k: Int, _ l: Int) -> (re: Double, im: Double) {
        let s = 0.5 * cell.inverseDSquared(h, k, l).squareRoot()
        let s2 = s * s
        var re = 0.0, im = 0.0
        let hv = Vector3(Double(h), Double(k), Double(l))
        for (atom, f) in zip(atoms, atomFactors) {
            let amplitude = atom.occupancy * f(s) * exp(-atom.debyeWallerB * s2)
            let phase = 2 * Double.pi * dot(hv, atom.position)
            re += amplitude * cos(phase)
            im += amplitude * sin(phase)
        }
        return (re, im)
    }

    /// |F(hkl)|² in Å².
    public func intensity(_ h: Int, _ k: Int, _ l: Int) -> Double {
        let f = structureFactor(h, k, l)
        return f.re * f.re + f.im * f.im
    }
}
