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
