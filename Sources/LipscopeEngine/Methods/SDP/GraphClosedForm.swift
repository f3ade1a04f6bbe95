import Foundation
import LipscopeLinearAlgebra

/// A feasible point of the implicit-sdp LMI of a feedforward graph too large for an SDP solver
/// (resnet_2b: 6 244 states + 3 072 inputs): ECLipsE-Fast's closed form carried from a chain to
/// a DAG. With one multiplier per node, Λ = diag(λ_k I), and g = 1, the LMI
///
///     [[g I, −BᵀΛ], [−ΛB, 2Λ − ΛA − AᵀΛ − s CᵀC]] ⪰ 0
///
/// is reduced by block Schur complements in topological order (input first). Every entry in
/// node k's row is λ_k times terms of already eliminated nodes, so when k's turn comes its
/// diagonal block is 2λ_k I − λ_k² G_k with G_k ⪰ 0 known: λ_k = 1/λ_max(G_k) keeps the pivot
/// ⪰ λ_k I (ECLipsE-Fast's choice). The last node, which alone feeds the output, takes the λ
/// minimizing ‖C(2λI − λ²G)^{-1/2}‖ and gives L² = g/s. Only the blocks of edges (and their
/// fill, which stays inside the DAG's neighbourhoods) are formed, each at most a node's size.
/// The point is then certified on the whole LMI (`LMICertifier`) like any solver's.
struct GraphClosedForm {
    /// Why the closed form does not apply to this graph, or nil.
    static func refusal(_ graph: NetworkGraph) -> String? {
        graph.withLinearOutput.nodes.count < 2 ? "no hidden node" : nil
    }

    /// The graph with its output fed by one hidden node: when the output reads several tensors
    /// (a residual Add just before it) or the input, their sum becomes an identity node. Its
    /// slope 1 lies in the LMI's [0, 1], so the LMI of the new graph is a valid (relaxed)
    /// constraint set for the same function, and the closed form needs only the last node.
    static func withSingleOutputNode(_ graph: NetworkGraph) -> NetworkGraph {
        var net = graph.withLinearOutput
        guard let out = net.nodes.last else { return net }
        let last = net.nodes.count - 2
        if last >= 0, out.inputs.count == 1, out.inputs[0].source == .node(last) { return net }
        let sum = GraphNode(name: "\(out.name)_sum", inputs: out.inputs, bias: out.bias, activation: .identity)
        let m = out.size
        var identity = Matrix(rows: m, columns: m)
        for i in 0..<m { identity[i, i] = 1 }
        net.nodes[net.nodes.count - 1] = sum
        net.nodes.append(GraphNode(name: out.name, inputs: [GraphEdge(source: .node(net.nodes.count - 1), weight: .dense(identity))],
                                   bias: [Double](repeating: 0, count: m), activation: .identity))
        return net
    }

    struct Point {
        /// Per hidden node (of the β-rescaled equilibrium), scaled so that g = `inputTerm`.
        var nodeMultipliers: [Double]
        /// The same, one per state (the LMI's neuron multipliers).
        var stateMultipliers: [Double]
        /// g with s = 1: the closed form's L².
        var inputTerm: Double
    }

