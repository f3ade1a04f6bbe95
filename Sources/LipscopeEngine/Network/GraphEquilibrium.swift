import LipscopeLinearAlgebra

extension EquilibriumSystem {
    /// A feedforward graph as one equilibrium: the hidden nodes (each rescaled by its β, as for a
    /// chain) stacked in topological order, so A — the edges between hidden nodes, block (k, j) =
    /// β_j W_kj — is strictly block lower triangular; B holds the edges from the input, C the
    /// edges into the (identity) output node scaled by their source's β, D its edge from the input.
    /// Exact: the unique fixed point is the forward pass.
    public init?(_ graph: NetworkGraph) {
        let net = graph.withLinearOutput
        let hidden = Array(net.nodes.dropLast())
        let slopes = hidden.map(\.activation.slopeBounds)
        guard slopes.allSatisfy({ $0.alpha >= 0 && $0.beta > 0 }) else { return nil }
        let widths = hidden.map(\.size)
        var offsets = [0]
        for w in widths { offsets.append(offsets[offsets.count - 1] + w) }
        let n = offsets[offsets.count - 1]
        var a = Matrix(rows: n, columns: n)
        var b = Matrix(rows: n, columns: net.inputSize)
        let out = net.nodes[net.nodes.count - 1]
        var c = Matrix(rows: out.size, columns: n)
        var d = Matrix(rows: out.size, columns: net.inputSize)
        func place(_ w: WeightMatrix, scale: Double, into m: inout Matrix, row r0: Int, column c0: Int) {
            switch w {
            case .dense(let dw):
                for j in 0..<dw.columns { for i in 0..<dw.rows { m[r0 + i, c0 + j] += scale * dw[i, j] } }
            case .sparse(let sw):
                for i in 0..<sw.rows {
                    for p in sw.rowStart[i]..<sw.rowStart[i + 1] { m[r0 + i, c0 + sw.columnIndex[p]] += scale * sw.values[p] }
                }
            }
        }
        for (k, node) in net.nodes.enumerated() {
            let isOutput = k == net.nodes.count - 1
            for edge in node.inputs {
                switch edge.source {
                case .input:
                    if isOutput { place(edge.weight, scale: 1, into: &d, row: 0, column: 0) }
                    else { place(edge.weight, scale: 1, into: &b, row: offsets[k], column: 0) }
                case .node(let j):
                    if isOutput { place(edge.weight, scale: slopes[j].beta, into: &c, row: 0, column: offsets[j]) }
                    else { place(edge.weight, scale: slopes[j].beta, into: &a, row: offsets[k], column: offsets[j]) }
                }
            }
        }
        A = a; B = b; C = c; D = d
        minimumSlope = slopes.map { $0.alpha / $0.beta }.min() ?? 1
    }
}
