import Foundation
import LipscopeLinearAlgebra

/// A local problem in the layer-chain form the ℓ2 LMI methods (LipSDP, ECLipsE) take, with the
/// neurons whose slope the region fixes taken out:
///  - a neuron with slope [0, 0] (a stably inactive ReLU) is deleted: row i of Wₖ and column i
///    of Wₖ₊₁ go, exactly;
///  - a hidden layer whose every slope is fixed (sᵢ = αᵢ = βᵢ) is linear on the region and is
///    merged into the next one, Wₖ₊₁ diag(s) Wₖ. The merged product is rounded; the error of
///    every Jacobian it causes is bounded by `slack` (ℓ2, additive), so a bound of the chain
///    plus `slack` bounds the network's local constant;
///  - a fixed neuron in a layer that keeps some unstable ones stays a neuron with interval
///    [s, s] (`FixedSlopes.keep`, LipSDP: the quadratic constraint then says Δz = sΔv) or
///    [min(0, s), max(0, s)] (`.widenToZero`, ECLipsE: its layer recursion drops the αβ terms,
///    which turns [α, β] into [0, α + β]; [0, β] ⊇ [α, β] is the tighter sound choice).
/// As the region shrinks to a point where no neuron is unstable every layer merges and the
/// chain is the single matrix J(x₀): the local bounds converge to ‖J(x₀)‖₂.
struct LocalChain {
    enum FixedSlopes { case keep, widenToZero }

    struct Hidden {
        var weight: Matrix
        var alpha: [Double]
        var beta: [Double]
        var width: Int { weight.rows }
    }

    var inputSize: Int
    var hidden: [Hidden]
    var output: Matrix
    /// Additive ℓ2 bound on ‖J_network(s) − J_chain(s)‖ over the slope box (0 without merges).
    var slack: Double
    /// Hidden neurons of the original network, deleted (slope 0) and merged (fixed, in a linear layer).
    var deleted: Int
    var merged: Int

    /// True when a hidden layer lost every neuron: the local Jacobian is 0.
    var isConstant: Bool { hidden.contains { $0.width == 0 } || output.rows == 0 }

    init(_ scope: LocalScope, fixed: FixedSlopes) throws {
        let net = scope.network
        inputSize = net.inputSize
        var weights = net.layers.map(\.weight.dense)
        var slopes = scope.slopes.hidden
        // Entrywise error bound of each (possibly merged) weight, and the absolute weights.
        var errors: [Matrix?] = Array(repeating: nil, count: weights.count)
        deleted = 0; merged = 0
        // 1. Delete zero-slope neurons.
        for k in slopes.indices {
            let keep = slopes[k].indices.filter { !(slopes[k][$0].alpha == 0 && slopes[k][$0].beta == 0) }
            if keep.count == slopes[k].count { continue }
            deleted += slopes[k].count - keep.count
            weights[k] = weights[k].selectingRows(keep)
            weights[k + 1] = Self.selectingColumns(weights[k + 1], keep)
            slopes[k] = keep.map { slopes[k][$0] }
        }
        // 2. Merge layers whose slopes are all fixed (or within `mergeWidth`: the midpoint is
        //    used and the half-width joins the entrywise error) into the next weight.
        var k = 0
        while k < slopes.count {
            guard !slopes[k].isEmpty, slopes[k].allSatisfy({ $0.beta - $0.alpha <= Self.mergeWidth }) else { k += 1; continue }
            merged += slopes[k].count
            let s = slopes[k].map { $0.isFixed ? $0.alpha : ($0.alpha + $0.beta) / 2 }
            let halfWidth = zip(slopes[k], s).map { iv, m in iv.isFixed ? 0 : (iv.beta - iv.alpha) / 2 + m.ulp }
            let next = weights[k + 1], cur = weights[k]
            let product = next.scalingColumns(by: s) * cur
            // |fl(product) − product| ≤ γ_{n+2}|next||diag s||cur|; the inputs' own errors propagate.
            let absNext = Self.absolute(next).scalingColumns(by: s.map(abs))
            let absCur = Self.absolute(cur)
            let gamma = Self.gamma(cur.rows + 2)
            var error = absNext * absCur
            for i in error.storage.indices { error.storage[i] *= gamma * (1 + gamma) }
            if halfWidth.contains(where: { $0 > 0 }) {   // the slopes' spread around the midpoint
                let spread = Self.plus(Self.absolute(next), errors[k + 1]).scalingColumns(by: halfWidth) * Self.plus(absCur, errors[k])
                for i in error.storage.indices { error.storage[i] += spread.storage[i] * (1 + gamma) }
            }
            if let ec = errors[k] {   // (|next| + E_next)|s| E_cur
                let plus = Self.plus(Self.absolute(next), errors[k + 1]).scalingColumns(by: s.map(abs)) * ec
                for i in error.storage.indices { error.storage[i] += plus.storage[i] * (1 + gamma) }
            }
            if let en = errors[k + 1] {   // E_next |s| |cur|
                let plus = en.scalingColumns(by: s.map(abs)) * absCur
                for i in error.storage.indices { error.storage[i] += plus.storage[i] * (1 + gamma) }
            }
            weights[k + 1] = product
            errors[k + 1] = error
            weights.remove(at: k); errors.remove(at: k); slopes.remove(at: k)
        }
        // 3. Fixed neurons left in mixed layers.
        hidden = slopes.indices.map { k in
            var alpha = slopes[k].map(\.alpha), beta = slopes[k].map(\.beta)
            if fixed == .widenToZero {
                for i in alpha.indices where alpha[i] * beta[i] > 0 {
                    if alpha[i] > 0 { alpha[i] = 0 } else { beta[i] = 0 }
                }
            }
            return Hidden(weight: weights[k], alpha: alpha, beta: beta)
        }
        output = weights[weights.count - 1]
        slack = 0
        if errors.contains(where: { $0 != nil }), !isConstant {
            // ‖ΔJ‖₂ ≤ ‖∏(|W̃ₖ| + Eₖ) mₖ − ∏|W̃ₖ| mₖ‖_F with mₖ the slope magnitudes.
            let mags = slopes.map { $0.map(\.magnitude) }
            var upper = Self.plus(Self.absolute(weights[weights.count - 1]), errors[weights.count - 1])
            var plain = Self.absolute(weights[weights.count - 1])
            for j in stride(from: weights.count - 2, through: 0, by: -1) {
                upper = upper.scalingColumns(by: mags[j]) * Self.plus(Self.absolute(weights[j]), errors[j])
                plain = plain.scalingColumns(by: mags[j]) * Self.absolute(weights[j])
            }
            var sq = 0.0, top = 0.0
            for i in upper.storage.indices {
                let d = upper.storage[i] - plain.storage[i]
                sq += d * d; top += upper.storage[i] * upper.storage[i]
            }
            let g = Self.gamma(net.architecture.reduce(0, +) + 8)
            slack = (sq.squareRoot() + 4 * g * top.squareRoot()) * (1 + 1e-10) + Double.leastNormalMagnitude
        }
    }

