import Foundation
import LipscopeLinearAlgebra
import ONNXProto

/// ONNX graphs that are not a chain: skip connections (an `Add`/`Sub` of two computed tensors),
/// branches, `Concat`. The chain importer (ONNXFormat.Tracer) hands over when it meets one.
///
/// Every computed tensor is kept as an affine expression Σₛ Lₛ hₛ + c over the *sources* — the
/// network input and the outputs of the activation nodes created so far. An affine op maps the
/// expression (each Lₛ and c) through the op's exact matrix, computed by the chain importer's own
/// lowering (Conv → sparse Toeplitz, Gemm, BatchNormalization, Pad, Reshape, …); an `Add` of two
/// computed tensors adds expressions; an activation closes the expression into a graph node.
/// Nothing is approximated: the graph computes the ONNX function exactly.
enum ONNXGraphImport {
    /// Thrown by the chain importer at the first node that is not on a chain.
    struct Branch: Error {
        let error: InputError
    }

    /// An affine expression over earlier sources, with the tensor's shape (batch 1).
    struct Expression {
        var shape: [Int]
        var terms: [(source: GraphSource, map: ONNXFormat.Sparse)]
        var offset: [Double]

        var count: Int { offset.count }

        /// L · self + bias.
        func mapped(_ l: ONNXFormat.Sparse, bias: [Double]?, shape newShape: [Int]) -> Expression {
            var c = l.apply(offset)
            if let bias { for i in c.indices { c[i] += bias[i] } }
            return Expression(shape: newShape, terms: terms.map { ($0.source, l.times($0.map)) }, offset: c)
        }

        /// self + sign · other (same number of values).
        func adding(_ other: Expression, sign: Double) -> Expression {
            var out = self
            for (source, map) in other.terms {
                let m = sign == 1 ? map : map.scaled(sign)
                if let k = out.terms.firstIndex(where: { $0.source == source }) { out.terms[k].map = out.terms[k].map.plus(m) }
                else { out.terms.append((source, m)) }
            }
            for i in out.offset.indices { out.offset[i] += sign * other.offset[i] }
            return out
        }
    }

    enum Value {
        case constant(NDArray)
        case tensor(Expression)
    }

    static func read(_ graph: Onnx_GraphProto, file: String, name: String, branch: Branch) throws -> NetworkGraph {
        var importer = try Importer(graph: graph, file: file)
        return try importer.run(name: name)
    }

    struct Importer {
        let graph: Onnx_GraphProto
        let file: String
        /// The chain importer, used only for its per-op lowering (its state is reset per node).
        var lowering: ONNXFormat.Tracer
        var tensors: [String: Expression] = [:]
        var nodes: [GraphNode] = []

        init(graph: Onnx_GraphProto, file: String) throws {
            self.graph = graph
            self.file = file
            lowering = try ONNXFormat.Tracer(graph: graph, file: file)
            let input = lowering.current
            tensors[input] = Expression(shape: lowering.shape, terms: [(.input, .identity(lowering.inputSize))],
                                        offset: [Double](repeating: 0, count: lowering.inputSize))
        }

        func fail(_ node: Onnx_NodeProto, _ index: Int, expected: String, found: String) -> InputError {
            InputError(file: file, location: ONNXFormat.Tracer.describe(node, index), expected: expected, found: found)
        }

        mutating func run(name: String) throws -> NetworkGraph {
            for (index, node) in graph.node.enumerated() { try step(node, index) }
            guard graph.output.count == 1, let output = graph.output.first else {
                throw InputError(file: file, location: "graph.output", expected: "exactly one output", found: "\(graph.output.count)")
            }
            guard let result = tensors[output.name] else {
                throw InputError(file: file, location: "graph.output", expected: "an output computed from the network input",
                                 found: "'\(output.name)'")
            }
            // The output node: the final expression, unless it is exactly the last node's output.
            let last = nodes.count - 1
            let isLastNode = result.terms.count == 1 && result.terms[0].source == .node(last) && result.offset.allSatisfy { $0 == 0 }
                && result.terms[0].map.isIdentity
            if !isLastNode { nodes.append(node(named: output.name, result, activation: .identity)) }
            return pruned(NetworkGraph(name: name, inputSize: lowering.inputSize, nodes: nodes))
        }

        func node(named name: String, _ e: Expression, activation: Activation) -> GraphNode {
            GraphNode(name: name, inputs: e.terms.map { GraphEdge(source: $0.source, weight: $0.map.weight) },
                      bias: e.offset, activation: activation)
        }

