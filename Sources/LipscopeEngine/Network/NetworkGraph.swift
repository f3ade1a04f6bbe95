import LipscopeLinearAlgebra

/// Where a graph edge reads from: the network input or an earlier node's output.
public enum GraphSource: Sendable, Equatable, Hashable {
    case input
    case node(Int)
}

/// One term W·x of a node's pre-activation, x the source's value.
public struct GraphEdge: Sendable, Equatable {
    public var source: GraphSource
    public var weight: WeightMatrix

    public init(source: GraphSource, weight: WeightMatrix) {
        self.source = source
        self.weight = weight
    }
}

/// h = σ(Σₑ Wₑ x_{source(e)} + b): an affine map of one or more earlier tensors (a residual Add is
/// two edges into one node, a Concat is edges with row-selecting weights) and a diagonal activation.
public struct GraphNode: Sendable, Equatable {
    public var name: String
    public var inputs: [GraphEdge]
    public var bias: [Double]
    public var activation: Activation

    public init(name: String, inputs: [GraphEdge], bias: [Double], activation: Activation) {
        self.name = name
        self.inputs = inputs
        self.bias = bias
        self.activation = activation
    }

    public var size: Int { bias.count }
}

/// A feedforward network whose layers form a DAG: node k reads the input and/or nodes j < k; the
/// last node is the output. A chain (every node reading only the previous one) is exactly a
/// `FeedforwardNetwork`; skip connections and branches need this form.
public struct NetworkGraph: Sendable, Equatable {
    public var name: String
    public var inputSize: Int
    public var nodes: [GraphNode]

    public init(name: String, inputSize: Int, nodes: [GraphNode]) {
        self.name = name
        self.inputSize = inputSize
        self.nodes = nodes
    }

    /// Why this is not a valid graph (sizes, sources in topological order), or nil.
    public var problem: String? {
        if nodes.isEmpty { return "no nodes" }
        for (k, node) in nodes.enumerated() {
            if node.inputs.isEmpty { return "node \(k) '\(node.name)' has no inputs" }
            for (e, edge) in node.inputs.enumerated() {
                if edge.weight.rows != node.size {
                    return "node \(k) input \(e): weight has \(edge.weight.rows) rows, the node has \(node.size) (bias length)"
                }
                switch edge.source {
                case .input:
                    if edge.weight.columns != inputSize {
                        return "node \(k) input \(e): weight has \(edge.weight.columns) columns, the input has \(inputSize)"
                    }
                case .node(let j):
                    guard j >= 0, j < k else { return "node \(k) input \(e) reads node \(j): only earlier nodes can be read" }
                    if edge.weight.columns != nodes[j].size {
                        return "node \(k) input \(e): weight has \(edge.weight.columns) columns, node \(j) has \(nodes[j].size)"
                    }
                }
            }
        }
        return nil
    }

    public var outputSize: Int { nodes.last?.size ?? inputSize }
    public var parameterCount: Int {
        nodes.reduce(0) { sum, node in
            sum + node.bias.count + node.inputs.reduce(0) { $0 + $1.weight.rows * $1.weight.columns }
        }
    }
    public var nonzeroCount: Int {
        nodes.reduce(0) { sum, node in sum + node.bias.count + node.inputs.reduce(0) { $0 + $1.weight.nonzeroCount } }
    }

    /// True when every node reads exactly the previous one (node 0 the input): a plain chain.
    public var isChain: Bool {
        nodes.enumerated().allSatisfy { k, node in
            node.inputs.count == 1 && node.inputs[0].source == (k == 0 ? .input : .node(k - 1))
        }
    }

    /// The chain as a feedforward network, when `isChain`.
    public var chain: FeedforwardNetwork? {
        guard isChain else { return nil }
        return FeedforwardNetwork(name: name, inputSize: inputSize,
                                  layers: nodes.map { Layer(weight: $0.inputs[0].weight, bias: $0.bias, activation: $0.activation) })
    }

    /// A feedforward network as a graph (each layer one node reading the previous one).
    public init(_ net: FeedforwardNetwork) {
        self.init(name: net.name, inputSize: net.inputSize, nodes: net.layers.enumerated().map { k, layer in
            GraphNode(name: "layer\(k + 1)", inputs: [GraphEdge(source: k == 0 ? .input : .node(k - 1), weight: layer.weight)],
                      bias: layer.bias, activation: layer.activation)
        })
    }

    /// The same function with an identity last node: a non-identity final activation becomes a
    /// hidden node followed by an identity node. Methods assume this shape.
    public var withLinearOutput: NetworkGraph {
        guard let last = nodes.last, last.activation != .identity else { return self }
        var copy = self
        copy.nodes.append(GraphNode(name: "output", inputs: [GraphEdge(source: .node(nodes.count - 1), weight: .sparse(SparseMatrix(.identity(last.size))))],
                                    bias: [Double](repeating: 0, count: last.size), activation: .identity))
        return copy
    }

    /// Hidden nodes are all nodes but the last (in the linear-output form).
    public var hiddenNeuronCount: Int { withLinearOutput.nodes.dropLast().reduce(0) { $0 + $1.size } }

    /// The graph restricted to output j (row j of every edge into the last node).
    public func restricted(toOutput j: Int) -> NetworkGraph {
        var net = withLinearOutput
        let last = net.nodes.removeLast()
        net.nodes.append(GraphNode(name: last.name, inputs: last.inputs.map {
            GraphEdge(source: $0.source, weight: .dense($0.weight.dense.selectingRows([j])))
        }, bias: [last.bias[j]], activation: .identity))
        return net
    }

    /// Every node's output for input x (the last one is the network's output).
    public func values(_ x: [Double]) -> [[Double]] {
        precondition(x.count == inputSize)
        var h: [[Double]] = []
        h.reserveCapacity(nodes.count)
        for node in nodes {
            var v = node.bias
            for edge in node.inputs {
                let term = edge.weight.apply(source(edge.source, x, h))
                for i in 0..<v.count { v[i] += term[i] }
            }
            h.append(v.map { node.activation.apply($0) })
        }
        return h
    }

    public func forward(_ x: [Double]) -> [Double] { values(x).last ?? x }

    func source(_ s: GraphSource, _ x: [Double], _ h: [[Double]]) -> [Double] {
        switch s { case .input: x; case .node(let j): h[j] }
    }

    /// Nodes each node's output feeds (edges reversed), for the backward pass.
    var consumers: [[(node: Int, edge: Int)]] {
        var out = [[(node: Int, edge: Int)]](repeating: [], count: nodes.count)
        for (k, node) in nodes.enumerated() {
            for (e, edge) in node.inputs.enumerated() { if case .node(let j) = edge.source { out[j].append((k, e)) } }
        }
        return out
    }
}
