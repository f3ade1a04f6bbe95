import Foundation
import LipscopeLinearAlgebra

/// Sound bounds lower ≤ z ≤ upper on every pre-activation zₖ = Wₖ hₖ₋₁ + bₖ of a feedforward
/// network (linear-output form) over an input box. Two propagations:
///  - interval (IBP): each layer from the previous layer's box;
///  - symbolic (CROWN-style back-substitution): each layer's bounds from a linear relaxation of
///    every earlier activation, substituted back to the input box.
/// The default takes the intersection of both, which is sound because each one is.
/// Floating point: every computed bound is moved outward by γ·M, where M bounds the same
/// expression evaluated on absolute values (the standard |fl(Σ) − Σ| ≤ γₙ Σ|terms| bound).
public struct PreActivationBounds: Sendable {
    public enum Propagation: String, Sendable, CaseIterable { case interval, symbolic, both }

    /// The network the bounds are for (always `withLinearOutput`).
    public let network: FeedforwardNetwork
    public let region: InputRegion
    /// Per layer (including the output layer), bounds on the pre-activations.
    public internal(set) var lower: [[Double]]
    public internal(set) var upper: [[Double]]
    let weights: [Matrix]
    /// |hₖ| ≤ magnitude[k+1] entrywise on the absolute network; magnitude[0] is the input's.
    let magnitude: [[Double]]
    let operations: Int

    public init(_ net: FeedforwardNetwork, region: InputRegion, propagation: Propagation = .both) throws {
        guard region.dimension == net.inputSize else {
            throw RegionError("the region has \(region.dimension) coordinates but the network has \(net.inputSize) inputs")
        }
        let network = net.withLinearOutput
        self.network = network
        self.region = region
        weights = network.layers.map(\.weight.dense)
        operations = network.architecture.reduce(0, +) + 16
        // The absolute network: |zₖ| ≤ |Wₖ| Hₖ₋₁ + |bₖ| ≤ Mₖ, |hₖ| ≤ Hₖ.
        var h = zip(region.lower, region.upper).map { max(abs($0), abs($1)) }
        var mags = [h]
        for (k, layer) in network.layers.enumerated() {
            let absW = Matrix(rows: weights[k].rows, columns: weights[k].columns, storage: weights[k].storage.map(abs))
            let m = zip(absW * h, layer.bias).map { $0 + abs($1) }
            h = m.map { Self.outputMagnitude(layer.activation, $0) }
            mags.append(h)
        }
        magnitude = mags
        lower = []; upper = []
        for k in network.layers.indices {
            var lo = [Double](repeating: -.infinity, count: weights[k].rows)
            var hi = [Double](repeating: .infinity, count: weights[k].rows)
            if propagation != .symbolic {
                let (l, u) = intervalStep(k)
                lo = zip(lo, l).map { max($0, $1) }; hi = zip(hi, u).map { min($0, $1) }
            }
            if propagation != .interval {
                // A piecewise linear neuron that interval propagation already finds stable has its
                // relaxation fixed (its bounds are used nowhere else): back-substitute only the others.
                let rows = propagation == .both && k < network.layers.count - 1 && Self.stableRelaxationIsFixed(network.layers[k].activation)
                    ? (0..<lo.count).filter { lo[$0] < 0 && hi[$0] > 0 } : Array(0..<lo.count)
                let w = rows.count == lo.count ? weights[k] : weights[k].selectingRows(rows)
                let b = rows.map { network.layers[k].bias[$0] }
                if !rows.isEmpty {
                    let l = backSubstitute(w, constant: b, below: k, upperBound: false)
                    let u = backSubstitute(w, constant: b, below: k, upperBound: true)
                    for (a, i) in rows.enumerated() { lo[i] = max(lo[i], l[a]); hi[i] = min(hi[i], u[a]) }
                }
            }
            lower.append(lo); upper.append(hi)
        }
    }

