import LipscopeLinearAlgebra

/// For piecewise linear feedforward nets: walk straight lines through the best inputs and stop
/// once inside every linear region the line crosses. Along x₀ + t·d the pre-activations are
/// affine in t until the first of them changes sign, so each segment's end is computed exactly
/// and its midpoint is an input of that region: no region on the line is missed, however thin
/// (random sampling misses thin regions, and the true Jacobian is constant inside each one).
struct LineWalk {
    let network: FeedforwardNetwork
    /// Sparse layers stay sparse: a walk evaluates every layer once per segment.
    let weights: [WeightMatrix]
    /// Segments per line at most (a line through a big net can cross very many regions).
    var maxSegments = 4000

    init?(_ network: Network) {
        guard let ff = network.layerChain, ff.layers.allSatisfy({ $0.activation.isPiecewiseLinear }) else { return nil }
        self.network = ff
        weights = ff.layers.map(\.weight)
    }

    /// Midpoints of the segments of x₀ + t·d, t ∈ [−T, T], one per linear region crossed (the
    /// first ones only once `stop` says so: a segment costs a forward pass).
    func midpoints(from x0: [Double], direction d: [Double], reach T: Double, stop: () -> Bool = { false }) -> [[Double]] {
        var points: [[Double]] = []
        var t = -T
        while t < T && points.count < maxSegments {
            if points.count % 16 == 15 && stop() { break }
            let x = zip(x0, d).map { $0 + t * $1 }
            let step = distanceToNextKink(at: x, direction: d)
            let end = min(T, t + step)
            let mid = (t + end) / 2
            points.append(zip(x0, d).map { $0 + mid * $1 })
            t = end + max(1e-12, 1e-12 * abs(end))
        }
        return points
    }

    /// The smallest s > 0 at which some pre-activation of x + s·d crosses zero (∞ if none).
    func distanceToNextKink(at x: [Double], direction d: [Double]) -> Double {
        var h = x, dh = d
        var best = Double.infinity
        for (k, layer) in network.layers.enumerated() {
            let v = weights[k].apply(h), dv = weights[k].apply(dh)
            let isLast = k == network.layers.count - 1
            var nh = [Double](repeating: 0, count: v.count), ndh = nh
            for i in v.indices {
                let z = v[i] + layer.bias[i]
                if !isLast, layer.activation != .identity, dv[i] != 0 {
                    let s = -z / dv[i]
                    if s > 0 { best = min(best, s) }
                }
                // The slope on the segment just after x: the side z moves to.
                let side = z > 0 || (z == 0 && dv[i] > 0)
                let slope = side ? layer.activation.derivative(1) : layer.activation.derivative(-1)
                nh[i] = layer.activation.apply(z)
                ndh[i] = slope * dv[i]
            }
            h = nh; dh = ndh
        }
        return best
    }
}

extension LineWalk {
    /// For each hidden neuron with a kink, a point just across its hyperplane from x (the
    /// hyperplane of the linear region x is in): the neighbouring regions of x's region, or
    /// whatever region the step lands in. Steps overshoot by `overshoot` (relative). Layer by
    /// layer (each costs a product with an inputs × inputs matrix); `stop` ends it early.
    func neighbours(of x: [Double], overshoot: Double = 1e-6, stop: () -> Bool = { false }) -> [[Double]] {
        let n = x.count
        var h = x
        var dz = Matrix.identity(n)   // ∂h/∂x of the current layer's input
        var points: [[Double]] = []
        for (k, layer) in network.layers.enumerated() where k < network.layers.count - 1 {
            if k > 0 && stop() { break }
            let v = weights[k].apply(h)
            // rows: ∂z_i/∂x on x's region (W₁ itself at the first layer: W₁·I, no product)
            let a = k == 0 ? weights[0].dense : weights[k].times(dz)
            var slopes = [Double](repeating: 0, count: v.count)
            var next = slopes
            for i in v.indices {
                let z = v[i] + layer.bias[i]
                slopes[i] = layer.activation.derivative(z)
                next[i] = layer.activation.apply(z)
                guard layer.activation != .identity else { continue }
                let row = a.row(i)
                let norm2 = row.reduce(0) { $0 + $1 * $1 }
                guard norm2 > 0 else { continue }
                let t = -z / norm2
                let step = t + (t >= 0 ? 1 : -1) * overshoot * (abs(t) + 1 / norm2.squareRoot())
                points.append((0..<n).map { x[$0] + step * row[$0] })
            }
            h = next
            dz = a.scalingRows(by: slopes)
        }
        return points
    }
}
