import CLapack

/// In-place BLAS/LAPACK kernels on column-major buffers, for solvers that keep their own
/// storage (an interior point's Schur complement, its per-block iterates) and cannot afford a
/// `Matrix` copy per call. Every matrix is column-major with leading dimension = its row count
/// unless a `ld` is given; "lower" means the lower triangle is read and written.
public enum BlasKernels {
    private static let lowerChar = CChar(UInt8(ascii: "L"))

    /// Cholesky A = L Lᵀ of the n×n lower triangle at `a` (dpotrf); false when A is not
    /// numerically positive definite. The strict upper triangle is left untouched.
    public static func choleskyInPlace(_ a: UnsafeMutablePointer<Double>, n: Int) -> Bool {
        if n == 0 { return true }
        return LAPACKE_dpotrf(LAPACK_COL_MAJOR, lowerChar, Int32(n), a, Int32(n)) == 0
    }

    /// A⁻¹ from the Cholesky factor at `a` (dpotri), full symmetric result.
    public static func inverseFromCholesky(_ a: UnsafeMutablePointer<Double>, n: Int) -> Bool {
        if n == 0 { return true }
        guard LAPACKE_dpotri(LAPACK_COL_MAJOR, lowerChar, Int32(n), a, Int32(n)) == 0 else { return false }
        for j in 0..<n { for i in 0..<j { a[i + j * n] = a[j + i * n] } }
        return true
    }

    /// B ← B L⁻ᵀ for the lower-triangular n×n L and the rows×n B (dtrsm, right side).
    public static func solveRightLowerTransposed(_ l: UnsafePointer<Double>, n: Int,
                                                 _ b: UnsafeMutablePointer<Double>, rows: Int) {
        if n == 0 || rows == 0 { return }
        cblas_dtrsm(CblasColMajor, CblasRight, CblasLower, CblasTrans, CblasNonUnit,
                    Int32(rows), Int32(n), 1, l, Int32(n), b, Int32(rows))
    }

    /// x ← L⁻¹ x (transposed = false) or L⁻ᵀ x (true) for the lower-triangular n×n L (dtrsv).
    public static func solveLower(_ l: UnsafePointer<Double>, n: Int, _ x: UnsafeMutablePointer<Double>, transposed: Bool) {
        if n == 0 { return }
        cblas_dtrsv(CblasColMajor, CblasLower, transposed ? CblasTrans : CblasNoTrans, CblasNonUnit,
                    Int32(n), l, Int32(n), x, 1)
    }

    /// Lower triangle of C ← C − W Wᵀ for the n×k W (dsyrk).
    public static func subtractGram(_ w: UnsafePointer<Double>, n: Int, k: Int, _ c: UnsafeMutablePointer<Double>) {
        if n == 0 || k == 0 { return }
        cblas_dsyrk(CblasColMajor, CblasLower, CblasNoTrans, Int32(n), Int32(k), -1, w, Int32(n), 1, c, Int32(n))
    }

    /// y ← y + alpha·op(A) x for the rows×cols A (dgemv).
    public static func multiplyAdd(_ a: UnsafePointer<Double>, rows: Int, cols: Int, transposed: Bool,
                                   _ x: UnsafePointer<Double>, alpha: Double, _ y: UnsafeMutablePointer<Double>) {
        if rows == 0 || cols == 0 { return }
        cblas_dgemv(CblasColMajor, transposed ? CblasTrans : CblasNoTrans, Int32(rows), Int32(cols), alpha,
                    a, Int32(rows), x, 1, 1, y, 1)
    }

    /// C ← alpha·A·B + beta·C for n×n matrices (dgemm).
    public static func multiply(_ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>, n: Int,
                                alpha: Double = 1, beta: Double = 0, into c: UnsafeMutablePointer<Double>) {
        if n == 0 { return }
        cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, Int32(n), Int32(n), Int32(n), alpha,
                    a, Int32(n), b, Int32(n), beta, c, Int32(n))
    }

    /// C ← A·B for the rows×inner A (leading dimension `lda`) and the inner×cols B (`ldb`),
    /// C rows×cols with leading dimension rows (dgemm).
    public static func multiply(_ a: UnsafePointer<Double>, lda: Int, _ b: UnsafePointer<Double>, ldb: Int,
                                rows: Int, inner: Int, cols: Int, into c: UnsafeMutablePointer<Double>) {
        if rows == 0 || cols == 0 { return }
        if inner == 0 { c.update(repeating: 0, count: rows * cols); return }
        cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, Int32(rows), Int32(cols), Int32(inner), 1,
                    a, Int32(lda), b, Int32(ldb), 0, c, Int32(rows))
    }

    /// Eigenvalues (ascending) of the symmetric n×n matrix at `a` (lower triangle; destroyed).
    public static func symmetricEigenvaluesInPlace(_ a: UnsafeMutablePointer<Double>, n: Int,
                                                   into w: UnsafeMutablePointer<Double>) -> Bool {
        if n == 0 { return true }
        return LAPACKE_dsyevd(LAPACK_COL_MAJOR, CChar(UInt8(ascii: "N")), lowerChar, Int32(n), a, Int32(n), w) == 0
    }
}
