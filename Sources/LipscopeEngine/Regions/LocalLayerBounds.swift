import Foundation
import LipscopeLinearAlgebra

/// The region-restricted runs of the layer-product methods (naive, relaxed-exact): the same
/// products as the global ones, with each hidden neuron's slope ranging over its own interval
/// from `LocalScope` instead of the activation's global one.
extension NaiveBound {
    /// ‖W_L‖ ∏ₖ ‖diag(mₖ) Wₖ‖ with mₖᵢ = max(|αₖᵢ|, |βₖᵢ|): for any slopes sₖᵢ in the intervals,
    /// ‖diag(sₖ) Wₖ x‖ ≤ ‖diag(mₖ) Wₖ x‖ row by row, so the product bounds every Jacobian. A stably
    /// inactive ReLU drops its row exactly; a stably active one keeps it with factor 1.
    func runLocal(_ request: BoundRequest, scope: LocalScope, context: JobContext) throws -> BoundResult {
        let net = scope.network
        var product = 1.0
        var layerNorms: [Double] = []
        var operations = 0
        for (k, layer) in net.layers.enumerated() {
            try context.checkCancelled()
            var w = layer.weight.dense
            if k < scope.slopes.hidden.count { w = w.scalingRows(by: scope.slopes.hidden[k].map(\.magnitude)) }
            let norm: Double
            switch request.norm {
            case .l2: norm = try LinearAlgebra.spectralNorm(w)
            case .linf: norm = w.infinityNorm
            }
            layerNorms.append(norm)
            product *= norm
            operations += 2 * (w.rows + w.columns) + 2
            context.emit(.progress(phase: "layer norms", done: k + 1, total: net.layers.count))
        }
        var details = scope.details
        details["layer_norms"] = .numbers(layerNorms)
        details["certificate"] = .string("closed form over the slope intervals of the region; inflated by a floating-point rounding margin")
        return result(request, value: RoundingMargin.inflate(product, operations: operations), certified: true,
                      iterations: net.layers.count, details: details)
    }
}

extension RelaxedExactBound {
    /// Neurons whose slope is not fixed by the scope: the ones the enumeration ranges over.
    static func unstable(_ slopes: SlopeIntervals) -> [(layer: Int, neuron: Int)] {
        slopes.hidden.indices.flatMap { k in slopes.hidden[k].indices.filter { !slopes.hidden[k][$0].isFixed }.map { (k, $0) } }
    }

    /// max over the vertices of the local slope box of ‖W_L diag(s_{L−1}) ⋯ diag(s₁) W₁‖: fixed
    /// neurons keep their one slope, unstable ones take α or β (the norm is convex in each
    /// slope, so the vertices attain the maximum over the box).
    func runLocal(_ request: BoundRequest, scope: LocalScope, context: JobContext) throws -> BoundResult {
        let net = scope.network
        let weights = net.layers.map(\.weight.dense)
        let free = Self.unstable(scope.slopes)
        guard free.count <= Self.maximumHiddenNeurons else {
            return result(request, value: nil, certified: false, status: .tooLarge,
                          details: scope.details.merging(["reason": .string("\(free.count) unstable neurons: 2^\(free.count) slope patterns (limit \(Self.maximumHiddenNeurons))")]) { a, _ in a })
        }
        var slopes = scope.slopes.hidden.map { $0.map(\.alpha) } + [Array(repeating: 1.0, count: net.outputSize)]
        var best = -Double.infinity
        var bestPattern = 0
        let total = 1 << free.count
        for pattern in 0..<total {
            if pattern & 0x3FF == 0 {
                try context.checkCancelled()
                context.emit(.progress(phase: "slope patterns", done: pattern, total: total))
            }
            for (b, (k, i)) in free.enumerated() {
                let iv = scope.slopes.hidden[k][i]
                slopes[k][i] = (pattern >> b) & 1 == 1 ? iv.beta : iv.alpha
            }
            let value = try request.norm.induced(FeedforwardNetwork.product(denseWeights: weights, slopes: slopes))
            if value > best { best = value; bestPattern = pattern }
        }
        let operations = 8 * (net.architecture.reduce(0, +) + 8)
        var details = scope.details
        details["patterns"] = .number(Double(total))
        details["max_pattern_value"] = .number(best)
        details["argmax_unstable_pattern"] = .number(Double(bestPattern))
        details["certificate"] = .string("exhaustive over the vertices of the region's slope box; rounding margin added")
        return result(request, value: RoundingMargin.inflate(best, operations: operations), certified: true,
                      iterations: total, details: details)
    }
}