    /// Activations whose relaxation on a stable range [l, u] (l ≥ 0 or u ≤ 0) does not depend on l and u.
    static func stableRelaxationIsFixed(_ a: Activation) -> Bool {
        switch a {
        case .relu, .identity: true
        case .leakyRelu(let s): s <= 1
        default: false
        }
    }

    static func outputMagnitude(_ a: Activation, _ m: Double) -> Double {
        switch a {
        case .relu, .identity: m
        case .leakyRelu(let s): max(1, abs(s)) * m
        case .tanh, .sigmoid: 1
        case .elu(let a): max(1, a) * m
        case .softplus: m + 0.7   // log(1 + eˣ) ≤ max(x, 0) + log 2
        case .gelu, .silu: m      // |x·Φ(x)|, |x·s(x)| ≤ |x|
        }
    }

    var gamma: Double { 8 * Double(operations) * Double.ulpOfOne }

    /// Box of hₖ₋₁ (the input box for k = 0) from the bounds of layer k−1.
    func activationBox(_ k: Int) -> (lower: [Double], upper: [Double]) {
        if k == 0 { return (region.lower, region.upper) }
        let a = network.layers[k - 1].activation
        return (lower[k - 1].map { Self.lowerValue(a, $0) }, upper[k - 1].map { Self.upperValue(a, $0) })
    }

    /// σ(l) rounded down and σ(u) rounded up (all activations here are monotone non-decreasing
    /// when their slope is ≥ 0; a negative leaky slope is handled by taking both ends).
    static func lowerValue(_ a: Activation, _ z: Double) -> Double {
        let v = a.apply(z)
        return a.isPiecewiseLinear ? v : v - 4 * Double.ulpOfOne * (abs(v) + 1)
    }
    static func upperValue(_ a: Activation, _ z: Double) -> Double {
        let v = a.apply(z)
        return a.isPiecewiseLinear ? v : v + 4 * Double.ulpOfOne * (abs(v) + 1)
    }

    func intervalStep(_ k: Int) -> (lower: [Double], upper: [Double]) {
        var (hl, hu) = activationBox(k)
        if k > 0, !network.layers[k - 1].activation.isMonotone {
            // Non-monotone (leaky slope < 0, GELU, SiLU): the range over [l, u] may dip below both ends.
            let f = network.layers[k - 1].activation
            for i in hl.indices {
                (hl[i], hu[i]) = SmoothActivation.valueRange(f, lower: lower[k - 1][i], upper: upper[k - 1][i])
            }
        }
        let w = weights[k], b = network.layers[k].bias
        let mid = zip(hl, hu).map { ($0 + $1) / 2 }, rad = zip(hl, hu).map { ($1 - $0) / 2 }
        let absW = Matrix(rows: w.rows, columns: w.columns, storage: w.storage.map(abs))
        let c = w * mid, r = absW * rad
        let mag = absW * magnitude[k]
        var lo = [Double](repeating: 0, count: w.rows), hi = lo
        for i in 0..<w.rows {
            // mid/rad themselves carry relative rounding ≤ ε·max(|l|,|u|), included in magnitude.
            let slack = gamma * (mag[i] + abs(b[i]))
            lo[i] = c[i] + b[i] - r[i] - slack
            hi[i] = c[i] + b[i] + r[i] + slack
        }
        return (lo, hi)
    }

    /// Linear relaxation aL·z + cL ≤ σ(z) ≤ aU·z + cU on [l, u].
    public struct Relaxation: Sendable { public var aL, cL, aU, cU: Double }

    public static func relaxation(_ act: Activation, lower l: Double, upper u: Double) -> Relaxation {
        let eps = 4 * Double.ulpOfOne * (abs(l) + abs(u) + 1)
        switch act {
        case .identity: return Relaxation(aL: 1, cL: 0, aU: 1, cU: 0)
        case .relu: return convexKink(slope: 0, l, u, eps)
        case .leakyRelu(let a) where a <= 1: return convexKink(slope: a, l, u, eps)
        case .leakyRelu, .tanh, .sigmoid, .elu, .softplus, .gelu, .silu:
            // The constant relaxation from the range (non-monotone ones: their true range).
            if !act.isMonotone {
                let (lo, hi) = SmoothActivation.valueRange(act, lower: l, upper: u)
                return Relaxation(aL: 0, cL: lo - eps, aU: 0, cU: hi + eps)
            }
            return Relaxation(aL: 0, cL: lowerValue(act, l) - eps, aU: 0, cU: upperValue(act, u) + eps)
        }
    }

