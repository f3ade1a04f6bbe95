import Foundation

/// Per hidden neuron, an interval [α, β] holding every difference quotient
/// (σ(a) − σ(b))/(a − b) for a, b in the neuron's pre-activation range over a region: the
/// local counterpart of `Activation.slopeBounds`. ReLU: stably active [1, 1], stably inactive
/// [0, 0], unstable [0, 1] (leaky: [a, 1]); smooth ones: [min σ', max σ'] over [l, u], whose
/// extremes are at l, u or a zero of σ'' inside (`SmoothActivation.slopeRange`).
public struct SlopeIntervals: Sendable, Equatable {
    public struct Interval: Sendable, Equatable {
        public var alpha: Double
        public var beta: Double
        public init(alpha: Double, beta: Double) { self.alpha = alpha; self.beta = beta }
        /// The largest |slope|: the per-neuron factor of a layer-norm bound.
        public var magnitude: Double { max(abs(alpha), abs(beta)) }
        public var isFixed: Bool { alpha == beta }
    }

    /// hidden[k][i]: neuron i of hidden layer k.
    public var hidden: [[Interval]]

    public init(hidden: [[Interval]]) { self.hidden = hidden }

    /// The global slope box (no region): every neuron gets its activation's interval.
    public init(global net: FeedforwardNetwork) {
        hidden = net.withLinearOutput.hiddenLayers.map { layer in
            let (a, b) = layer.activation.slopeBounds
            return Array(repeating: Interval(alpha: a, beta: b), count: layer.outputSize)
        }
    }

    public var unstableCount: Int { hidden.reduce(0) { $0 + $1.filter { !$0.isFixed }.count } }

    public static func interval(_ act: Activation, lower l: Double, upper u: Double) -> Interval {
        switch act {
        case .identity: return Interval(alpha: 1, beta: 1)
        case .relu:
            if l >= 0 { return Interval(alpha: 1, beta: 1) }
            if u <= 0 { return Interval(alpha: 0, beta: 0) }
            return Interval(alpha: 0, beta: 1)
        case .leakyRelu(let a):
            if l >= 0 { return Interval(alpha: 1, beta: 1) }
            if u <= 0 { return Interval(alpha: a, beta: a) }
            return Interval(alpha: min(a, 1), beta: max(a, 1))
        case .tanh, .sigmoid, .elu, .softplus, .gelu, .silu:
            // [min σ', max σ'] over [l, u]: the ends and the zeros of σ'' inside (monotone-σ'
            // activations like softplus give [σ'(l), σ'(u)]), padded outward.
            let (a, b) = SmoothActivation.slopeRange(act, lower: l, upper: u)
            return Interval(alpha: a, beta: b)
        }
    }
}
