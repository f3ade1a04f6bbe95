import CLapack
import LipscopeLinearAlgebra

/// In-place BLAS products on preallocated column-major buffers. Training repeats the same
/// products thousands of times per epoch, so the `Matrix` operators (which allocate their result)
/// would spend more time in the allocator than in BLAS.
enum DenseKernels {
    /// c ← α·op(a)·op(b) + β·c, with op = transpose when the flag is set.
    static func gemm(_ a: Matrix, transposeA: Bool = false, _ b: Matrix, transposeB: Bool = false,
                     into c: inout Matrix, alpha: Double = 1, beta: Double = 0) {
        let m = transposeA ? a.columns : a.rows
        let k = transposeA ? a.rows : a.columns
        let n = transposeB ? b.rows : b.columns
        precondition((transposeB ? b.columns : b.rows) == k && c.rows == m && c.columns == n, "gemm shape mismatch")
        if m == 0 || n == 0 { return }
        if k == 0 {
            if beta == 0 { for i in c.storage.indices { c.storage[i] = 0 } } else if beta != 1 { for i in c.storage.indices { c.storage[i] *= beta } }
            return
        }
        let ldc = Int32(c.rows)
        c.storage.withUnsafeMutableBufferPointer { cp in
            cblas_dgemm(CblasColMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                        Int32(m), Int32(n), Int32(k), alpha, a.storage, Int32(a.rows), b.storage, Int32(b.rows),
                        beta, cp.baseAddress, ldc)
        }
    }
}
