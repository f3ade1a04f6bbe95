import Foundation
import LipscopeLinearAlgebra

/// Up to 8 indices (each ≤ 65534), sorted ascending, packed into a hashable key. Used for
/// monomials (variable indices with repetition: y₁²y₃ = [1, 1, 3]) and for Handelman
/// products (generator indices 2·var + side, side 0 = y, 1 = 1 − y).
struct PackedIndices: Hashable, Sendable, Comparable {
    var lo: UInt64 = 0
    var hi: UInt64 = 0

    static let capacity = 8
    static let maximumIndex = 65534

    init() {}

    init(_ sorted: [Int]) {
        precondition(sorted.count <= Self.capacity)
        for (slot, i) in sorted.enumerated() { set(slot, i) }
    }

    @inline(__always)
    mutating func set(_ slot: Int, _ index: Int) {
        let v = UInt64(index + 1) << UInt64(16 * (slot & 3))
        if slot < 4 { lo |= v } else { hi |= v }
    }

    @inline(__always)
    func slot(_ s: Int) -> Int {
        let word = s < 4 ? lo : hi
        return Int((word >> UInt64(16 * (s & 3))) & 0xFFFF) - 1
    }

    var count: Int {
        var c = 0
        while c < Self.capacity && slot(c) >= 0 { c += 1 }
        return c
    }

    var indices: [Int] { (0..<count).map { slot($0) } }
    var isEmpty: Bool { lo == 0 && hi == 0 }

    /// Graded order: by degree, then lexicographically.
    static func < (a: PackedIndices, b: PackedIndices) -> Bool {
        let ca = a.count, cb = b.count
        if ca != cb { return ca < cb }
        for s in 0..<ca where a.slot(s) != b.slot(s) { return a.slot(s) < b.slot(s) }
        return false
    }
}

/// How the variables are grouped: one clique of all variables, or one per neuron of the last
/// hidden layer (its slope variable plus its backward receptive field).
/// Option "cliques" (`StandardOptions.cliques`, default sparse).
public enum LiPoptCliques: String, Sendable, CaseIterable {
    case dense, sparse
}

/// P(y) for one output: the norm-gradient polynomial with every variable normalized to [0, 1]
/// (t = 2y − 1 for inputs, s = α + (β − α) y for slopes). Multilinear, degree ≤ L.
struct LiPoptPolynomial: Sendable {
    /// Monomial (sorted variable indices) → coefficient.
    var coefficients: [PackedIndices: Double]
    /// Monomial → bound on |computed coefficient − exact coefficient| (exact = the polynomial
    /// of the stored double weights and slope bounds).
    var errors: [PackedIndices: Double]

    var constant: Double { coefficients[PackedIndices()] ?? 0 }
}

/// A feedforward network prepared for LiPopt: hidden weights as rows of nonzeros, slope
/// bounds, variable numbering (the n₀ inputs, then the hidden layers in order).
struct LiPoptNetwork: Sendable {
    /// sizes[0] = n₀, sizes[l] = n_l for hidden layers l = 1…L−1.
    let sizes: [Int]
    /// offsets[l]: index of the first variable of layer l.
    let offsets: [Int]
    /// Hidden weight matrices W₁…W_{L−1} as rows of (column, value) nonzeros.
    let hiddenRows: [[[(Int, Double)]]]
    /// (α, β) per hidden layer 1…L−1 (index 0 unused).
    let slopes: [(Double, Double)]
    /// (α, β) per neuron of hidden layer 1…L−1 (index 0 empty): the layer's interval, or the
    /// neuron's own over an input region. A fixed slope (α = β) is a constant of the polynomial,
    /// not a variable; its neuron joins no clique.
    let neuronSlopes: [[(Double, Double)]]
    /// The last weight matrix (outputs × n_{L−1}).
    let last: Matrix

    var depth: Int { sizes.count }
    var variableCount: Int { sizes.reduce(0, +) }
    var outputCount: Int { last.rows }

    init(_ network: FeedforwardNetwork, slopes local: SlopeIntervals? = nil) {
        let net = network.withLinearOutput
        var sizes = [net.inputSize]
        var rows: [[[(Int, Double)]]] = []
        var slopes: [(Double, Double)] = [(1, 1)]
        for layer in net.hiddenLayers {
            sizes.append(layer.outputSize)
            rows.append(Self.rows(of: layer.weight))
            slopes.append(layer.activation.slopeBounds)
        }
        var offsets = [0]
        for s in sizes.dropLast() { offsets.append(offsets.last! + s) }
        self.sizes = sizes
        self.offsets = offsets
        self.hiddenRows = rows
        self.slopes = slopes
        neuronSlopes = [[]] + (1..<slopes.count).map { l in
            local.map { $0.hidden[l - 1].map { ($0.alpha, $0.beta) } } ?? Array(repeating: slopes[l], count: sizes[l])
        }
        self.last = net.layers.last!.weight.dense
    }

    static func rows(of w: WeightMatrix) -> [[(Int, Double)]] {
        switch w {
        case .sparse(let s):
            return (0..<s.rows).map { i in (s.rowStart[i]..<s.rowStart[i + 1]).compactMap { k in
                s.values[k] != 0 ? (s.columnIndex[k], s.values[k]) : nil } }
        case .dense(let m):
            return (0..<m.rows).map { i in (0..<m.columns).compactMap { j in m[i, j] != 0 ? (j, m[i, j]) : nil } }
        }
    }

