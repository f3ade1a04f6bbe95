import Foundation

/// The smooth surrogate of λ_max that ECLipsE's descents minimise: (Σᵢ λᵢᵖ)^{1/p} over the
/// (top) eigenvalues, never below λ_max, with its gradient weights wᵢ = (λᵢ/value)^{p−1} on the
/// eigenvectors; p = ∞ is λ_max itself with all weight on the top eigenvector. `values` ascend.
enum SmoothedMaximum {
    static func valueAndWeights(_ values: [Double], p: Double) -> (value: Double, weights: [Double])? {
        guard let top = values.last, top > 0, top.isFinite else { return nil }
        var weights = [Double](repeating: 0, count: values.count)
        if p.isInfinite {
            weights[values.count - 1] = 1
            return (top, weights)
        }
        let sum = values.reduce(0) { $0 + pow(max($1, 0) / top, p) }
        let value = top * pow(sum, 1 / p)
        for i in values.indices { weights[i] = pow(max(values[i], 0) / value, p - 1) }
        return (value, weights)
    }
}
