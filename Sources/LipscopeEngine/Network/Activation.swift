import Foundation

/// An elementwise activation with its slope interval [α, β]: α ≤ (σ(a) − σ(b))/(a − b) ≤ β.
/// Every bound method works with this interval only; forward passes use the function itself.
public enum Activation: Sendable, Equatable, Hashable {
    case relu
    case leakyRelu(slope: Double)
    case tanh
    case sigmoid
    case identity
    /// x for x > 0, α(eˣ − 1) otherwise (LiPopt's default activation); α ≥ 0.
    case elu(alpha: Double)
    /// log(1 + eˣ).
    case softplus
    /// x·Φ(x) with Φ the standard normal CDF (the exact, erf-based GELU).
    case gelu
    /// x·sigmoid(x) (also called swish).
    case silu

    /// The names used by the network JSON format.
    public static let names = ["relu", "leaky_relu", "tanh", "sigmoid", "identity", "elu", "softplus", "gelu", "silu"]

    public var name: String {
        switch self {
        case .relu: "relu"
        case .leakyRelu: "leaky_relu"
        case .tanh: "tanh"
        case .sigmoid: "sigmoid"
        case .identity: "identity"
        case .elu: "elu"
        case .softplus: "softplus"
        case .gelu: "gelu"
        case .silu: "silu"
        }
    }

    /// Global slope interval: [inf σ', sup σ'] over ℝ (mean value theorem). For GELU and SiLU the
    /// extremes sit at the zeros of σ'' (`SmoothActivation`), computed and rounded outward.
    public var slopeBounds: (alpha: Double, beta: Double) {
        switch self {
        case .relu: (0, 1)
        case .leakyRelu(let a): (min(a, 1), max(a, 1))
        case .tanh: (0, 1)
        case .sigmoid: (0, 0.25)
        case .identity: (1, 1)
        case .elu(let a): (0, max(a, 1))
        case .softplus: (0, 1)
        case .gelu: SmoothActivation.geluSlopes
        case .silu: SmoothActivation.siluSlopes
        }
    }

    /// Piecewise linear activations have Jacobians only at slope-interval endpoints.
    public var isPiecewiseLinear: Bool {
        switch self {
        case .relu, .leakyRelu, .identity: true
        case .tanh, .sigmoid, .elu, .softplus, .gelu, .silu: false
        }
    }

    /// Non-decreasing on ℝ (so σ maps [l, u] onto [σ(l), σ(u)]).
    public var isMonotone: Bool {
        switch self {
        case .leakyRelu(let a): a >= 0
        case .gelu, .silu: false
        case .elu(let a): a >= 0
        default: true
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
        case .elu(let a): return x > 0 ? x : a * expm1(x)
        case .softplus: return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x))
        case .gelu: return x * SmoothActivation.normalCDF(x)
        case .silu: return x / (1 + exp(-x))
        }
    }

    /// The derivative; at a kink the right derivative.
    @inline(__always)
    public func derivative(_ x: Double) -> Double {
        switch self {
        case .relu: return x > 0 ? 1 : 0
        case .leakyRelu(let a): return x > 0 ? 1 : a
        case .tanh: let t = Foundation.tanh(x); return 1 - t * t
        case .sigmoid: let s = 1 / (1 + exp(-x)); return s * (1 - s)
        case .identity: return 1
        case .elu(let a): return x >= 0 ? 1 : a * exp(x)
        case .softplus: return 1 / (1 + exp(-x))
        case .gelu: return SmoothActivation.normalCDF(x) + x * SmoothActivation.normalPDF(x)
        case .silu: let s = 1 / (1 + exp(-x)); return s * (1 + x * (1 - s))
        }
    }

    /// True when `x` sits on a kink, where the Jacobian is not defined (ELU with α ≠ 1 has a
    /// corner at 0).
    @inline(__always)
    public func isKink(_ x: Double) -> Bool {
        switch self {
        case .relu, .leakyRelu: x == 0
        case .elu(let a): a != 1 && x == 0
        default: false
        }
    }
}
