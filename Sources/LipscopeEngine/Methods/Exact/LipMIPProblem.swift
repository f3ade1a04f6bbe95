import LipscopeLinearAlgebra

/// The ℓ∞ Lipschitz constant of a piecewise linear net over an input box as a mixed-integer LP,
/// in the form of LipMIP (Jordan & Dimakis 2020): the forward pass with one binary aᵢ per
/// unstable neuron (its activation pattern bit, big-M with pre-activation bounds), the backward
/// pass of the gradient through the same bits (products aᵢ·yᵢ linearized exactly with the
/// backward interval bounds), one binary ρᵢ per output row (‖J‖∞ = max over rows of ‖Jᵢ‖₁),
/// and the ℓ1 norm of the gradient through one sign binary per input coordinate whose
/// gradient entry can take both signs. Its optimum is the largest ‖Jᵢ‖₁ over the patterns of
/// the closures of the linear regions meeting the box: the exact constant whenever no
/// lower-dimensional piece carries a larger Jacobian than the full-dimensional ones around it.
struct LipMIPProblem {
    struct Column { var lower: Double; var upper: Double; var cost: Double; var integer: Bool }
    private(set) var columns: [Column] = []
    private(set) var rows: [(entries: [(Int, Double)], lower: Double, upper: Double)] = []
    /// Column of every input coordinate and of every hidden neuron's pattern bit (nil when the
    /// neuron is stable on the box or has one slope; `fixedBits` then holds its side).
    private(set) var inputColumns: [Int] = []
    private(set) var bitColumns: [Int?] = []
    private(set) var fixedBits: [Int8] = []
    var binaryCount: Int { columns.filter(\.integer).count }

    private mutating func column(_ lower: Double, _ upper: Double, cost: Double = 0, integer: Bool = false) -> Int {
        columns.append(Column(lower: lower, upper: upper, cost: cost, integer: integer))
        return columns.count - 1
    }
    private mutating func row(_ entries: [(Int, Double)], _ lower: Double, _ upper: Double) {
        rows.append((entries.filter { $0.1 != 0 }, lower, upper))
    }

    /// Widens an interval by a relative and absolute hair, so that rounding in the solver's
    /// arithmetic never makes a true point infeasible.
    private static func widen(_ lo: Double, _ hi: Double) -> (Double, Double) {
        let pad = 1e-9 * max(abs(lo), abs(hi)) + 1e-12
        return (lo - pad, hi + pad)
    }

