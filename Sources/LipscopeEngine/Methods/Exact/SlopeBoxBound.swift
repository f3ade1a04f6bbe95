import LipscopeLinearAlgebra

/// Upper bounds on ‖J‖ over a box of slopes: every decided neuron has one slope, every
/// undecided one ranges over [min, max] of its two slopes. These bound the constant on every
/// input whose pattern agrees with the decided bits, realizable or not.
extension PiecewiseLinearNet {
    /// Midpoint-radius interval arithmetic from the output side: J ∈ C ± R entrywise, so
    /// ‖J‖ ≤ ‖|C| + R‖ (both norms are monotone in the entries' magnitudes).
    func intervalBound(low: [[Double]], high: [[Double]], norm: Norm) throws -> Double {
        var c = weights[hiddenLayerCount]
        var r = Matrix(rows: c.rows, columns: c.columns)
        for k in stride(from: hiddenLayerCount - 1, through: 0, by: -1) {
            let mid = zip(low[k], high[k]).map { ($0 + $1) / 2 }
            let rad = zip(low[k], high[k]).map { ($1 - $0) / 2 }
            let absC = Matrix(rows: c.rows, columns: c.columns, storage: c.storage.map(abs))
            let r2 = r.scalingColumns(by: zip(mid, rad).map { abs($0) + $1 }) + absC.scalingColumns(by: rad)
            c = c.scalingColumns(by: mid) * weights[k]
            r = r2 * absWeights[k]
        }
        let m = Matrix(rows: c.rows, columns: c.columns, storage: zip(c.storage, r.storage).map { abs($0) + $1 })
        return try certifiedNorm(of: m, norm: norm)
    }

    /// The exact maximum over the slope box's vertices (= over the box, by convexity of the norm
    /// in each slope), for a few undecided neurons.
    func enumeratedBound(base: [[Double]], undecided: [(layer: Int, index: Int)], norm: Norm) throws -> Double {
        var slopes = base
        var best = 0.0
        for mask in 0..<(1 << undecided.count) {
            for (b, u) in undecided.enumerated() {
                slopes[u.layer][u.index] = (mask >> b) & 1 == 1 ? positiveSlope[u.layer][u.index] : negativeSlope[u.layer][u.index]
            }
            best = max(best, try norm.induced(jacobian(slopes: slopes)))
        }
        let ops = 4 * (inputSize + outputSize) + 8
        return RoundingMargin.inflate(best, operations: ops)
            + RoundingMargin.inflate(magnitudeNorm, operations: productRoundingOperations) * 4 * Double(productRoundingOperations) * RoundingMargin.unit
    }
}

extension PiecewiseLinearNet {
    /// ‖W_L D_{L−1}‖ · ‖W_{L−1} D_{L−2}‖ ⋯ ‖W₁‖ with D_k = diag(max |slope|) over the box:
    /// ‖A diag(s)‖ ≤ ‖A diag(m)‖ whenever |s| ≤ m, in both norms. With one hidden layer the
    /// decided part is kept whole: ‖W₂ S W₁‖ ≤ ‖W₂ S_d W₁‖ + ‖W₂ M_u‖ ‖M_u W₁‖ (d decided,
    /// u undecided), which is much tighter once most neurons are decided.
    func productBound(low: [[Double]], high: [[Double]], norm: Norm) throws -> Double {
        let ops = 4 * (inputSize + outputSize + neuronCount) + 8
        let bigM = zip(low, high).map { zip($0, $1).map { max(abs($0), abs($1)) } }
        if hiddenLayerCount == 1 {
            let decided = zip(low[0], high[0]).map { $0 == $1 ? $0 : 0 }
            let undecided = zip(low[0], high[0]).map { $0 == $1 ? 0 : max(abs($0), abs($1)) }
            let fixedPart = try norm.induced(weights[1].scalingColumns(by: decided) * weights[0])
            var free = 0.0
            if undecided.contains(where: { $0 != 0 }) {
                free = try norm.induced(weights[1].scalingColumns(by: undecided))
                    * norm.induced(weights[0].scalingRows(by: undecided))
            }
            return RoundingMargin.inflate(fixedPart + free, operations: ops)
                + RoundingMargin.inflate(magnitudeNorm, operations: productRoundingOperations) * 4 * Double(productRoundingOperations) * RoundingMargin.unit
        }
        var value = try norm.induced(weights[hiddenLayerCount].scalingColumns(by: bigM[hiddenLayerCount - 1]))
        for k in stride(from: hiddenLayerCount - 1, through: 1, by: -1) {
            value *= try norm.induced(weights[k].scalingColumns(by: bigM[k - 1]))
        }
        value *= try norm.induced(weights[0])
        return RoundingMargin.inflate(value, operations: ops * (hiddenLayerCount + 1))
    }
}
