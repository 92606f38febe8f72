import CBLAS

/// Thin row-major wrappers over OpenBLAS `cblas_sgemm` / `cblas_sgemv`, so solver code reads as the formula it
/// implements. Every heavy product of the factorisation goes through `gemm`.
enum BLAS {
    /// C (m x n, leading dimension ldc) = alpha * op(A) * op(B) + beta * C, all row-major.
    /// op(A) is m x kk, op(B) is kk x n.
    @inline(__always)
    static func gemm(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k kk: Int,
                     alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
                     b: UnsafePointer<Float>, ldb: Int,
                     beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
        guard m > 0, n > 0 else { return }
        if kk == 0 {
            // BLAS leaves C untouched when k = 0 only if beta = 1; make the empty product explicit.
            for i in 0 ..< m { for j in 0 ..< n { c[i * ldc + j] = beta == 0 ? 0 : beta * c[i * ldc + j] } }
            return
        }
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    blasint(m), blasint(n), blasint(kk), alpha, a, blasint(lda), b, blasint(ldb),
                    beta, c, blasint(ldc))
    }

    /// y (length n or m) = alpha * op(A) x + beta y for a row-major m x n matrix A.
    @inline(__always)
    static func gemv(trans: Bool, m: Int, n: Int, alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
                     x: UnsafePointer<Float>, beta: Float = 0, y: UnsafeMutablePointer<Float>) {
        guard m > 0, n > 0 else {
            let count = trans ? n : m
            for i in 0 ..< count { y[i] = beta == 0 ? 0 : beta * y[i] }
            return
        }
        cblas_sgemv(CblasRowMajor, trans ? CblasTrans : CblasNoTrans, blasint(m), blasint(n), alpha,
                    a, blasint(lda), x, 1, beta, y, 1)
    }
}

/// A valid address for empty buffers (a rank that owns no rows still joins every product and all-reduce;
/// BLAS reads nothing through it).
private nonisolated(unsafe) let emptyBufferAddress = UnsafeMutablePointer<Float>.allocate(capacity: 1)

extension UnsafeBufferPointer where Element == Float {
    /// The base address, or a harmless dummy when the buffer is empty.
    @inline(__always) var base: UnsafePointer<Float> { baseAddress ?? UnsafePointer(emptyBufferAddress) }
}

extension UnsafeMutableBufferPointer where Element == Float {
    @inline(__always) var base: UnsafeMutablePointer<Float> { baseAddress ?? emptyBufferAddress }
}