    init(net: PiecewiseLinearNet, box: InputRegion) throws {
        let bounds = try PreActivationBounds(net.network, region: box)
        let hidden = net.hiddenLayerCount
        // Forward pass: h as linear expressions over columns.
        var h: [[(Int, Double)]] = []
        for j in 0..<net.inputSize {
            let c = column(box.lower[j], box.upper[j])
            inputColumns.append(c)
            h.append([(c, 1)])
        }
        var slopeKind: [[(fixed: Double?, bit: Int?)]] = []
        for k in 0..<hidden {
            let w = net.weights[k]
            var next: [[(Int, Double)]] = []
            var kinds: [(fixed: Double?, bit: Int?)] = []
            for i in 0..<w.rows {
                let (lo, hi) = Self.widen(bounds.lower[k][i], bounds.upper[k][i])
                let z = column(lo, hi)
                var entries: [(Int, Double)] = [(z, 1)]
                for j in 0..<w.columns where w[i, j] != 0 {
                    for (c, v) in h[j] { entries.append((c, -w[i, j] * v)) }
                }
                row(entries, net.biases[k][i], net.biases[k][i])
                let alpha = net.negativeSlope[k][i], beta = net.positiveSlope[k][i]
                if alpha == beta || bounds.lower[k][i] >= 0 || bounds.upper[k][i] <= 0 {
                    let positive = alpha == beta || bounds.lower[k][i] >= 0
                    let s = positive ? beta : alpha
                    next.append([(z, s)])
                    kinds.append((s, nil))
                    bitColumns.append(nil)
                    fixedBits.append(positive ? 1 : 0)
                    continue
                }
                // r = relu(z) exactly, tied to the bit a: a = 1 ⇒ z ≥ 0, a = 0 ⇒ z ≤ 0.
                let a = column(0, 1, integer: true)
                let r = column(0, max(hi, 0))
                row([(r, 1), (z, -1)], 0, .infinity)                 // r ≥ z
                row([(r, 1), (z, -1), (a, -lo)], -.infinity, -lo)     // r ≤ z − L(1 − a)
                row([(r, 1), (a, -hi)], -.infinity, 0)                // r ≤ U a
                next.append([(z, alpha), (r, beta - alpha)])
                kinds.append((nil, a))
                bitColumns.append(a)
                fixedBits.append(-1)
            }
            slopeKind.append(kinds)
            h = next
        }
        // Backward pass: y = the gradient row at the outputs of hidden layer k.
        let out = net.weights[hidden]
        var yCols: [Int] = []
        var yLow: [Double] = [], yHigh: [Double] = []
        let rho = (0..<out.rows).map { _ in column(0, 1, integer: out.rows > 1) }
        if out.rows == 1 { columns[rho[0]].lower = 1 }
        row(rho.map { ($0, 1) }, 1, 1)
        for j in 0..<out.columns {
            let values = (0..<out.rows).map { out[$0, j] }
            let (lo, hi) = Self.widen(values.min()!, values.max()!)
            let y = column(lo, hi)
            row([(y, 1)] + rho.enumerated().map { ($1, -values[$0]) }, 0, 0)
            yCols.append(y); yLow.append(lo); yHigh.append(hi)
        }
        for k in stride(from: hidden - 1, through: 0, by: -1) {
            // v = slope·y as linear expressions, with interval bounds.
            var v: [[(Int, Double)]] = [], vLow: [Double] = [], vHigh: [Double] = []
            for i in 0..<yCols.count {
                let alpha = net.negativeSlope[k][i], beta = net.positiveSlope[k][i]
                if let s = slopeKind[k][i].fixed {
                    v.append([(yCols[i], s)])
                    vLow.append(min(s * yLow[i], s * yHigh[i])); vHigh.append(max(s * yLow[i], s * yHigh[i]))
                    continue
                }
                let a = slopeKind[k][i].bit!
                let ly = yLow[i], uy = yHigh[i]
                let p = column(min(0, ly), max(0, uy))                 // p = a·y
                row([(p, 1), (a, -uy)], -.infinity, 0)
                row([(p, 1), (a, -ly)], 0, .infinity)
                row([(p, 1), (yCols[i], -1), (a, -ly)], -.infinity, -ly)
                row([(p, 1), (yCols[i], -1), (a, -uy)], -uy, .infinity)
                v.append([(yCols[i], alpha), (p, beta - alpha)])
                let ends = [alpha * ly, alpha * uy, beta * ly, beta * uy]
                vLow.append(ends.min()!); vHigh.append(ends.max()!)
            }
            // y of the layer below (or the gradient g when k = 0): Wₖᵀ v.
            let w = net.weights[k]
            var newCols: [Int] = [], newLow: [Double] = [], newHigh: [Double] = []
            for j in 0..<w.columns {
                var lo = 0.0, hi = 0.0
                var entries: [(Int, Double)] = []
                for i in 0..<w.rows where w[i, j] != 0 {
                    let c = w[i, j]
                    lo += min(c * vLow[i], c * vHigh[i]); hi += max(c * vLow[i], c * vHigh[i])
                    for (col, f) in v[i] { entries.append((col, -c * f)) }
                }
                let (l, u) = Self.widen(lo, hi)
                let y = column(l, u)
                row([(y, 1)] + entries, 0, 0)
                newCols.append(y); newLow.append(l); newHigh.append(u)
            }
            yCols = newCols; yLow = newLow; yHigh = newHigh
        }
        // ℓ1 norm of the gradient g = yCols.
        for j in yCols.indices {
            let g = yCols[j], lo = yLow[j], hi = yHigh[j]
            if lo >= 0 { columns[g].cost = 1; continue }
            if hi <= 0 { columns[g].cost = -1; continue }
            let big = max(-lo, hi)
            let t = column(0, big, cost: 1)
            let sign = column(0, 1, integer: true)
            row([(t, 1), (g, -1), (sign, 2 * big)], -.infinity, 2 * big)   // t ≤ g + 2B(1 − σ)
            row([(t, 1), (g, 1), (sign, -2 * big)], -.infinity, 0)          // t ≤ −g + 2Bσ
        }
    }

    /// Column-major arrays for the solver.
    func columnMajor() -> (start: [Int32], index: [Int32], value: [Double]) {
        var perColumn = [[(Int32, Double)]](repeating: [], count: columns.count)
        for (r, row) in rows.enumerated() {
            for (c, v) in row.entries { perColumn[c].append((Int32(r), v)) }
        }
        var start: [Int32] = [0], index: [Int32] = [], value: [Double] = []
        for entries in perColumn {
            // Merge repeated entries of one row (a column can appear twice in an expression).
            var merged: [Int32: Double] = [:]
            var order: [Int32] = []
            for (r, v) in entries { if merged[r] == nil { order.append(r) }; merged[r, default: 0] += v }
            for r in order where merged[r]! != 0 { index.append(r); value.append(merged[r]!) }
            start.append(Int32(index.count))
        }
        return (start, index, value)
    }
}