    /// The closed-form point for the equilibrium `system` of `graph` (offsets of its nodes'
    /// states), or nil when a pivot fails (then the LMI is not reached this way).
    static func point(_ system: EquilibriumSystem, graph: NetworkGraph, isCancelled: () -> Bool = { false }) throws -> Point? {
        let net = graph.withLinearOutput
        let hidden = Array(net.nodes.dropLast())
        let widths = hidden.map(\.size)
        var offsets = [0]
        for w in widths { offsets.append(offsets.last! + w) }
        let count = hidden.count
        func block(_ m: Matrix, rows i: Int, columns range: Range<Int>) -> Matrix {
            var b = Matrix(rows: widths[i], columns: range.count)
            for (c, j) in range.enumerated() { for r in 0..<widths[i] { b[r, c] = m[offsets[i] + r, j] } }
            return b
        }
        // Coupling of node i to earlier node j (or the input, key −1) in the LMI, over λ_i:
        // the original −A_ij (−B_i); `p` holds fill P_ij (over λ_i λ_j) and P_ii (over λ_i²).
        var e: [Int: [Int: Matrix]] = [:]
        var p: [Int: [Int: Matrix]] = [:]
        for i in 0..<count {
            for edge in hidden[i].inputs {
                switch edge.source {
                case .input: e[i, default: [:]][-1] = -1 * block(system.B, rows: i, columns: 0..<system.B.columns)
                case .node(let j): e[i, default: [:]][j] = -1 * block(system.A, rows: i, columns: offsets[j]..<offsets[j + 1])
                }
            }
        }
        // Eliminate the input (pivot g I, g = 1): H_i = E_i,input.
        var lambda = [Double](repeating: 0, count: count)
        func eliminate(pivotFactor l: Matrix?, couplings h: [Int: Matrix]) {
            // Z_i = H_ik L⁻ᵀ; P_ij −= Z_i Z_jᵀ for every pair of later neighbours i ≥ j.
            var z: [Int: Matrix] = [:]
            for (i, hi) in h {
                var zi = hi
                if let l { zi.storage.withUnsafeMutableBufferPointer { zb in
                    l.storage.withUnsafeBufferPointer { lb in
                        BlasKernels.solveRightLowerTransposed(lb.baseAddress!, n: l.rows, zb.baseAddress!, rows: zi.rows)
                    }
                } }
                z[i] = zi
            }
            for (i, zi) in z {
                for (j, zj) in z where j <= i {
                    let update = zi * zj.transposed
                    p[i, default: [:]][j] = (p[i]?[j]).map { $0 - update } ?? -1 * update
                }
            }
        }
        var inputCouplings: [Int: Matrix] = [:]
        for i in 0..<count { if let b = e[i]?[-1] { inputCouplings[i] = b } }
        eliminate(pivotFactor: nil, couplings: inputCouplings)
        // Every node but the last (which alone feeds the output, handled below).
        for k in 0..<(count - 1) {
            if isCancelled() { return nil }
            let g = (p[k]?[k]).map { -1 * $0 } ?? Matrix(rows: widths[k], columns: widths[k])
            let mu = try LinearAlgebra.symmetricEigenvalues(g).last ?? 0
            lambda[k] = mu > 0 ? 1 / mu : 1
            let lk = lambda[k]
            var pivot = Matrix.identity(widths[k]).storage.map { 2 * lk * $0 }
            for (idx, v) in g.storage.enumerated() { pivot[idx] -= lk * lk * v }
            let pivotMatrix = Matrix(rows: widths[k], columns: widths[k], storage: pivot)
            guard let factor = LinearAlgebra.cholesky(pivotMatrix) else { return nil }
            // Couplings of later nodes to k: H_ik = λ_k P_ik + E_ik.
            var h: [Int: Matrix] = [:]
            for i in (k + 1)..<count {
                let fill = p[i]?[k]
                let original = e[i]?[k]
                switch (fill, original) {
                case (nil, nil): continue
                case (let f?, nil): h[i] = lk * f
                case (nil, let o?): h[i] = o
                case (let f?, let o?): h[i] = lk * f + o
                }
            }
            eliminate(pivotFactor: factor, couplings: h)
            p[k] = nil
        }
        // L² for g = 1 is f(λ_last) = λ_max(C S⁻¹ Cᵀ); the LMI holds with s = 1/f, i.e. with
        // every multiplier times f and g = f.
        let lastIndex = count - 1
        let gLast = (p[lastIndex]?[lastIndex]).map { -1 * $0 } ?? Matrix(rows: widths[lastIndex], columns: widths[lastIndex])
        let c = block(system.C.transposed, rows: lastIndex, columns: 0..<system.C.rows).transposed
        let (lastLambda, f) = try lastMultiplier(gLast, output: c)
        lambda[lastIndex] = lastLambda
        guard f.isFinite, f > 0 else { return nil }
        let nodes = lambda.map { $0 * f }
        let states = (0..<count).flatMap { [Double](repeating: nodes[$0], count: widths[$0]) }
        return Point(nodeMultipliers: nodes, stateMultipliers: states, inputTerm: f)
    }

    /// λ_max(C (2λI − λ²G)⁻¹ Cᵀ) from G = V diag(values) Vᵀ and cv = CV; ∞ when the pivot is
    /// not positive definite.
    private static func gain(values: [Double], cv: Matrix, lambda: Double) throws -> Double {
        var scaled = cv
        for (j, sigma) in values.enumerated() {
            let d = 2 * lambda - lambda * lambda * sigma
            guard d > 0 else { return .infinity }
            let s = 1 / d.squareRoot()
            for i in 0..<scaled.rows { scaled[i, j] *= s }
        }
        let norm = try LinearAlgebra.spectralNormSmallSide(scaled)
        return norm * norm
    }

    /// The last node's λ and its output gain f(λ): a golden-section search over
    /// λ·λ_max(G) ∈ (0, 2) on one eigen-decomposition of G.
    static func lastMultiplier(_ g: Matrix, output c: Matrix) throws -> (lambda: Double, gain: Double) {
        let (values, vectors) = try LinearAlgebra.symmetricEigen(g)
        let cv = c * vectors
        let mu = values.last ?? 0
        guard mu > 0 else { return (1, try gain(values: values, cv: cv, lambda: 1)) }
        func f(_ t: Double) -> Double { (try? gain(values: values, cv: cv, lambda: t / mu)) ?? .infinity }
        var a = 1e-3, b = 2 - 1e-9
        let r = (5.0.squareRoot() - 1) / 2
        var x1 = b - r * (b - a), x2 = a + r * (b - a)
        var f1 = f(x1), f2 = f(x2)
        for _ in 0..<60 {
            if f1 <= f2 { b = x2; x2 = x1; f2 = f1; x1 = b - r * (b - a); f1 = f(x1) }
            else { a = x1; x1 = x2; f1 = f2; x2 = a + r * (b - a); f2 = f(x2) }
        }
        return f1 <= f2 ? (x1 / mu, f1) : (x2 / mu, f2)
    }
}
