import LipscopeLinearAlgebra

/// A loaded network: feedforward (a chain of layers), a feedforward graph (skip connections,
/// branches) or implicit.
public enum Network: Sendable, Equatable {
    case feedforward(FeedforwardNetwork)
    case implicit(ImplicitNetwork)
    case graph(NetworkGraph)

    public var name: String {
        switch self { case .feedforward(let n): n.name; case .implicit(let n): n.name; case .graph(let n): n.name }
    }
    public var kindName: String {
        switch self { case .feedforward: "feedforward"; case .implicit: "implicit"; case .graph: "graph" }
    }
    public var inputSize: Int {
        switch self { case .feedforward(let n): n.inputSize; case .implicit(let n): n.inputSize; case .graph(let n): n.inputSize }
    }
    public var outputSize: Int {
        switch self { case .feedforward(let n): n.outputSize; case .implicit(let n): n.outputSize; case .graph(let n): n.outputSize }
    }
    public var parameterCount: Int {
        switch self { case .feedforward(let n): n.parameterCount; case .implicit(let n): n.parameterCount; case .graph(let n): n.parameterCount }
    }

    /// Number of neurons whose slopes the relaxations range over.
    public var hiddenNeuronCount: Int {
        switch self {
        case .feedforward(let n): n.withLinearOutput.hiddenNeuronCount
        case .implicit(let n): n.stateSize
        case .graph(let n): n.hiddenNeuronCount
        }
    }

    /// The equilibrium form, when every activation has a non-negative minimum slope.
    public var equilibriumSystem: EquilibriumSystem? {
        switch self {
        case .feedforward(let n): EquilibriumSystem(n)
        case .implicit(let n): EquilibriumSystem(n)
        case .graph(let n): EquilibriumSystem(n)
        }
    }

    /// The layers of a feedforward net, or of a graph that is a plain chain: what the methods
    /// built on layer structure (LipSDP, ECLipsE, LiPopt, relaxed-exact, exact, local bounds) use.
    public var layerChain: FeedforwardNetwork? {
        switch self {
        case .feedforward(let n): n
        case .graph(let g): g.chain
        case .implicit: nil
        }
    }

    /// Why a method built on layer structure does not run on this network (nil when it has a chain).
    public func chainRefusal(_ method: String) -> String? {
        switch self {
        case .feedforward: nil
        case .graph(let g): g.isChain ? nil : "\(method) needs a chain of layers; this graph has skip connections or branches (for graphs use implicit-sdp, contraction-weighted, naive or sampling)"
        case .implicit: "\(method) is for feedforward networks"
        }
    }

    public func forward(_ x: [Double]) -> [Double] {
        switch self {
        case .feedforward(let n): n.forward(x)
        case .implicit(let n): n.forward(x).output
        case .graph(let n): n.forward(x)
        }
    }

    /// A hidden activation that is not piecewise linear (tanh, sigmoid, ELU, …): there ‖J(x)‖
    /// varies smoothly and gradient ascent improves a sampled lower bound.
    public var hasSmoothActivation: Bool {
        switch self {
        case .feedforward(let n): n.layers.contains { !$0.activation.isPiecewiseLinear }
        case .implicit(let n): !n.activation.isPiecewiseLinear
        case .graph(let g): g.nodes.contains { !$0.activation.isPiecewiseLinear }
        }
    }

    public func jacobian(at x: [Double]) -> Matrix? {
        switch self {
        case .feedforward(let n): n.jacobian(at: x)
        case .implicit(let n): n.jacobian(at: x)
        case .graph(let n): n.jacobian(at: x)
        }
    }
}
