import Foundation

/// The reciprocal-lattice points of a phase within a radius g_max with non-negligible |F|², computed once per phase
/// and reused for every orientation (the template library and the simulator rotate this list).
/// Stored structure-of-arrays so the per-orientation loop streams contiguous memory.
public struct ReflectionList: Sendable {
    /// Miller indices of each reflection.
    public let hkl: [SIMD3<Int32>]
    /// Crystal-frame Cartesian components of g (Å⁻¹, no 2π).
    public let gx: [Double], gy: [Double], gz: [Double]
    /// |F|² in Å².
    public let intensity: [Double]
    /// Largest |g| included (Å⁻¹).
    public let gMax: Double

    public var count: Int { hkl.count }

    /// All (h,k,l) ≠ 0 with |g| ≤ gMax whose |F|² exceeds `relativeThreshold` × the largest |F|² (systematic
    /// absences and accidental near-zeros are dropped). Cost grows as (gMax³ V) structure factors: g_max = 2–4 Å⁻¹
    /// (s = 1–2 Å⁻¹, the range of the scattering-factor fit) takes milliseconds for the built-in phases.
    public init(structure: CrystalStructure, gMax: Double, relativeThreshold: Double = 1e-6) {
        let cell = structure.cell
        // Index bounds: |h| ≤ gMax |a| (since h = g · a).
        let hm = Int((gMax * cell.a).rounded(.up)), km = Int((gMax * cell.b).rounded(.up)), lm = Int((gMax * cell.c).rounded(.up))
        var cand: [(SIMD3<Int32>, Vector3, Double)] = []
        var maxI = 0.0
        for h in -hm ... hm {
            for k in -km ... km {
                for l in -lm ... lm where h != 0 || k != 0 || l != 0 {
                    let g = cell.reciprocalVector(Double(h), Double(k), Double(l))
                    if length(g) > gMax { continue }
                    let i = structure.intensity(h, k, l)
                    maxI = max(maxI, i)
                    cand.append((SIMD3(Int32(h), Int32(k), Int32(l)), g, i))
                }
            }
        }
        let kept = cand.filter { $0.2 > relativeThreshold * maxI && $0.2 > 0 }
        hkl = kept.map(\.0)
        gx = kept.map(\.1.x); gy = kept.map(\.1.y); gz = kept.map(\.1.z)
        intensity = kept.map(\.2)
        self.gMax = gMax
    }
}
