import Foundation

/// An elementwise activation with its slope interval [α, β]: α ≤ (σ(a) − σ(b))/(a − b) ≤ β.
/// Every bound method works with this interval only; forward passes use the function itself.
public enum Activation: Sendable, Equatable, Hashable {
    case relu
    case leakyRelu(slope: Double)
    case tanh
    case sigmoid
    case identity

    /// The names used by the network JSON format.
    public static let names = ["relu", "leaky_relu", "tanh", "sigmoid", "identity"]

    public var name: String {
        switch self {
        case .relu: "relu"
        case .leakyRelu: "leaky_relu"
        case .tanh: "tanh"
        case .sigmoid: "sigmoid"
        case .identity: "identity"
        }
    }

    public var slopeBounds: (alpha: Double, beta: Double) {
        switch self {
        case .relu: (0, 1)
        case .leakyRelu(let a): (min(a, 1), max(a, 1))
        case .tanh: (0, 1)
        case .sigmoid: (0, 0.25)
        case .identity: (1, 1)
        }
    }

    /// Piecewise linear activations have Jacobians only at slope-interval endpoints.
    public var isPiecewiseLinear: Bool {
        switch self {
        case .relu, .leakyRelu, .identity: true
        case .tanh, .sigmoid: false
        }
    }

    @inline(__always)
    public func apply(_ x: Double) -> Double {
        switch self {
        case .relu: return x > 0 ? x : 0
        case .leakyRelu(let a): return x > 0 ? x : a * x
        case .tanh: return Foundation.tanh(x)
        case .sigmoid: return 1 / (1 + exp(-x))
        case .identity: return x
        }
    }

    /// The derivative; at a kink of a piecewise linear activation the right derivative.
    @inline(__always)
    public func derivative(_ x: Double) -> Double {
        switch self {
        case .relu: return x > 0 ? 1 : 0
        case .leakyRelu(let a): return x > 0 ? 1 : a
        case .tanh: let t = Foundation.tanh(x); return 1 - t * t
        case .sigmoid: let s = 1 / (1 + exp(-x)); return s * (1 - s)
        case .identity: return 1
        }
    }

    /// True when `x` sits on a kink, where the Jacobian is not defined.
    @inline(__always)
    public func isKink(_ x: Double) -> Bool {
        switch self {
        case .relu, .leakyRelu: x == 0
        default: false
        }
    }
}