    /// σ(z) = max(z, a·z) with 0 ≤ a ≤ 1: chord above, z or a·z below (whichever is closer).
    static func convexKink(slope a: Double, _ l: Double, _ u: Double, _ eps: Double) -> Relaxation {
        if l >= 0 { return Relaxation(aL: 1, cL: 0, aU: 1, cU: 0) }
        if u <= 0 { return Relaxation(aL: a, cL: 0, aU: a, cU: 0) }
        let aU = (u - a * l) / (u - l)
        let cU = u - aU * u + eps
        let aL = u >= -l ? 1.0 : a
        return Relaxation(aL: aL, cL: 0, aU: aU, cU: cU)
    }

    /// Bounds of Λ·hₖ₋₁ + c over the region (rows of Λ act on the activations below layer k,
    /// the input for k = 0), substituting the relaxations of layers k−1, …, 0. With
    /// `upperBound` true an upper bound per row, else a lower bound; rounding margin included.
    public func backSubstitute(_ lambdaIn: Matrix, constant: [Double], below k: Int, upperBound: Bool) -> [Double] {
        var lambda = lambdaIn
        var c = constant
        let rows = lambda.rows
        // Magnitude of the expression on absolute values, for the rounding margin.
        let absL = Matrix(rows: lambda.rows, columns: lambda.columns, storage: lambda.storage.map(abs))
        let mag = zip(absL * magnitude[k], constant).map { $0 + abs($1) }
        var j = k - 1
        while j >= 0 {
            let act = network.layers[j].activation
            let width = lambda.columns
            var scaled = lambda
            for i in 0..<width {
                let rel = Self.relaxation(act, lower: lower[j][i], upper: upper[j][i])
                for r in 0..<rows {
                    let v = lambda.storage[r + i * rows]
                    if v == 0 { continue }
                    // Upper bound: a positive coefficient takes the upper relaxation.
                    let useUpper = (v > 0) == upperBound
                    let a = useUpper ? rel.aU : rel.aL, cc = useUpper ? rel.cU : rel.cL
                    scaled.storage[r + i * rows] = v * a
                    c[r] += v * cc
                }
            }
            let bias = network.layers[j].bias
            let shift = scaled * bias
            for r in 0..<rows { c[r] += shift[r] }
            lambda = scaled * weights[j]
            j -= 1
        }
        var out = [Double](repeating: 0, count: rows)
        let depth = Double(k + 2)
        for r in 0..<rows {
            var v = c[r]
            for i in 0..<lambda.columns {
                let w = lambda.storage[r + i * rows]
                if w == 0 { continue }
                let p = w * region.lower[i], q = w * region.upper[i]
                v += upperBound ? max(p, q) : min(p, q)
            }
            let slack = gamma * depth * mag[r]
            out[r] = upperBound ? v + slack : v - slack
        }
        return out
    }

    /// Hidden neurons whose pre-activation range crosses a kink (slope not fixed).
    public var unstableCount: Int { slopes.hidden.reduce(0) { n, layer in n + layer.filter { $0.alpha != $0.beta }.count } }

    /// Slope intervals of every hidden neuron (layers 0 ..< L−1) over the region.
    public var slopes: SlopeIntervals {
        SlopeIntervals(hidden: network.layers.dropLast().indices.map { k in
            (0..<lower[k].count).map { i in
                SlopeIntervals.interval(network.layers[k].activation, lower: lower[k][i], upper: upper[k][i])
            }
        })
    }
}
