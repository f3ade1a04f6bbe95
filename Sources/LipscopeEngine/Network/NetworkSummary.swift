/// What `info` and the workbench's network pane show about a network.
public struct NetworkSummary: Sendable, Codable, Equatable {
    public var name: String
    public var kind: String
    /// Feedforward: sizes from input to output. Implicit: [inputs, states, outputs].
    public var sizes: [Int]
    public var activations: [String]
    public var parameters: Int
    public var nonzeros: Int
    public var sparseLayers: Int
    public var hiddenNeurons: Int
    /// Implicit nets (and feedforward nets in equilibrium form): μ∞(A) and inf over η of μ_η(A).
    public var muInf: Double?
    public var bestWeightedMu: Double?
    public var wellPosed: Bool?
    public var notes: [String]
    /// Graphs only: every node with its inputs and size, in topological order (the last is the output).
    public var graph: [GraphNodeSummary]?

    public init(_ network: Network) {
        name = network.name
        kind = network.kindName
        parameters = network.parameterCount
        hiddenNeurons = network.hiddenNeuronCount
        notes = []
        switch network {
        case .feedforward(let net):
            sizes = net.architecture
            activations = net.layers.map { layer in
                if case .leakyRelu(let s) = layer.activation { return "leaky_relu(\(s))" }
                return layer.activation.name
            }
            nonzeros = net.layers.reduce(0) { $0 + $1.weight.nonzeroCount + $1.bias.count }
            sparseLayers = net.layers.filter(\.weight.isSparse).count
            notes += net.annotations.notes
            if net.inputNormalization != nil {
                notes.append("NNet input normalization present: bounds are for the network as stored, on normalized inputs")
            }
        case .graph(let net):
            sizes = [net.inputSize] + net.nodes.map(\.size)
            activations = net.nodes.map { node in
                if case .leakyRelu(let s) = node.activation { return "leaky_relu(\(s))" }
                return node.activation.name
            }
            nonzeros = net.nonzeroCount
            sparseLayers = net.nodes.reduce(0) { $0 + $1.inputs.filter(\.weight.isSparse).count }
            graph = net.nodes.map(GraphNodeSummary.init)
            notes.append("graph: \(net.nodes.count) nodes, \(net.nodes.reduce(0) { $0 + $1.inputs.count }) edges\(net.isChain ? " (a chain)" : ""); sizes are the input's and each node's; sparse layers count sparse edges")
        case .implicit(let net):
            sizes = [net.inputSize, net.stateSize, net.outputSize]
            activations = [net.activation.name]
            nonzeros = [net.A, net.B, net.C, net.D].reduce(net.bias.count) { $0 + $1.nonzeroCount }
            sparseLayers = 0
        }
        if case .implicit = network, let system = network.equilibriumSystem,
           let analysis = try? ContractionAnalysis(system) {
            muInf = analysis.plainMeasure
            bestWeightedMu = analysis.metzlerAbscissa
            wellPosed = analysis.metzlerAbscissa < 1 ? true : nil
            if analysis.metzlerAbscissa >= 1 {
                notes.append("no diagonal weighting makes the ℓ∞ measure < 1; well-posedness is undecided by contraction")
            }
        }
    }
}

/// One node of a graph as `info` shows it.
public struct GraphNodeSummary: Sendable, Codable, Equatable {
    public var name: String
    public var size: Int
    public var activation: String
    /// "input" or the index of an earlier node, one per edge.
    public var inputs: [String]

    public init(_ node: GraphNode) {
        name = node.name
        size = node.size
        activation = node.activation.name
        inputs = node.inputs.map { edge in
            switch edge.source { case .input: "input"; case .node(let j): "\(j)" }
        }
    }
}
