import Foundation
import LipscopeLinearAlgebra

/// α-CROWN-style optimised relaxations. Back-substitution lower-bounds a linear function of the
/// activations by replacing each activation with a linear relaxation; for an unstable ReLU
/// (l < 0 < u) the lower relaxation σ(z) ≥ s·z is valid for EVERY slope s in [0, 1] (leaky ReLU
/// with 0 ≤ a ≤ 1: s in [a, 1]), so every choice of slopes gives a sound bound, and the best of
/// them is found by projected gradient ascent (Adam), one slope vector per bounded row.
/// Soundness never depends on the optimiser: each iterate's bound is a valid bound and the
/// largest one is kept, moved outward by the same rounding margin as `backSubstitute`
/// (γ·(k+2)·(|Λ|·M + |c|), M the magnitude bound of the absolute network; all slopes stay in [0, 1]).
extension PreActivationBounds {
    /// Settings of the projected-gradient slope search.
    public struct SlopeSearch: Sendable, Equatable {
        public var iterations: Int
        public var learningRate: Double
        public var decay: Double
        public init(iterations: Int = 20, learningRate: Double = 0.2, decay: Double = 0.95) {
            self.iterations = iterations; self.learningRate = learningRate; self.decay = decay
        }
    }

    /// Lower slope range of neuron i of layer j that the search may move, nil when its relaxation is fixed.
    func optimisableLowerSlope(_ j: Int, _ i: Int) -> ClosedRange<Double>? {
        let l = lower[j][i], u = upper[j][i]
        guard l < 0, u > 0 else { return nil }
        switch network.layers[j].activation {
        case .relu: return 0...1
        case .leakyRelu(let a) where a >= 0 && a <= 1: return a...1
        default: return nil
        }
    }

    /// Per-row lower slopes of layers 0 ..< k: alpha[j] is rows × n_j (nil when layer j has nothing to optimise).
    public typealias RowSlopes = [Matrix?]

    /// One back-substitution of `rows`·h_{k−1} + constant with the given lower slopes: the bound
    /// per row (no rounding margin) and, when asked, its gradient with respect to each slope.
    /// The gradient is Λⱼᵢ·ẑⱼᵢ, ẑ the pre-activations of the relaxed (linear) network evaluated at
    /// the input vertex that attains the minimum — one extra forward pass for all rows.
    func relaxedPass(_ rows: Matrix, constant: [Double], below k: Int, slopes alpha: RowSlopes,
                     relaxations: [[Relaxation]], gradient: Bool) -> (values: [Double], gradient: RowSlopes) {
        let R = rows.rows
        var lambda = rows
        var c = constant
        var coefficients = [Matrix?](repeating: nil, count: k)
        var usedSlopes = [Matrix?](repeating: nil, count: k)
        var usedConstants = [Matrix?](repeating: nil, count: k)
        for j in stride(from: k - 1, through: 0, by: -1) {
            let n = lambda.columns
            var scaled = Matrix(rows: R, columns: n)
            var a = gradient ? Matrix(rows: R, columns: n) : Matrix(rows: 0, columns: 0)
            var cs = gradient ? Matrix(rows: R, columns: n) : Matrix(rows: 0, columns: 0)
            let rel = relaxations[j]
            lambda.storage.withUnsafeBufferPointer { lam in
                scaled.storage.withUnsafeMutableBufferPointer { sc in
                    for i in 0..<n {
                        let rl = rel[i]
                        for r in 0..<R {
                            let idx = r + i * R
                            let v = lam[idx]
                            let s: Double, cc: Double
                            if v >= 0 {
                                s = alpha[j].map { $0.storage[idx] } ?? rl.aL; cc = rl.cL
                            } else {
                                s = rl.aU; cc = rl.cU
                            }
                            sc[idx] = v * s
                            if cc != 0 { c[r] += v * cc }
                            if gradient { a.storage[idx] = s; cs.storage[idx] = cc }
                        }
                    }
                }
            }
            if gradient { coefficients[j] = lambda; usedSlopes[j] = a; usedConstants[j] = cs }
            let shift = scaled * network.layers[j].bias
            for r in 0..<R { c[r] += shift[r] }
            lambda = scaled * weights[j]
        }
        var values = c
        let nIn = lambda.columns
        var vertex = gradient ? Matrix(rows: nIn, columns: R) : Matrix(rows: 0, columns: 0)
        for i in 0..<nIn {
            let lo = region.lower[i], hi = region.upper[i]
            for r in 0..<R {
                let w = lambda.storage[r + i * R]
                values[r] += w >= 0 ? w * lo : w * hi
                if gradient { vertex.storage[i + r * nIn] = w >= 0 ? lo : hi }
            }
        }
        guard gradient else { return (values, []) }
        // Forward through the relaxed network from the minimising vertex (columns = rows).
        var grads = [Matrix?](repeating: nil, count: k)
        var h = vertex
        for j in 0..<k {
            var z = weights[j] * h
            let b = network.layers[j].bias
            let n = z.rows
            for r in 0..<R { for i in 0..<n { z.storage[i + r * n] += b[i] } }
            if alpha[j] != nil, let coef = coefficients[j] {
                var g = Matrix(rows: R, columns: n)
                for i in 0..<n {
                    for r in 0..<R {
                        let v = coef.storage[r + i * R]
                        if v >= 0 { g.storage[r + i * R] = v * z.storage[i + r * n] }
                    }
                }
                grads[j] = g
            }
            let a = usedSlopes[j]!, cs = usedConstants[j]!
            for r in 0..<R {
                for i in 0..<n { z.storage[i + r * n] = a.storage[r + i * R] * z.storage[i + r * n] + cs.storage[r + i * R] }
            }
            h = z
        }
        return (values, grads)
    }