        mutating func step(_ node: Onnx_NodeProto, _ index: Int) throws {
            if node.domain != "" && node.domain != "ai.onnx" {
                throw fail(node, index, expected: "an operator of the standard ONNX domain", found: "domain '\(node.domain)'")
            }
            let attrs = ONNXFormat.Attributes(node: node, index: index, file: file)
            guard let out = node.output.first, !out.isEmpty else { throw fail(node, index, expected: "an output name", found: "none") }
            if node.opType == "Constant" {
                lowering.slots[out] = .constant(try attrs.constantValue())
                return
            }
            var computed: [Int] = []
            var constants: [Int: NDArray] = [:]
            for (k, input) in node.input.enumerated() where !input.isEmpty {
                if tensors[input] != nil { computed.append(k) }
                else if case .constant(let c) = lowering.slots[input] { constants[k] = c }
                else { throw fail(node, index, expected: "inputs defined earlier in the graph", found: "unknown tensor '\(input)'") }
            }
            if computed.isEmpty {
                throw fail(node, index, expected: "a node on the network's data path (constant subgraphs are not evaluated)", found: "only constant inputs")
            }
            switch node.opType {
            // (`where` binds to each pattern separately: an Add of a computed tensor and a
            // constant is affine and goes to `lowered` below.)
            case "Add" where computed.count == 2, "Sub" where computed.count == 2:
                let a = tensors[node.input[0]]!, b = tensors[node.input[1]]!
                guard let shape = Self.commonShape(a.shape, b.shape) else {
                    throw fail(node, index, expected: "two computed tensors of the same shape", found: "shapes \(a.shape) and \(b.shape)")
                }
                var sum = a.adding(b, sign: node.opType == "Add" ? 1 : -1)
                sum.shape = shape
                tensors[out] = sum
            case "Concat":
                tensors[out] = try concat(attrs, computed: computed, constants: constants, node, index)
            default:
                guard computed.count == 1 else {
                    throw fail(node, index, expected: "one computed input (two only for Add, Sub, Concat)",
                               found: "\(computed.count) computed inputs to \(node.opType), which is not affine in them")
                }
                tensors[out] = try lowered(attrs, data: computed[0], constants: constants, node, index)
            }
        }

        /// One single-input op through the chain importer's lowering, started afresh on the
        /// input's shape: whatever layers it closes (an activation, or an op written as a small
        /// ReLU subnetwork) become graph nodes, and its pending affine map maps the expression.
        mutating func lowered(_ attrs: ONNXFormat.Attributes, data: Int, constants: [Int: NDArray],
                              _ node: Onnx_NodeProto, _ index: Int) throws -> Expression {
            let input = tensors[node.input[data]]!
            lowering.shape = input.shape
            lowering.pending = nil
            lowering.offset = [Double](repeating: 0, count: input.count)
            lowering.width = input.count
            lowering.layers = []
            lowering.current = node.input[data]
            try lowering.apply(attrs, ONNXFormat.Tracer.NodeInputs(node: node, index: index, file: file, data: data, constants: constants))
            var e = input
            for (k, layer) in lowering.layers.enumerated() {
                let pre: Expression
                switch layer.weight {
                case .sparse(let s):
                    pre = e.mapped(ONNXFormat.Sparse(rows: s.rows, columns: s.columns, rowStart: s.rowStart, cols: s.columnIndex, vals: s.values),
                                   bias: layer.bias, shape: [layer.outputSize])
                case .dense(let d):
                    pre = e.mapped(ONNXFormat.Sparse.dense(d), bias: layer.bias, shape: [layer.outputSize])
                }
                let name = lowering.layers.count == 1 ? (node.output.first ?? node.name) : "\(node.output.first ?? node.name)#\(k)"
                nodes.append(self.node(named: name, pre, activation: layer.activation))
                e = Expression(shape: [layer.outputSize], terms: [(.node(nodes.count - 1), .identity(layer.outputSize))],
                               offset: [Double](repeating: 0, count: layer.outputSize))
            }
            if lowering.layers.isEmpty && lowering.pending == nil {
                e.shape = lowering.shape
                for i in e.offset.indices { e.offset[i] += lowering.offset[i] }
                return e
            }
            let map = lowering.pending ?? .identity(lowering.width)
            return e.mapped(map, bias: lowering.offset, shape: lowering.shape)
        }

