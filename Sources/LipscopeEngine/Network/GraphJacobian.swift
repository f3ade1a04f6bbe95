import LipscopeLinearAlgebra

extension NetworkGraph {
    /// Pre-activations and slopes of every node at x; nil when one sits on a kink (there the
    /// Jacobian does not exist and a one-sided choice would not be a valid lower bound).
    func slopes(at x: [Double]) -> [[Double]]? {
        var h: [[Double]] = []
        var s: [[Double]] = []
        h.reserveCapacity(nodes.count)
        s.reserveCapacity(nodes.count)
        for node in nodes {
            var v = node.bias
            for edge in node.inputs {
                let term = edge.weight.apply(source(edge.source, x, h))
                for i in 0..<v.count { v[i] += term[i] }
            }
            if v.contains(where: { node.activation.isKink($0) }) { return nil }
            s.append(v.map { node.activation.derivative($0) })
            h.append(v.map { node.activation.apply($0) })
        }
        return s
    }

    /// The true Jacobian at x, or nil on a kink. Reverse mode: the running adjoints have as many
    /// rows as the network has outputs, and every edge is one (outputs × rows) · W product, sparse
    /// when W is (convolutions stay their Toeplitz structure).
    public func jacobian(at x: [Double]) -> Matrix? {
        guard let s = slopes(at: x) else { return nil }
        return Self.backward(nodes: nodes, inputSize: inputSize, slopes: s)
    }

    /// Σ over paths input → output of diag(s) W products, accumulated node by node from the output.
    static func backward(nodes: [GraphNode], inputSize: Int, slopes s: [[Double]]) -> Matrix {
        let m = nodes[nodes.count - 1].size
        var adjoint = [Matrix?](repeating: nil, count: nodes.count)
        adjoint[nodes.count - 1] = .identity(m)
        var result = Matrix(rows: m, columns: inputSize)
        for k in stride(from: nodes.count - 1, through: 0, by: -1) {
            guard let g = adjoint[k] else { continue }  // node k does not reach the output
            let gs = g.scalingColumns(by: s[k])
            for edge in nodes[k].inputs {
                let term = Self.times(gs, edge.weight)
                switch edge.source {
                case .input: result = result + term
                case .node(let j): adjoint[j] = adjoint[j].map { $0 + term } ?? term
                }
            }
        }
        return result
    }

    /// G · W for a dense G with few rows: BLAS for dense W, one pass over the non-zeros for sparse W.
    static func times(_ g: Matrix, _ w: WeightMatrix) -> Matrix {
        switch w {
        case .dense(let d): return g * d
        case .sparse(let sp):
            let m = g.rows
            var out = Matrix(rows: m, columns: sp.columns)
            g.storage.withUnsafeBufferPointer { gb in
                out.storage.withUnsafeMutableBufferPointer { ob in
                    for r in 0..<sp.rows {
                        for p in sp.rowStart[r]..<sp.rowStart[r + 1] {
                            let v = sp.values[p], c = sp.columnIndex[p]
                            for i in 0..<m { ob[i + c * m] += v * gb[i + r * m] }
                        }
                    }
                }
            }
            return out
        }
    }
}

extension NetworkGraph {
    /// The true Jacobians at many inputs at once (nil entries on a kink), as `jacobian(at:)`
    /// gives them one by one: the forward pass is one product per edge for the whole batch, and
    /// the backward pass stacks the inputs' adjoints (row b·m + r: output r of input b), so each
    /// nonzero of a sparse edge is read once per batch instead of once per input.
    public func jacobians(at inputs: [[Double]]) -> [Matrix?] {
        let batch = inputs.count
        if batch == 0 { return [] }
        if batch == 1 { return [jacobian(at: inputs[0])] }
        let x = Matrix(rows: inputSize, columns: batch, storage: inputs.flatMap { $0 })
        var onKink = [Bool](repeating: false, count: batch)
        var h: [Matrix] = []      // node outputs, size × batch column-major
        var slopes: [[Double]] = []
        h.reserveCapacity(nodes.count)
        slopes.reserveCapacity(nodes.count)
        for node in nodes {
            var v: Matrix? = nil
            for edge in node.inputs {
                let from: Matrix
                switch edge.source { case .input: from = x; case .node(let j): from = h[j] }
                let term = edge.weight.times(from)
                v = v.map { $0 + term } ?? term
            }
            var out = v!
            let s = node.activation.applyToBatch(&out, bias: node.bias, onKink: &onKink)
            h.append(out)
            slopes.append(s)
        }
        let m = nodes[nodes.count - 1].size
        let stackedRows = batch * m
        var adjoint = [Matrix?](repeating: nil, count: nodes.count)
        var seed = Matrix(rows: stackedRows, columns: m)
        for b in 0..<batch { for r in 0..<m { seed[b * m + r, r] = 1 } }
        adjoint[nodes.count - 1] = seed
        var result: Matrix? = nil
        for k in stride(from: nodes.count - 1, through: 0, by: -1) {
            guard var g = adjoint[k] else { continue }
            adjoint[k] = nil
            StackedJacobians.scaleColumns(&g, by: slopes[k], batch: batch, outputs: m)
            for edge in nodes[k].inputs {
                let term = edge.weight.leftMultiplied(by: g)
                switch edge.source {
                case .input: result = result.map { $0 + term } ?? term
                case .node(let j): adjoint[j] = adjoint[j].map { $0 + term } ?? term
                }
            }
        }
        let full = result ?? Matrix(rows: stackedRows, columns: inputSize)
        return StackedJacobians.unstack(full, batch: batch, outputs: m, onKink: onKink)
    }
}
