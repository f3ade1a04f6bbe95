import LipscopeLinearAlgebra

/// z = ψ(A z + B u + b), y = C z + D u with ψ diagonal and every slope in [minimumSlope, 1],
/// minimumSlope ≥ 0. The common form behind the contraction and implicit-SDP bounds: an implicit
/// network with its activation rescaled to slopes ≤ 1, or a feedforward net with A strictly
/// block lower triangular.
public struct EquilibriumSystem: Sendable {
    public var A: Matrix
    public var B: Matrix
    public var C: Matrix
    public var D: Matrix
    public var minimumSlope: Double

    public var stateSize: Int { A.rows }

    /// From x = σ(Ax + Bu + b) with σ slopes in [α, β]: z = x/β satisfies
    /// z = (σ/β)(βA z + Bu + b) and y = βC z + Du, with slopes of σ/β in [α/β, 1].
    public init?(_ net: ImplicitNetwork) {
        let (alpha, beta) = net.activation.slopeBounds
        guard alpha >= 0, beta > 0 else { return nil }
        A = beta * net.A
        B = net.B
        C = beta * net.C
        D = net.D
        minimumSlope = alpha / beta
    }

    /// Stacks the hidden states of a feedforward net (each layer rescaled by its β) into one
    /// equilibrium: A has blocks β_{k−1} W_k below the diagonal, B = [W₁; 0], C = [0 … β_{L−1} W_L].
    public init?(_ network: FeedforwardNetwork) {
        let net = network.withLinearOutput
        let hidden = Array(net.hiddenLayers)
        let slopes = hidden.map(\.activation.slopeBounds)
        guard slopes.allSatisfy({ $0.alpha >= 0 && $0.beta > 0 }) else { return nil }
        let widths = hidden.map(\.outputSize)
        let n = widths.reduce(0, +)
        let offsets = widths.indices.map { widths[..<$0].reduce(0, +) }
        var a = Matrix(rows: n, columns: n)
        var b = Matrix(rows: n, columns: net.inputSize)
        var c = Matrix(rows: net.outputSize, columns: n)
        if hidden.isEmpty {  // an affine map: y = D u
            A = a; B = b; C = c; D = net.layers[0].weight.dense; minimumSlope = 1
            return
        }
        let w1 = hidden[0].weight.dense
        for j in 0..<w1.columns { for i in 0..<w1.rows { b[i, j] = w1[i, j] } }
        for k in 1..<hidden.count {
            let w = hidden[k].weight.dense
            let scale = slopes[k - 1].beta
            for j in 0..<w.columns { for i in 0..<w.rows { a[offsets[k] + i, offsets[k - 1] + j] = scale * w[i, j] } }
        }
        let last = net.layers[net.layers.count - 1].weight.dense
        let scale = slopes[slopes.count - 1].beta
        for j in 0..<last.columns { for i in 0..<last.rows { c[i, offsets[hidden.count - 1] + j] = scale * last[i, j] } }
        A = a; B = b; C = c
        D = Matrix(rows: net.outputSize, columns: net.inputSize)
        minimumSlope = slopes.map { $0.alpha / $0.beta }.min() ?? 1
    }

    /// Restricts the output to row j.
    public func restricted(toOutput j: Int) -> EquilibriumSystem {
        var copy = self
        copy.C = C.selectingRows([j])
        copy.D = D.selectingRows([j])
        return copy
    }
}
