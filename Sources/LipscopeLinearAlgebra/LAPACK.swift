import Foundation
import CLapack

/// A LAPACK routine reported failure (`info` ≠ 0).
public struct LAPACKError: Error, CustomStringConvertible, Sendable {
    public let routine: String
    public let info: Int32
    public var description: String { "LAPACK \(routine) failed (info = \(info))" }
}

private let lower = CChar(UInt8(ascii: "L"))

public enum LinearAlgebra {
    /// Keeps OpenBLAS single-threaded: on 2 cores its spinning threads cost more than they give
    /// for the matrix sizes here. Called once by every program entry point.
    public static func configureThreads(_ n: Int = 1) {
        openblas_set_num_threads(Int32(n))
    }

    private static let threadLock = NSLock()
    nonisolated(unsafe) private static var threadScopes = 0

    /// Runs `body` with OpenBLAS on `n` threads, for work dominated by large dense products (the
    /// structured SDP solver: 1.4–1.5× faster on 2 cores from LMI size 768 on). Nested or
    /// concurrent scopes share the setting; the last one to leave puts back one thread.
    public static func withThreads<T>(_ n: Int, _ body: () throws -> T) rethrows -> T {
        guard n > 1 else { return try body() }
        threadLock.withLock {
            if threadScopes == 0 { openblas_set_num_threads(Int32(n)) }
            threadScopes += 1
        }
        defer {
            threadLock.withLock {
                threadScopes -= 1
                if threadScopes == 0 { openblas_set_num_threads(1) }
            }
        }
        return try body()
    }

    /// Singular values in decreasing order (LAPACK dgesdd, values only).
    public static func singularValues(_ a: Matrix) throws -> [Double] {
        let m = a.rows, n = a.columns
        if m == 0 || n == 0 { return [] }
        var work = a.storage
        var s = [Double](repeating: 0, count: min(m, n))
        var u = [Double](repeating: 0, count: 1)
        var vt = [Double](repeating: 0, count: 1)
        let info = LAPACKE_dgesdd(LAPACK_COL_MAJOR, CChar(UInt8(ascii: "N")), Int32(m), Int32(n),
                                  &work, Int32(m), &s, &u, 1, &vt, 1)
        if info != 0 { throw LAPACKError(routine: "dgesdd", info: info) }
        return s
    }

    /// The induced 2-norm, the largest singular value.
    public static func spectralNorm(_ a: Matrix) throws -> Double {
        if a.rows == 0 || a.columns == 0 { return 0 }
        if a.rows == 1 || a.columns == 1 { return a.frobeniusNorm }
        return try singularValues(a).first ?? 0
    }

    /// All eigenvalues of a symmetric matrix (lower triangle is read), ascending (dsyevr).
    public static func symmetricEigenvalues(_ a: Matrix) throws -> [Double] {
        precondition(a.isSquare)
        let n = a.rows
        if n == 0 { return [] }
        var work = a.storage
        var m: Int32 = 0
        var w = [Double](repeating: 0, count: n)
        var z = [Double](repeating: 0, count: 1)
        var isuppz = [Int32](repeating: 0, count: 2 * n)
        let info = LAPACKE_dsyevr(LAPACK_COL_MAJOR, CChar(UInt8(ascii: "N")), CChar(UInt8(ascii: "A")), lower,
                                  Int32(n), &work, Int32(n), 0, 0, 0, 0, 0.0, &m, &w, &z, 1, &isuppz)
        if info != 0 { throw LAPACKError(routine: "dsyevr", info: info) }
        return w
    }

    /// Eigenvalues and eigenvectors (columns of the returned matrix) of a symmetric matrix, ascending.
    public static func symmetricEigen(_ a: Matrix) throws -> (values: [Double], vectors: Matrix) {
        precondition(a.isSquare)
        let n = a.rows
        if n == 0 { return ([], Matrix(rows: 0, columns: 0)) }
        var work = a.storage
        var m: Int32 = 0
        var w = [Double](repeating: 0, count: n)
        var z = Matrix(rows: n, columns: n)
        var isuppz = [Int32](repeating: 0, count: 2 * n)
        let info = LAPACKE_dsyevr(LAPACK_COL_MAJOR, CChar(UInt8(ascii: "V")), CChar(UInt8(ascii: "A")), lower,
                                  Int32(n), &work, Int32(n), 0, 0, 0, 0, 0.0, &m, &w, &z.storage, Int32(n), &isuppz)
        if info != 0 { throw LAPACKError(routine: "dsyevr", info: info) }
        return (w, z)
    }