        /// Concat along an axis: each input placed by a 0/1 selection matrix.
        func concat(_ attrs: ONNXFormat.Attributes, computed: [Int], constants: [Int: NDArray],
                    _ node: Onnx_NodeProto, _ index: Int) throws -> Expression {
            let parts: [(shape: [Int], value: Value)] = node.input.indices.filter { !node.input[$0].isEmpty }.map { k in
                if let e = tensors[node.input[k]] { return (e.shape, .tensor(e)) }
                let c = constants[k]!
                return (c.shape, .constant(c))
            }
            let rank = parts[0].shape.count
            var axis = attrs.int("axis", 1)
            if axis < 0 { axis += rank }
            guard axis >= 0, axis < rank, parts.allSatisfy({ $0.shape.count == rank }) else {
                throw fail(node, index, expected: "inputs of one rank and an axis within it", found: "shapes \(parts.map(\.shape)), axis \(attrs.int("axis", 1))")
            }
            for p in parts where (0..<rank).contains(where: { $0 != axis && p.shape[$0] != parts[0].shape[$0] }) {
                throw fail(node, index, expected: "inputs whose shapes agree off axis \(axis)", found: "shapes \(parts.map(\.shape))")
            }
            var shape = parts[0].shape
            shape[axis] = parts.reduce(0) { $0 + $1.shape[axis] }
            let outer = shape[..<axis].reduce(1, *), inner = shape[(axis + 1)...].reduce(1, *)
            let total = shape.reduce(1, *)
            var result = Expression(shape: shape, terms: [], offset: [Double](repeating: 0, count: total))
            var start = 0
            for p in parts {
                let width = p.shape[axis], n = p.shape.reduce(1, *)
                // Output index (o, start + a, i) ← input index (o, a, i).
                var placement = [Int](repeating: -1, count: total)
                for o in 0..<outer { for a in 0..<width { for i in 0..<inner {
                    placement[(o * shape[axis] + start + a) * inner + i] = (o * width + a) * inner + i
                } } }
                let select = ONNXFormat.Sparse.build(rows: total, columns: n) { row, emit in
                    if placement[row] >= 0 { emit(placement[row], 1) }
                }
                switch p.value {
                case .tensor(let e): result = result.adding(e.mapped(select, bias: nil, shape: shape), sign: 1)
                case .constant(let c):
                    try lowering.finite(c, node, index)
                    let placed = select.apply(c.values)
                    for i in 0..<total { result.offset[i] += placed[i] }
                }
                start += width
            }
            return result
        }

        /// NumPy broadcasting restricted to equal shapes up to leading ones.
        static func commonShape(_ a: [Int], _ b: [Int]) -> [Int]? {
            let strip: ([Int]) -> ArraySlice<Int> = { s in s.drop(while: { $0 == 1 }) }
            guard strip(a) == strip(b) else { return nil }
            return a.count >= b.count ? a : b
        }

        /// Drops nodes that do not reach the output (dead branches), renumbering the sources.
        func pruned(_ net: NetworkGraph) -> NetworkGraph {
            var live = [Bool](repeating: false, count: net.nodes.count)
            live[net.nodes.count - 1] = true
            for k in stride(from: net.nodes.count - 1, through: 0, by: -1) where live[k] {
                for edge in net.nodes[k].inputs { if case .node(let j) = edge.source { live[j] = true } }
            }
            if live.allSatisfy({ $0 }) { return net }
            var newIndex = [Int](repeating: -1, count: net.nodes.count)
            var kept: [GraphNode] = []
            for (k, node) in net.nodes.enumerated() where live[k] {
                newIndex[k] = kept.count
                var n = node
                n.inputs = node.inputs.map { edge in
                    if case .node(let j) = edge.source { return GraphEdge(source: .node(newIndex[j]), weight: edge.weight) }
                    return edge
                }
                kept.append(n)
            }
            return NetworkGraph(name: net.name, inputSize: net.inputSize, nodes: kept)
        }
    }
}

extension ONNXFormat.Sparse {
    static func dense(_ m: Matrix) -> Self {
        build(rows: m.rows, columns: m.columns) { i, emit in for j in 0..<m.columns { emit(j, m[i, j]) } }
    }

    var isIdentity: Bool {
        guard rows == columns, nonzeros == rows else { return false }
        for i in 0..<rows where rowStart[i + 1] != i + 1 || cols[i] != i || vals[i] != 1 { return false }
        return true
    }

    func scaled(_ s: Double) -> Self {
        var out = self
        out.vals = vals.map { s * $0 }
        return out
    }

    /// self + other (same dimensions), row by row over the merged column patterns.
    func plus(_ other: Self) -> Self {
        Self.build(rows: rows, columns: columns) { i, emit in
            var entries: [Int: Double] = [:]
            for p in rowStart[i]..<rowStart[i + 1] { entries[cols[p], default: 0] += vals[p] }
            for p in other.rowStart[i]..<other.rowStart[i + 1] { entries[other.cols[p], default: 0] += other.vals[p] }
            for j in entries.keys.sorted() { emit(j, entries[j]!) }
        }
    }
}