    func outputRow(_ j: Int) -> [Double] { last.row(j) }

    // MARK: The polynomial

    /// Expands P for output j layer by layer: at hidden layer l either the constant part α of
    /// every slope is taken (g ← α W_lᵀ g) or the variable part of one neuron i
    /// (g ← (β − α) g_i W_l[i, :]); at the inputs t = 2y − 1. Each choice sequence yields a
    /// distinct monomial, so no coefficient is accumulated twice. A parallel pass with absolute
    /// values bounds the rounding error of every coefficient.
    func polynomial(output j: Int) -> LiPoptPolynomial {
        var coefficients: [PackedIndices: Double] = [:]
        var errors: [PackedIndices: Double] = [:]
        let L = depth
        // Longest chain of roundings on any path: sums of ≤ n_l terms and ≤ 3 products per layer.
        let chain = sizes.reduce(0) { $0 + $1 + 3 } + 4
        let gamma = 2 * Double(chain) * Double.ulpOfOne
        let w = outputRow(j)
        var start: [(Int, Double, Double)] = []
        for (i, v) in w.enumerated() where v != 0 { start.append((i, v, abs(v))) }

        func record(_ chosen: [Int], _ value: Double, _ absolute: Double) {
            let key = PackedIndices(chosen.reversed())
            coefficients[key, default: 0] += value
            errors[key, default: 0] += gamma * absolute
        }

        func expand(_ l: Int, _ g: [(Int, Double, Double)], _ chosen: [Int]) {
            if g.isEmpty { return }
            if l == 0 {
                var c = 0.0, a = 0.0
                for (i, v, av) in g {
                    c -= v; a += av
                    record(chosen + [i], 2 * v, 2 * av)
                }
                record(chosen, c, a)
                return
            }
            let neuron = neuronSlopes[l]
            let rows = hiddenRows[l - 1]
            let width = sizes[l - 1]
            // The constant part αᵢ of every slope at once.
            var h = [Double](repeating: 0, count: width), ha = [Double](repeating: 0, count: width)
            var touched = [Bool](repeating: false, count: width)
            for (i, v, av) in g {
                let alpha = neuron[i].0
                if alpha == 0 { continue }
                for (c, wv) in rows[i] {
                    h[c] += alpha * v * wv; ha[c] += abs(alpha) * av * abs(wv); touched[c] = true
                }
            }
            var next: [(Int, Double, Double)] = []
            for c in 0..<width where touched[c] && ha[c] != 0 { next.append((c, h[c], ha[c])) }
            expand(l - 1, next, chosen)
            // The variable part (βᵢ − αᵢ)yᵢ of one unfixed neuron.
            for (i, v, av) in g {
                let delta = neuron[i].1 - neuron[i].0
                if delta == 0 { continue }
                let next = rows[i].map { (c, wv) in (c, delta * v * wv, abs(delta) * av * abs(wv)) }
                expand(l - 1, next, chosen + [offsets[l] + i])
            }
        }
        expand(L - 1, start, [])
        return LiPoptPolynomial(coefficients: coefficients, errors: errors)
    }

    // MARK: Cliques

    /// False for a hidden neuron whose slope is fixed (a constant of the polynomial).
    func isVariable(_ v: Int) -> Bool {
        guard v >= sizes[0] else { return true }
        var l = depth - 1
        while offsets[l] > v { l -= 1 }
        let (a, b) = neuronSlopes[l][v - offsets[l]]
        return a != b
    }

    /// The variable groups for output j, each sorted ascending, exact duplicates removed.
    /// Sparse: for each neuron i of the last hidden layer with w_i ≠ 0, s_{L−1,i} plus every
    /// variable with a path of nonzero weights into i. (One layer: one clique per input with
    /// w_i ≠ 0.) Every monomial of P lies inside one of them.
    func cliques(output j: Int, _ mode: LiPoptCliques) -> [[Int]] {
        if mode == .dense { return [(0..<variableCount).filter(isVariable)] }
        let w = outputRow(j)
        let L = depth
        var seen = Set<[Int]>()
        var result: [[Int]] = []
        for (i, v) in w.enumerated() where v != 0 {
            var vars = isVariable(offsets[L - 1] + i) ? [offsets[L - 1] + i] : []
            var frontier = [i]
            var l = L - 1
            while l >= 1 {
                var mark = [Bool](repeating: false, count: sizes[l - 1])
                for n in frontier { for (c, _) in hiddenRows[l - 1][n] { mark[c] = true } }
                frontier = (0..<sizes[l - 1]).filter { mark[$0] }
                vars += frontier.map { offsets[l - 1] + $0 }.filter(isVariable)
                l -= 1
            }
            vars.sort()
            if vars.isEmpty { continue }
            if seen.insert(vars).inserted { result.append(vars) }
        }
        return result
    }
}

/// C(n, k) as a Double (sizes can exceed Int range in estimates).
func binomialDouble(_ n: Int, _ k: Int) -> Double {
    if k < 0 || k > n { return 0 }
    var r = 1.0
    for i in 0..<min(k, n - k) { r = r * Double(n - i) / Double(i + 1) }
    return r.rounded()
}
