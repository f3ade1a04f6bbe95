import Foundation
import LipscopeLinearAlgebra

/// The certified ℓ∞ bound of spec D.2 with η = 1, L = ‖D‖∞ + ‖C‖∞‖B‖∞ / (1 − μ∞(A)), in a smooth
/// form for gradient steps: every max over rows becomes a log-sum-exp (≥ the max) and every |x|
/// becomes √(x² + ε²) (≥ |x|), so the smooth value is never below the certified closed form.
/// The norms' log-sum-exp temperature is proportional to the largest row sum (scale-free
/// smoothing); μ's is a constant tied to γ.
struct LipschitzRegularizer {
    /// |x| ≈ √(x² + ε²).
    static let absSmoothing = 1e-4
    /// Temperature of the norms' log-sum-exp, relative to the largest row sum.
    static let relativeTemperature = 0.05

    struct Evaluation {
        var value: Double
        var dA: Matrix, dB: Matrix, dC: Matrix, dD: Matrix
    }

    /// τ log Σ exp(vᵢ/τ) (≥ max v) and its gradient, the softmax weights.
    static func smoothMax(_ values: [Double], temperature tau: Double) -> (value: Double, weights: [Double]) {
        guard let top = values.max() else { return (0, []) }
        let exps = values.map { exp(($0 - top) / tau) }
        let total = exps.reduce(0, +)
        return (top + tau * log(total), exps.map { $0 / total })
    }

    static func smoothAbs(_ x: Double) -> Double { (x * x + absSmoothing * absSmoothing).squareRoot() }
    static func smoothSign(_ x: Double) -> Double { x / smoothAbs(x) }

    /// Smooth ‖M‖∞ and its gradient with respect to M.
    static func smoothNorm(_ m: Matrix) -> (value: Double, gradient: Matrix) {
        var sums = [Double](repeating: 0, count: m.rows)
        for j in 0..<m.columns { for i in 0..<m.rows { sums[i] += smoothAbs(m[i, j]) } }
        if m.rows == 0 { return (0, m) }
        let tau = max(relativeTemperature * (sums.max() ?? 0), 1e-12)
        var (value, weights) = smoothMax(sums, temperature: tau)
        // τ = c·maxᵢ rᵢ moves with the largest row: ∂/∂τ of τ log Σ exp(rᵢ/τ) is
        // (value − Σ wᵢrᵢ)/τ, and it reaches the gradient through that row.
        if tau > 1e-12, let top = sums.indices.max(by: { sums[$0] < sums[$1] }) {
            let mean = zip(weights, sums).reduce(0) { $0 + $1.0 * $1.1 }
            weights[top] += (value - mean) / tau * relativeTemperature
        }
        var g = Matrix(rows: m.rows, columns: m.columns)
        for j in 0..<m.columns { for i in 0..<m.rows { g[i, j] = weights[i] * smoothSign(m[i, j]) } }
        return (value, g)
    }

    /// Temperature of μ's log-sum-exp: small enough that the smooth μ stays below (1 + γ)/2 < 1
    /// whenever μ∞(A) ≤ γ (log-sum-exp exceeds the max by at most τ log n).
    static func measureTemperature(gamma: Double, states n: Int) -> Double {
        min(0.02, (1 - gamma) / (2 * log(Double(max(n, 2)))))
    }

    /// Smooth μ∞(A) and its gradient.
    static func smoothMeasure(_ a: Matrix, temperature tau: Double) -> (value: Double, gradient: Matrix) {
        let n = a.rows
        var rows = (0..<n).map { a[$0, $0] }
        for j in 0..<n { for i in 0..<n where i != j { rows[i] += smoothAbs(a[i, j]) } }
        let (value, weights) = smoothMax(rows, temperature: tau)
        var g = Matrix(rows: n, columns: n)
        for j in 0..<n { for i in 0..<n { g[i, j] = i == j ? weights[i] : weights[i] * smoothSign(a[i, j]) } }
        return (value, g)
    }

    /// The smooth bound and its gradients; nil when the smooth μ is not below 1 (no ℓ∞ certificate
    /// to differentiate).
    static func evaluate(A: Matrix, B: Matrix, C: Matrix, D: Matrix, gamma: Double) -> Evaluation? {
        let (mu, dMu) = smoothMeasure(A, temperature: measureTemperature(gamma: gamma, states: A.rows))
        guard mu < 1 else { return nil }
        let (nB, dNB) = smoothNorm(B), (nC, dNC) = smoothNorm(C), (nD, dND) = smoothNorm(D)
        let gap = 1 - mu
        let value = nD + nC * nB / gap
        return Evaluation(value: value,
                          dA: (nC * nB / (gap * gap)) * dMu,
                          dB: (nC / gap) * dNB,
                          dC: (nB / gap) * dNC,
                          dD: dND)
    }
}
