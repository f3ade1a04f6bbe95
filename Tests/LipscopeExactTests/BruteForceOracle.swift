import Foundation
import LipscopeEngine
import LipscopeLinearAlgebra
import LipscopeSolvers

/// The independent reference: every activation pattern of the hidden neurons, each checked
/// for a full-dimensional region by its own LP (built as an `LPProblem` and solved by the
/// CLPSolver backend), and the largest ‖J‖ over the realizable ones. Prefixes whose region
/// is already empty are not extended (every extension is empty too); nothing else is pruned.
/// Plain arrays throughout, so it shares no code with the engine's search.
struct BruteForceOracle {
    let weights: [[[Double]]]   // per layer: rows = outputs
    let biases: [[Double]]
    let negative: [[Double]]    // slope for z < 0, per hidden layer
    let positive: [[Double]]
    let inputSize: Int
    let box: (lower: [Double], upper: [Double])?
    var lpCount = 0
    var realizable = 0

    /// `rows` selects the last layer: nil keeps it, [c] one output, [c, j] the margin f_c − f_j.
    init(_ network: Network, rows: [Int]? = nil, box: (lower: [Double], upper: [Double])? = nil) {
        guard case .feedforward(let ff) = network else { fatalError("feedforward only") }
        var layers = ff.layers
        if layers.last!.activation != .identity {
            layers.append(Layer(weight: Matrix.identity(ff.outputSize), activation: .identity))
        }
        var w = layers.map { $0.weight.dense.rowArrays }
        var b = layers.map(\.bias)
        if let rows {
            let last = w.count - 1
            if rows.count == 1 {
                w[last] = [w[last][rows[0]]]; b[last] = [b[last][rows[0]]]
            } else {
                w[last] = [zip(w[last][rows[0]], w[last][rows[1]]).map { $0 - $1 }]
                b[last] = [b[last][rows[0]] - b[last][rows[1]]]
            }
        }
        weights = w; biases = b
        negative = layers.dropLast().map { l in
            switch l.activation {
            case .relu: [Double](repeating: 0, count: l.outputSize)
            case .leakyRelu(let a): [Double](repeating: a, count: l.outputSize)
            default: [Double](repeating: 1, count: l.outputSize)
            }
        }
        positive = layers.dropLast().map { [Double](repeating: 1, count: $0.outputSize) }
        inputSize = ff.inputSize
        self.box = box
    }

    /// max over realizable patterns of the induced norm.
    mutating func constant(_ norm: Norm) throws -> Double {
        let n = inputSize
        let identityA = (0..<weights[0].count).map { i in weights[0][i] }
        var best = 0.0
        try extend(layer: 0, a: identityA, c: biases[0], slopes: [], current: [], rows: [], norm: norm, best: &best)
        _ = n
        return best
    }

    /// Extends the pattern of layer `layer` neuron by neuron (a, c: its affine pre-activations).
    private mutating func extend(layer: Int, a: [[Double]], c: [Double], slopes: [[Double]], current: [Double],
                                 rows: [([Double], Double)], norm: Norm, best: inout Double) throws {
        let width = a.count
        if current.count == width {
            let all = slopes + [current]
            if layer + 1 == weights.count - 1 {
                best = max(best, try jacobianNorm(all, norm))
                return
            }
            // Affine forms of the next layer: W diag(s) (a x + c) + b.
            let w = weights[layer + 1]
            var na = [[Double]](repeating: [Double](repeating: 0, count: inputSize), count: w.count)
            var nc = biases[layer + 1]
            for r in 0..<w.count {
                for q in 0..<width {
                    let f: Double = w[r][q] * current[q]
                    if f == 0 { continue }
                    nc[r] += f * c[q]
                    for j in 0..<inputSize { na[r][j] += f * a[q][j] }
                }
            }
            try extend(layer: layer + 1, a: na, c: nc, slopes: all, current: [], rows: rows, norm: norm, best: &best)
            return
        }
        let i = current.count
        if negative[layer][i] == positive[layer][i] {
            try extend(layer: layer, a: a, c: c, slopes: slopes, current: current + [positive[layer][i]], rows: rows, norm: norm, best: &best)
            return
        }
        for side in [1.0, -1.0] {
            let row = (a[i].map { side * $0 }, side * c[i])
            let newRows = rows + [row]
            guard try realizable(newRows) else { continue }
            let s = side > 0 ? positive[layer][i] : negative[layer][i]
            try extend(layer: layer, a: a, c: c, slopes: slopes, current: current + [s], rows: newRows, norm: norm, best: &best)
        }
    }

    /// max t s.t. a·x + c ≥ ‖a‖ t for every row, t ≤ 1, x in the box: realizable iff t > 0.
    private mutating func realizable(_ rows: [([Double], Double)]) throws -> Bool {
        lpCount += 1
        var lp = LPProblem.Builder()
        lp.maximize = true
        let xs = (0..<inputSize).map { j in lp.addColumn(cost: 0, lower: box?.lower[j] ?? -.infinity, upper: box?.upper[j] ?? .infinity) }
        let t = lp.addColumn(cost: 1, lower: -.infinity, upper: 1)
        for (a, c) in rows {
            let norm = a.reduce(0) { $0 + $1 * $1 }.squareRoot()
            if norm == 0 { if c > 0 { continue } else { return false } }
            lp.addRow(xs.map { ($0, a[$0]) } + [(t, -norm)], .greaterEqual, -c)
        }
        let r = try CLPSolver().solve(.lp(lp.build()))
        guard r.status == .optimal, let value = r.primalObjective else {
            throw OracleError("LP status \(r.status)")
        }
        return value > 1e-9
    }

    private func jacobianNorm(_ slopes: [[Double]], _ norm: Norm) throws -> Double {
        var j = weights.last!
        for k in stride(from: weights.count - 2, through: 0, by: -1) {
            let w = weights[k]
            var next = [[Double]](repeating: [Double](repeating: 0, count: w[0].count), count: j.count)
            for r in 0..<j.count {
                for q in 0..<w.count {
                    let f: Double = j[r][q] * slopes[k][q]
                    for col in 0..<w[0].count { next[r][col] += f * w[q][col] }
                }
            }
            j = next
        }
        switch norm {
        case .linf: return j.map { $0.reduce(0) { $0 + abs($1) } }.max() ?? 0
        case .l2: return try LinearAlgebra.spectralNorm(Matrix(rowArrays: j))
        }
    }
}

struct OracleError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}
