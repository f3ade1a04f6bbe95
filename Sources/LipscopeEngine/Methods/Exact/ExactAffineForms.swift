/// The affine forms sᵢ(aᵢ·x + bᵢ) of a pattern node's branched neurons, computed exactly from
/// the network's doubles (dyadic arithmetic, no rounding): the rows `PatternSearch.affineRows`
/// gives the region LP in floating point, numbered in the same order, for exact emptiness
/// proofs. Only the rows asked for are formed (a proof needs at most n + 1 of them), and a
/// layer's forms only when a later asked row needs them.
struct ExactAffineForms: Sendable {
    struct Row: Sendable {
        /// Coefficients of x, then the constant.
        var a: [Dyadic]
        var b: Dyadic
    }

    private let weights: [[[Dyadic]]]
    private let biases: [[Dyadic]]
    private let negativeSlope: [[Dyadic]]
    private let positiveSlope: [[Dyadic]]
    private let layerStart: [Int]
    private let inputSize: Int

    init(_ net: PiecewiseLinearNet) {
        weights = net.weights.map { w in (0..<w.rows).map { i in (0..<w.columns).map { Dyadic(w[i, $0]) } } }
        biases = net.biases.map { $0.map(Dyadic.init) }
        negativeSlope = net.negativeSlope.map { $0.map(Dyadic.init) }
        positiveSlope = net.positiveSlope.map { $0.map(Dyadic.init) }
        layerStart = net.layerStart
        inputSize = net.inputSize
    }

    /// The rows numbered `selected` (in the float rows' order: one per branched neuron, layer
    /// by layer up to the first layer with an undecided neuron), keyed by their number.
    func rows(bits: [Int8], branched: [Bool], selecting selected: Set<Int>) -> [Int: Row] {
        // Which row numbers each layer holds, to know how deep the forms must go.
        var rowLayer: [(layer: Int, neuron: Int)] = []
        for k in 0..<(weights.count - 1) {
            let start = layerStart[k]
            var complete = true
            for i in 0..<weights[k].count {
                if bits[start + i] < 0 { complete = false } else if branched[start + i] { rowLayer.append((k, i)) }
            }
            if !complete { break }
        }
        let wanted = selected.filter { rowLayer.indices.contains($0) }
        guard let deepest = wanted.map({ rowLayer[$0].layer }).max() else { return [:] }
        var out: [Int: Row] = [:]
        var a = weights[0]
        var c = biases[0]
        for k in 0...deepest {
            let start = layerStart[k]
            for number in wanted where rowLayer[number].layer == k {
                let i = rowLayer[number].neuron
                out[number] = bits[start + i] == 1 ? Row(a: a[i], b: c[i]) : Row(a: a[i].map { -$0 }, b: -c[i])
            }
            if k == deepest { break }
            // Next layer's forms: W_{k+1} diag(s) (A x + c) + b_{k+1}, only the neurons a
            // later layer or an asked row will use (all of them unless k + 1 is the deepest).
            let width = weights[k].count
            let slopes = (0..<width).map { i in bits[start + i] == 1 ? positiveSlope[k][i] : negativeSlope[k][i] }
            let w = weights[k + 1]
            let needed: [Int] = k + 1 == deepest
                ? wanted.filter { rowLayer[$0].layer == deepest }.map { rowLayer[$0].neuron }
                : Array(0..<w.count)
            var nextA = [[Dyadic]](repeating: [Dyadic](repeating: .zero, count: inputSize), count: w.count)
            var nextC = biases[k + 1]
            for r in needed {
                for i in 0..<width where !slopes[i].isZero && !w[r][i].isZero {
                    let factor = w[r][i] * slopes[i]
                    for j in 0..<inputSize where !a[i][j].isZero { nextA[r][j] = nextA[r][j] + factor * a[i][j] }
                    nextC[r] = nextC[r] + factor * c[i]
                }
            }
            a = nextA
            c = nextC
        }
        return out
    }
}
