import CLapack
import Foundation

/// Largest steps α with V + α·dV ≻ 0 for a dense symmetric V = LLᵀ: α_max = −1/λ_min(L⁻¹ dV L⁻ᵀ)
/// when that eigenvalue is negative. λ_min comes from a few Lanczos steps (each two triangular
/// solves and one symmetric product, O(d²)), far cheaper than a dense eigensolve; a Ritz value
/// only bounds λ_min from above, so callers verify the step by a Cholesky factorization.
enum StepLength {
    /// The Lanczos estimate of λ_min(L⁻¹ D L⁻ᵀ) minus its residual bound (so usually ≤ λ_min).
    static func smallestEigenvalue(factor l: [Double], direction dv: [Double], dimension d: Int,
                                   steps: Int = 40) -> Double {
        let k = min(steps, d)
        var basis: [[Double]] = []
        var alpha: [Double] = [], beta: [Double] = []
        // A start vector touching every coordinate, not aligned with any structure.
        var v = (0..<d).map { 1 + 0.37 * sin(Double($0) * 1.7 + 0.3) }
        var norm = cblas_dnrm2(Int32(d), v, 1)
        for i in 0..<d { v[i] /= norm }
        var previous = [Double](repeating: 0, count: d)
        var previousBeta = 0.0
        var w = [Double](repeating: 0, count: d)
        var u = [Double](repeating: 0, count: d)
        for _ in 0..<k {
            basis.append(v)
            // w = L⁻¹ D L⁻ᵀ v
            u = v
            cblas_dtrsv(CblasColMajor, CblasLower, CblasTrans, CblasNonUnit, Int32(d), l, Int32(d), &u, 1)
            cblas_dsymv(CblasColMajor, CblasLower, Int32(d), 1.0, dv, Int32(d), u, 1, 0.0, &w, 1)
            cblas_dtrsv(CblasColMajor, CblasLower, CblasNoTrans, CblasNonUnit, Int32(d), l, Int32(d), &w, 1)
            let a = cblas_ddot(Int32(d), v, 1, w, 1)
            alpha.append(a)
            for i in 0..<d { w[i] -= a * v[i] + previousBeta * previous[i] }
            // Full reorthogonalization (k ≤ 40 vectors).
            for _ in 0..<2 {
                for b in basis {
                    let c = cblas_ddot(Int32(d), b, 1, w, 1)
                    cblas_daxpy(Int32(d), -c, b, 1, &w, 1)
                }
            }
            norm = cblas_dnrm2(Int32(d), w, 1)
            if !(norm > 1e-12 * max(abs(a), 1e-300)) || basis.count == k { beta.append(norm); break }
            beta.append(norm)
            previous = v
            previousBeta = norm
            for i in 0..<d { v[i] = w[i] / norm }
        }
        let m = alpha.count
        var diag = alpha
        var off = Array(beta.prefix(max(m - 1, 0)))
        if off.isEmpty { off = [0] }
        var z = [Double](repeating: 0, count: m * m)
        guard LAPACKE_dstev(LAPACK_COL_MAJOR, CChar(UInt8(ascii: "V")), Int32(m), &diag, &off, &z, Int32(m)) == 0 else {
            return alpha.min() ?? 0
        }
        // Eigenvalues ascending; the residual of the smallest Ritz pair is β_m |z_{m−1, 0}|.
        let residual = abs(beta[m - 1] * z[m - 1])
        return diag[0] - residual
    }

    /// The largest step ≤ `cap` keeping every entry of v + α dv positive.
    static func positive(_ v: [Double], _ dv: [Double], cap: Double = .infinity) -> Double {
        var alpha = cap
        for i in v.indices where dv[i] < 0 { alpha = min(alpha, -v[i] / dv[i]) }
        return alpha
    }
}