    /// Eigenvalues (real and imaginary parts) and right eigenvectors of a general square matrix (dgeev).
    /// Column j of `vectors` is the eigenvector of a real eigenvalue j; complex pairs follow LAPACK's packing.
    public static func generalEigen(_ a: Matrix) throws -> (real: [Double], imaginary: [Double], vectors: Matrix) {
        precondition(a.isSquare)
        let n = a.rows
        if n == 0 { return ([], [], Matrix(rows: 0, columns: 0)) }
        var work = a.storage
        var wr = [Double](repeating: 0, count: n)
        var wi = [Double](repeating: 0, count: n)
        var vl = [Double](repeating: 0, count: 1)
        var vr = Matrix(rows: n, columns: n)
        let info = LAPACKE_dgeev(LAPACK_COL_MAJOR, CChar(UInt8(ascii: "N")), CChar(UInt8(ascii: "V")),
                                 Int32(n), &work, Int32(n), &wr, &wi, &vl, 1, &vr.storage, Int32(n))
        if info != 0 { throw LAPACKError(routine: "dgeev", info: info) }
        return (wr, wi, vr)
    }

    /// Solves A X = B for square A by LU with partial pivoting (dgesv). Throws when A is singular.
    public static func solve(_ a: Matrix, _ b: Matrix) throws -> Matrix {
        precondition(a.isSquare && a.rows == b.rows)
        let n = a.rows
        if n == 0 { return b }
        var lu = a.storage
        var x = b
        var pivots = [Int32](repeating: 0, count: n)
        let info = LAPACKE_dgesv(LAPACK_COL_MAJOR, Int32(n), Int32(b.columns), &lu, Int32(n), &pivots,
                                 &x.storage, Int32(n))
        if info != 0 { throw LAPACKError(routine: "dgesv", info: info) }
        return x
    }

    public static func solve(_ a: Matrix, _ b: [Double]) throws -> [Double] {
        try solve(a, Matrix(rows: b.count, columns: 1, storage: b)).storage
    }

    /// Cholesky factorization of a symmetric matrix (lower triangle read). Returns nil when the
    /// matrix is not numerically positive definite; that failure is the answer, not an error.
    public static func cholesky(_ a: Matrix) -> Matrix? {
        precondition(a.isSquare)
        let n = a.rows
        var l = a
        if n == 0 { return l }
        let info = LAPACKE_dpotrf(LAPACK_COL_MAJOR, lower, Int32(n), &l.storage, Int32(n))
        if info != 0 { return nil }
        for j in 0..<n { for i in 0..<j { l[i, j] = 0 } }
        return l
    }

    /// Largest eigenvalue of the symmetric Gram matrix of the smaller side; √ of it is ‖a‖₂.
    /// Cheaper than an SVD when one side is tiny (the Jacobian of a few-output network).
    public static func spectralNormSmallSide(_ a: Matrix) throws -> Double {
        if a.rows == 0 || a.columns == 0 { return 0 }
        if a.rows == 1 || a.columns == 1 { return a.frobeniusNorm }
        let gram = a.rows <= a.columns ? a * a.transposed : Matrix.transposeTimes(a, a)
        if gram.rows == 2 {
            // Closed form for 2×2 symmetric: avoids a LAPACK call in exhaustive enumerations.
            let p = gram[0, 0], q = gram[1, 1], r = gram[1, 0]
            let mean = (p + q) / 2, diff = (p - q) / 2
            return max(0, mean + (diff * diff + r * r).squareRoot()).squareRoot()
        }
        return max(0, try symmetricEigenvalues(gram).last ?? 0).squareRoot()
    }
}
