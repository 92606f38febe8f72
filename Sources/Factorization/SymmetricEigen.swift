#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Eigen-decomposition of a small dense symmetric matrix by the cyclic Jacobi method (Golub & Van Loan,
/// Matrix Computations, 4th ed., section 8.5). Used on the l x l Gram matrices of the randomized SVD, where l is
/// k plus a small oversampling, so O(l^3) per sweep is negligible.
enum SymmetricEigen {
    /// Returns eigenvalues in decreasing order and the matching eigenvectors as the columns of a row-major
    /// n x n matrix.
    static func decompose(_ matrix: [Double], n: Int, sweeps: Int = 60) -> (values: [Double], vectors: [Double]) {
        precondition(matrix.count == n * n)
        var a = matrix
        var v = [Double](repeating: 0, count: n * n)
        for i in 0 ..< n { v[i * n + i] = 1 }
        for _ in 0 ..< sweeps {
            var off = 0.0, diag = 0.0
            for i in 0 ..< n {
                diag += a[i * n + i] * a[i * n + i]
                for j in i + 1 ..< n { off += a[i * n + j] * a[i * n + j] }
            }
            if off <= 1e-30 * max(diag, 1e-300) { break }
            for p in 0 ..< n {
                for q in p + 1 ..< n {
                    let apq = a[p * n + q]
                    if abs(apq) < 1e-300 { continue }
                    let theta = (a[q * n + q] - a[p * n + p]) / (2 * apq)
                    let t = (theta >= 0 ? 1.0 : -1.0) / (abs(theta) + (theta * theta + 1).squareRoot())
                    let c = 1 / (t * t + 1).squareRoot(), s = t * c
                    for r in 0 ..< n {
                        let arp = a[r * n + p], arq = a[r * n + q]
                        a[r * n + p] = c * arp - s * arq
                        a[r * n + q] = s * arp + c * arq
                    }
                    for r in 0 ..< n {
                        let apr = a[p * n + r], aqr = a[q * n + r]
                        a[p * n + r] = c * apr - s * aqr
                        a[q * n + r] = s * apr + c * aqr
                    }
                    for r in 0 ..< n {
                        let vrp = v[r * n + p], vrq = v[r * n + q]
                        v[r * n + p] = c * vrp - s * vrq
                        v[r * n + q] = s * vrp + c * vrq
                    }
                }
            }
        }
        let order = (0 ..< n).sorted { a[$0 * n + $0] > a[$1 * n + $1] }
        var values = [Double](repeating: 0, count: n), vectors = [Double](repeating: 0, count: n * n)
        for (newIndex, old) in order.enumerated() {
            values[newIndex] = a[old * n + old]
            for r in 0 ..< n { vectors[r * n + newIndex] = v[r * n + old] }
        }
        return (values, vectors)
    }
}
