import LipscopeLinearAlgebra

/// How the state matrix A of a trained implicit network is kept well-posed.
public enum Parameterization: String, Sendable, CaseIterable {
    /// A itself, projected after every step onto the row-wise polytope
    /// {A : aᵢᵢ + Σ_{j≠i} |aᵢⱼ| ≤ γ}, i.e. μ∞(A) ≤ γ (the NEMON search set, spec D.2).
    case polytope
    /// A = γI + P − diag(|P|𝟙): the NEMON parameterization with D = I (spec D.2), μ∞(A) ≤ γ for
    /// every P (row i: γ + pᵢᵢ − |pᵢᵢ| ≤ γ), unconstrained gradient steps on P.
    case direct
    /// A = (1 − m)I − PᵀP + Q − Qᵀ with m = 1 − γ (monDEQ): I − A ⪰ mI, well-posed in ℓ2, with no
    /// ℓ∞ guarantee: the baseline.
    case monotone

    /// Rounding slack kept below γ by the projection, so that μ∞(A) ≤ γ still holds after the
    /// row sums are recomputed in floating point in any order.
    static let projectionSlack = 1e-12

    /// The Euclidean projection of a row (t = aᵢᵢ, w = the off-diagonal entries) onto
    /// {t + ‖w‖₁ ≤ γ}. KKT: t = t₀ − θ, w = soft-threshold(w₀, θ), with θ ≥ 0 the root of the
    /// decreasing piecewise linear φ(θ) = t₀ − θ + Σ max(|w₀ⱼ| − θ, 0) − γ, found exactly on the
    /// sorted breakpoints.
    static func projectRow(diagonal t0: Double, offDiagonal w0: inout [Double], limit gamma: Double) -> Double {
        let excess0 = t0 + w0.reduce(0) { $0 + abs($1) } - gamma
        if excess0 <= 0 { return t0 }
        let magnitudes = w0.map(abs).sorted(by: >)
        // On the segment where exactly k magnitudes exceed θ: φ(θ) = t₀ + S_k − (k + 1)θ − γ.
        var prefix = 0.0
        var theta = (t0 - gamma) // k = 0
        for k in 0...magnitudes.count {
            if k > 0 { prefix += magnitudes[k - 1] }
            let candidate = (t0 + prefix - gamma) / Double(k + 1)
            let upper = k == 0 ? Double.infinity : magnitudes[k - 1]
            let lower = k < magnitudes.count ? magnitudes[k] : 0
            if candidate <= upper && candidate >= lower { theta = candidate; break }
        }
        theta = max(theta, 0)
        for j in w0.indices { w0[j] = w0[j] > 0 ? max(w0[j] - theta, 0) : min(w0[j] + theta, 0) }
        return t0 - theta
    }

    /// Projects every row of A onto the polytope with limit γ − slack, then lowers any diagonal
    /// entry whose recomputed row measure still exceeds γ − slack/2 (rounding in the projection).
    static func projectOntoPolytope(_ a: inout Matrix, gamma: Double) {
        let n = a.rows
        let limit = gamma - projectionSlack * max(1, abs(gamma))
        var row = [Double](repeating: 0, count: max(0, n - 1))
        for i in 0..<n {
            var k = 0
            for j in 0..<n where j != i { row[k] = a[i, j]; k += 1 }
            let diagonal = projectRow(diagonal: a[i, i], offDiagonal: &row, limit: limit)
            k = 0
            for j in 0..<n where j != i { a[i, j] = row[k]; k += 1 }
            a[i, i] = diagonal
            let measure = a[i, i] + (0..<n).reduce(0.0) { $1 == i ? $0 : $0 + abs(a[i, $1]) }
            if measure > limit { a[i, i] -= (measure - limit) * 2 + Double.ulpOfOne * max(1, abs(measure)) }
        }
    }

    /// μ∞(A) = maxᵢ (aᵢᵢ + Σ_{j≠i} |aᵢⱼ|).
    public static func muInfinity(_ a: Matrix) -> Double {
        (0..<a.rows).map { i in a[i, i] + (0..<a.columns).reduce(0.0) { $1 == i ? $0 : $0 + abs(a[i, $1]) } }.max() ?? -.infinity
    }
}