    /// A layer whose slope intervals are all at most this wide is merged at their midpoints
    /// (the spread goes into the slack): as the region shrinks, smooth activations' intervals
    /// shrink to points and the chain to J(x₀).
    static let mergeWidth = 1e-6

    /// The chain as a network (ReLU placeholders: the per-neuron intervals live in `hidden`).
    var network: FeedforwardNetwork {
        var layers = hidden.map { Layer(weight: .dense($0.weight), bias: Array(repeating: 0, count: $0.width), activation: .relu) }
        layers.append(Layer(weight: .dense(output), bias: Array(repeating: 0, count: output.rows), activation: .identity))
        return FeedforwardNetwork(name: "local chain", inputSize: inputSize, layers: layers)
    }

    /// Per-neuron intervals in the LMI's coordinate order.
    var intervals: [SlopeInterval] {
        hidden.flatMap { h in zip(h.alpha, h.beta).map { SlopeInterval(alpha: $0, beta: $1) } }
    }

    /// The ECLipsE chain with these per-neuron intervals.
    var layerChain: LayerChain {
        var chain = LayerChain(network)
        for k in hidden.indices { chain.hidden[k].alpha = hidden[k].alpha; chain.hidden[k].beta = hidden[k].beta }
        return chain
    }

    /// ‖W_L‖₂ ∏ₖ ‖diag(mₖ)Wₖ‖₂, certified: the naive product of the chain (add `networkBound`'s slack for the network).
    func naiveProduct() throws -> Double {
        var product = try LinearAlgebra.spectralNorm(output)
        var operations = 2 * (output.rows + output.columns) + 2
        for h in hidden {
            product *= try LinearAlgebra.spectralNorm(h.weight.scalingRows(by: zip(h.alpha, h.beta).map { max(abs($0), abs($1)) }))
            operations += 2 * (h.weight.rows + h.weight.columns) + 2
        }
        return RoundingMargin.inflate(product, operations: operations)
    }

    /// `value` (a certified bound of the chain) plus the merge slack, rounded up.
    func networkBound(_ value: Double) -> Double {
        slack == 0 ? value : (value + slack) * (1 + 4 * Double.ulpOfOne)
    }

    /// What the result's details say about the reduction.
    var details: [String: JSONValue] {
        ["deleted_neurons": .number(Double(deleted)), "merged_neurons": .number(Double(merged)),
         "chain_widths": .numbers(([inputSize] + hidden.map(\.width) + [output.rows]).map(Double.init)),
         "merge_slack": .number(slack)]
    }

    static func gamma(_ n: Int) -> Double {
        let nu = Double(n) * Double.ulpOfOne / 2
        return nu / (1 - nu)
    }
    static func absolute(_ m: Matrix) -> Matrix { Matrix(rows: m.rows, columns: m.columns, storage: m.storage.map(abs)) }
    static func plus(_ m: Matrix, _ e: Matrix?) -> Matrix {
        guard let e else { return m }
        return Matrix(rows: m.rows, columns: m.columns, storage: zip(m.storage, e.storage).map { $0 + $1 })
    }
    static func selectingColumns(_ m: Matrix, _ columns: [Int]) -> Matrix {
        var out = Matrix(rows: m.rows, columns: columns.count)
        for (c, j) in columns.enumerated() { for i in 0..<m.rows { out[i, c] = m[i, j] } }
        return out
    }
}
