import Foundation
import LipscopeLinearAlgebra

/// Branch and bound on unstable ReLUs for one margin row: a sub-domain is the box together with
/// sign constraints on some pre-activations (z ≥ 0 or z ≤ 0). Splitting a neuron cuts its domain
/// into two parts that together cover it; in each part the neuron is stable (its relaxation
/// becomes exact) and the bounds of the layers above are re-derived by back-substitution on
/// that part. The margin's lower bound over the box is the smallest lower bound over the leaves,
/// so it is proven positive once every leaf is. A part whose bounds cross is empty.
public enum ReluBranching {
    public struct Outcome: Sendable {
        /// A certified lower bound of the row over the whole box (the minimum over the leaves).
        public var bound: Double
        public var domains: Int
        public var proven: Bool { bound > 0 }
    }

    /// Lower bound of `row`·h_{L−1} + constant over the region of `root`, branching until it is
    /// positive, `deadline` passes or `maximumDomains` sub-domains are open.
    public static func lowerBound(row: [Double], constant: Double, root: PreActivationBounds, rootBound: Double,
                                  search: PreActivationBounds.SlopeSearch, deadline: Date, maximumDomains: Int = 20_000) -> Outcome {
        let last = root.network.layers.count - 1
        let rowMatrix = Matrix(rows: 1, columns: row.count, storage: row)
        var open: [(bounds: PreActivationBounds, value: Double)] = [(root, rootBound)]
        var closedMinimum = Double.infinity
        var domains = 1
        while let worst = open.indices.min(by: { open[$0].value < open[$1].value }), open[worst].value <= 0 {
            if Date() >= deadline || open.count >= maximumDomains { break }
            let parent = open.remove(at: worst)
            guard let (j, i) = parent.bounds.branchingNeuron(row: rowMatrix, constant: [constant], below: last) else {
                // Nothing left to split: the relaxation is exact here, the bound is what it is.
                open.append(parent)
                break
            }
            for active in [true, false] {
                domains += 1
                guard let child = parent.bounds.splitting(layer: j, neuron: i, active: active) else { continue }
                let value = max(parent.value, child.optimizedLowerBounds(rowMatrix, constant: [constant], below: last, search: search)[0])
                if value > 0 { closedMinimum = min(closedMinimum, value) } else { open.append((child, value)) }
            }
        }
        let openMinimum = open.map(\.value).min() ?? .infinity
        let bound = min(openMinimum, closedMinimum)
        return Outcome(bound: bound.isFinite ? bound : rootBound, domains: domains)
    }
}

extension PreActivationBounds {
    /// The bounds on the part of the domain where neuron i of hidden layer j is active (z ≥ 0) or
    /// inactive (z ≤ 0), the hidden layers above re-derived by back-substitution there and
    /// intersected with the current ones; nil when the part is empty (some bounds cross).
    func splitting(layer j: Int, neuron i: Int, active: Bool) -> PreActivationBounds? {
        var b = self
        if active { b.lower[j][i] = max(b.lower[j][i], 0) } else { b.upper[j][i] = min(b.upper[j][i], 0) }
        let hidden = network.layers.count - 1
        for m in (j + 1)..<hidden {
            let rows = (0..<b.lower[m].count).filter { b.lower[m][$0] < 0 && b.upper[m][$0] > 0 }
            guard !rows.isEmpty else { continue }
            let w = weights[m].selectingRows(rows), c = rows.map { network.layers[m].bias[$0] }
            let lo = b.backSubstitute(w, constant: c, below: m, upperBound: false)
            let hi = b.backSubstitute(w, constant: c, below: m, upperBound: true)
            for (a, r) in rows.enumerated() {
                b.lower[m][r] = max(b.lower[m][r], lo[a]); b.upper[m][r] = min(b.upper[m][r], hi[a])
                if b.lower[m][r] > b.upper[m][r] { return nil }
            }
        }
        return b
    }

    /// The unstable ReLU whose relaxation costs the row's bound most (BaBSR-like): |Λᵢ| times the
    /// intercept u·(−l)/(u − l) of its upper relaxation, Λ the CROWN coefficients of the row.
    func branchingNeuron(row: Matrix, constant: [Double], below k: Int) -> (layer: Int, neuron: Int)? {
        var lambda = row
        var best: (Int, Int)?
        var bestScore = 0.0
        for j in stride(from: k - 1, through: 0, by: -1) {
            var scaled = lambda
            for i in 0..<lambda.columns {
                let v = lambda.storage[i]
                let rel = Self.relaxation(network.layers[j].activation, lower: lower[j][i], upper: upper[j][i])
                scaled.storage[i] = v * (v >= 0 ? rel.aL : rel.aU)
                if optimisableLowerSlope(j, i) != nil {
                    let l = lower[j][i], u = upper[j][i]
                    let score = abs(v) * u * (-l) / (u - l) * (v < 0 ? 1 : 0.5)
                    if score > bestScore || best == nil { bestScore = score; best = (j, i) }
                }
            }
            lambda = scaled * weights[j]
        }
        return best
    }
}