    /// The rounding margin of a bound on `rows`·h_{k−1} + constant (as in `backSubstitute`).
    func roundingSlack(_ rows: Matrix, constant: [Double], below k: Int) -> [Double] {
        let absL = Matrix(rows: rows.rows, columns: rows.columns, storage: rows.storage.map(abs))
        return zip(absL * magnitude[k], constant).map { gamma * Double(k + 2) * ($0 + abs($1)) }
    }

    /// Certified lower bounds of each row of `rows`·h_{k−1} + constant over the region, with the
    /// lower slopes of the unstable neurons below layer k optimised per row. Iteration 0 uses the
    /// CROWN choice, so the result is never looser than `backSubstitute`. `deadline`: stop early.
    public func optimizedLowerBounds(_ rows: Matrix, constant: [Double], below k: Int, search: SlopeSearch = .init(),
                                     deadline: Date? = nil) -> [Double] {
        let R = rows.rows
        guard R > 0 else { return [] }
        let relaxations = (0..<k).map { j in
            (0..<lower[j].count).map { Self.relaxation(network.layers[j].activation, lower: lower[j][$0], upper: upper[j][$0]) }
        }
        var ranges: [[ClosedRange<Double>?]] = (0..<k).map { j in (0..<lower[j].count).map { optimisableLowerSlope(j, $0) } }
        var alpha: RowSlopes = (0..<k).map { j in
            guard ranges[j].contains(where: { $0 != nil }) else { return nil }
            let n = lower[j].count
            var m = Matrix(rows: R, columns: n)
            for i in 0..<n { for r in 0..<R { m.storage[r + i * R] = relaxations[j][i].aL } }
            return m
        }
        if !alpha.contains(where: { $0 != nil }) { ranges = [] }
        var best = [Double](repeating: -.infinity, count: R)
        var m1 = alpha.map { $0.map { Matrix(rows: $0.rows, columns: $0.columns) } }
        var m2 = m1
        let beta1 = 0.9, beta2 = 0.999
        var rate = search.learningRate
        let steps = ranges.isEmpty ? 1 : max(1, search.iterations)
        for t in 0..<steps {
            let last = t == steps - 1 || (deadline.map { Date() >= $0 } ?? false)
            let (values, grads) = relaxedPass(rows, constant: constant, below: k, slopes: alpha, relaxations: relaxations, gradient: !last)
            for r in 0..<R where values[r] > best[r] { best[r] = values[r] }
            if last { break }
            // Adam ascent step, projected onto each slope's range.
            let bc1 = 1 - pow(beta1, Double(t + 1)), bc2 = 1 - pow(beta2, Double(t + 1))
            for j in 0..<k {
                guard var a = alpha[j], let g = grads[j], var mm = m1[j], var vv = m2[j] else { continue }
                for i in 0..<lower[j].count {
                    guard let range = ranges[j][i] else { continue }
                    for r in 0..<R {
                        let idx = r + i * R
                        let gi = g.storage[idx]
                        mm.storage[idx] = beta1 * mm.storage[idx] + (1 - beta1) * gi
                        vv.storage[idx] = beta2 * vv.storage[idx] + (1 - beta2) * gi * gi
                        let step = rate * (mm.storage[idx] / bc1) / ((vv.storage[idx] / bc2).squareRoot() + 1e-12)
                        a.storage[idx] = min(max(a.storage[idx] + step, range.lowerBound), range.upperBound)
                    }
                }
                alpha[j] = a; m1[j] = mm; m2[j] = vv
            }
            rate *= search.decay
        }
        let slack = roundingSlack(rows, constant: constant, below: k)
        return zip(best, slack).map { $0 - $1 }
    }

    /// Tightens the bounds of every unstable neuron of hidden layers 1 … L−2 (in order, each layer
    /// using the tightened layers below) with optimised slopes; bounds only ever shrink
    /// (intersection with the current ones), so the result stays sound.
    public mutating func tightenWithOptimizedSlopes(_ search: SlopeSearch = .init(), deadline: Date? = nil) {
        let hidden = network.layers.count - 1
        guard hidden > 1 else { return }
        for k in 1..<hidden {
            if let deadline, Date() >= deadline { return }
            let unstable = (0..<lower[k].count).filter { optimisableLowerSlope(k, $0) != nil }
            guard !unstable.isEmpty else { continue }
            let w = weights[k], b = network.layers[k].bias
            let picked = w.selectingRows(unstable)
            let both = Matrix(rowArrays: picked.rowArrays + picked.rowArrays.map { $0.map { -$0 } })
            let constant = unstable.map { b[$0] } + unstable.map { -b[$0] }
            let bounds = optimizedLowerBounds(both, constant: constant, below: k, search: search, deadline: deadline)
            for (a, i) in unstable.enumerated() {
                lower[k][i] = max(lower[k][i], bounds[a])
                upper[k][i] = min(upper[k][i], -bounds[unstable.count + a])
            }
        }
    }
}
