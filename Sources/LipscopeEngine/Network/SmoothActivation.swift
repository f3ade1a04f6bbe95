import Foundation

/// The calculus the slope view needs for the non-piecewise-linear activations: where σ' has
/// its extremes (the zeros of σ''), and sound enclosures of σ' over an interval. By the mean
/// value theorem every difference quotient of σ over [l, u] lies in [min σ', max σ'] over
/// [l, u], and the extremes of σ' on [l, u] are at l, u or a zero of σ'' inside.
public enum SmoothActivation {
    /// Absolute outward padding of every computed derivative value: the formulas (exp, erfc,
    /// a few products) are accurate to a few ulps of numbers ≤ 1.2 in magnitude, and the
    /// critical points are found to ~1e-15, which moves σ' by O(1e-30) there (σ'' = 0).
    public static let pad = 1e-12

    public static func normalCDF(_ x: Double) -> Double { 0.5 * erfc(-x / 2.0.squareRoot()) }
    public static func normalPDF(_ x: Double) -> Double { exp(-0.5 * x * x) / (2 * Double.pi).squareRoot() }

    /// The points where σ'' changes sign (local extremes of σ').
    static func derivativeCriticalPoints(_ a: Activation) -> [Double] {
        switch a {
        case .tanh, .sigmoid: return [0]
        // GELU: σ'' = φ(x)(2 − x²).
        case .gelu: return [-2.0.squareRoot(), 2.0.squareRoot()]
        // SiLU: σ'' = s(1 − s)(2 + x(1 − 2s)) = 0 ⇔ x·tanh(x/2) = 2.
        case .silu: return [-siluCritical, siluCritical]
        // ELU: σ' = αeˣ left of 0 and 1 right of it; both one-sided limits at 0 count.
        default: return []
        }
    }

    /// The positive root of x·tanh(x/2) = 2 (≈ 2.3994), by bisection (the left side is increasing on x > 0).
    static let siluCritical: Double = {
        var lo = 1.0, hi = 4.0
        for _ in 0..<200 {
            let mid = (lo + hi) / 2
            if mid * Foundation.tanh(mid / 2) < 2 { lo = mid } else { hi = mid }
            if hi - lo <= 4 * Double.ulpOfOne { break }
        }
        return (lo + hi) / 2
    }()

    /// Sound [min σ', max σ'] over [l, u] (l ≤ u; infinite ends allowed), padded outward.
    public static func slopeRange(_ a: Activation, lower l: Double, upper u: Double) -> (alpha: Double, beta: Double) {
        var values: [Double] = []
        if l.isFinite { values.append(a.derivative(l)) } else { values.append(limitDerivative(a, towardPositive: false)) }
        if u.isFinite { values.append(a.derivative(u)) } else { values.append(limitDerivative(a, towardPositive: true)) }
        for c in derivativeCriticalPoints(a) where l <= c && c <= u { values.append(a.derivative(c)) }
        if case .elu(let alpha) = a, l < 0, u >= 0 { values.append(alpha); values.append(1) }
        let global = a.slopeBounds
        let bottom = values.min() ?? global.alpha, top = values.max() ?? global.beta
        // GELU/SiLU's σ' cancels (Φ + xφ near its zero): an absolute pad. The others are
        // products of faithfully rounded exp/tanh: a few ulps outward, relative.
        let cancels = a == .gelu || a == .silu
        let lo = cancels ? bottom - pad : bottom - 16 * Double.ulpOfOne * abs(bottom) - Double.leastNormalMagnitude
        let hi = cancels ? top + pad : top + 16 * Double.ulpOfOne * abs(top)
        return (max(global.alpha, lo), min(global.beta, hi))
    }

    /// σ' at ±∞.
    static func limitDerivative(_ a: Activation, towardPositive: Bool) -> Double {
        switch a {
        case .tanh, .sigmoid: return 0
        case .elu: return towardPositive ? 1 : 0
        case .softplus, .gelu, .silu: return towardPositive ? 1 : 0
        default: return towardPositive ? a.derivative(1) : a.derivative(-1)
        }
    }

    /// The global slope interval of GELU / SiLU: σ' at its two critical points, padded outward.
    static func globalSlopeBounds(_ a: Activation) -> (alpha: Double, beta: Double) {
        let points = derivativeCriticalPoints(a).map { a.derivative($0) }
        return ((points.min() ?? 0) - pad, (points.max() ?? 1) + pad)
    }

    static let geluSlopes = globalSlopeBounds(.gelu)
    static let siluSlopes = globalSlopeBounds(.silu)

    /// The minimizer of a non-monotone σ (σ' = 0 there): GELU ≈ −0.7518, SiLU ≈ −1.2785, by
    /// bisection on σ' (increasing between the left critical point and 0).
    static func valueMinimizer(_ a: Activation) -> Double {
        switch a {
        case .gelu: return geluMinimizer
        case .silu: return siluMinimizer
        default: return 0
        }
    }
    static let geluMinimizer = rootOfDerivative(.gelu, from: -2.0.squareRoot())
    static let siluMinimizer = rootOfDerivative(.silu, from: -siluCritical)
    static func rootOfDerivative(_ a: Activation, from left: Double) -> Double {
        var lo = left, hi = 0.0   // σ'(lo) < 0 < σ'(hi)
        for _ in 0..<200 {
            let mid = (lo + hi) / 2
            if a.derivative(mid) < 0 { lo = mid } else { hi = mid }
            if hi - lo <= 4 * Double.ulpOfOne { break }
        }
        return (lo + hi) / 2
    }

    /// A sound enclosure of σ([l, u]), padded outward (every activation here is continuous).
    public static func valueRange(_ a: Activation, lower l: Double, upper u: Double) -> (low: Double, high: Double) {
        let fl = a.apply(l), fu = a.apply(u)
        var low = min(fl, fu), high = max(fl, fu)
        if !a.isMonotone {
            if case .leakyRelu = a { if l < 0 && u > 0 { low = min(low, 0) } }
            let m = valueMinimizer(a)
            if l < m && m < u { low = min(low, a.apply(m)) }
        }
        if a.isPiecewiseLinear { return (low, high) }
        return (low - 4 * Double.ulpOfOne * (abs(low) + 1), high + 4 * Double.ulpOfOne * (abs(high) + 1))
    }
}
