import Foundation
import LipscopeLinearAlgebra

/// The ℓ∞ contraction bound of a feedforward graph in its equilibrium form (GraphEquilibrium.swift),
/// kept sparse and block by block instead of forming the dense n × n matrix A: A is strictly lower
/// triangular, so its Metzler majorant ⌈A⌉ = |A| is nilpotent (spectral abscissa exactly 0, any
/// level t ∈ (0, 1) is reachable), and the least η ≥ r with t η ≥ |A| η — the exact optimum at
/// level t, as in ContractionAnalysis — is one forward substitution in node order,
///     η_k = max(r_k, (Σ_{edges j→k} β_j |W| η_j) / t),
/// since row k of |A| only reads earlier nodes. Each candidate η is then certified exactly as for
/// dense systems: μ_η with a rounding margin, ‖D‖∞ + ‖C[η]‖∞ ‖[η]⁻¹B‖∞ / (1 − μ_η).
struct GraphContraction {
    /// An edge between hidden nodes or into the output, with |W| β_source.
    struct Edge {
        var target: Int
        var source: Int
        var magnitude: SparseMatrix
    }

    let offsets: [Int]
    let hiddenEdges: [Edge]
    let outputEdges: [Edge]
    /// ‖row i of B‖₁ and ‖D‖∞.
    let inputRowSums: [Double]
    let feedthroughNorm: Double
    let outputCount: Int

    var stateSize: Int { offsets[offsets.count - 1] }

    /// nil when an activation has a negative slope (no equilibrium form with slopes in [0, 1]).
    init?(_ graph: NetworkGraph) {
        let net = graph.withLinearOutput
        let hidden = Array(net.nodes.dropLast())
        let slopes = hidden.map(\.activation.slopeBounds)
        guard slopes.allSatisfy({ $0.alpha >= 0 && $0.beta > 0 }) else { return nil }
        var offsets = [0]
        for node in hidden { offsets.append(offsets[offsets.count - 1] + node.size) }
        self.offsets = offsets
        var rowSums = [Double](repeating: 0, count: offsets[offsets.count - 1])
        var hiddenEdges: [Edge] = [], outputEdges: [Edge] = []
        let output = net.nodes[net.nodes.count - 1]
        var d = Matrix(rows: output.size, columns: net.inputSize)
        for (k, node) in net.nodes.enumerated() {
            let isOutput = k == net.nodes.count - 1
            for edge in node.inputs {
                switch edge.source {
                case .input:
                    if isOutput { d = d + edge.weight.dense }
                    else {
                        let sums = Self.absolute(edge.weight, scale: 1).absoluteRowSums
                        for i in sums.indices { rowSums[offsets[k] + i] += sums[i] }
                    }
                case .node(let j):
                    let e = Edge(target: k, source: j, magnitude: Self.absolute(edge.weight, scale: slopes[j].beta))
                    if isOutput { outputEdges.append(e) } else { hiddenEdges.append(e) }
                }
            }
        }
        self.hiddenEdges = hiddenEdges
        self.outputEdges = outputEdges
        inputRowSums = rowSums
        feedthroughNorm = d.infinityNorm
        outputCount = output.size
    }

    static func absolute(_ w: WeightMatrix, scale: Double) -> SparseMatrix {
        let s: SparseMatrix
        switch w { case .sparse(let m): s = m; case .dense(let m): s = SparseMatrix(m) }
        return SparseMatrix(rows: s.rows, columns: s.columns, rowStart: s.rowStart, columnIndex: s.columnIndex,
                            values: s.values.map { abs($0) * scale })
    }

    func block(_ v: [Double], _ j: Int) -> [Double] { Array(v[offsets[j]..<offsets[j + 1]]) }

    /// |A| η (all of it: A has no diagonal) — the off-diagonal mass of every row.
    func majorantTimes(_ eta: [Double]) -> [Double] {
        var out = [Double](repeating: 0, count: stateSize)
        for e in hiddenEdges {
            let term = e.magnitude * block(eta, e.source)
            for i in term.indices { out[offsets[e.target] + i] += term[i] }
        }
        return out
    }

    /// μ_η(A) = maxᵢ (|A|η)ᵢ / ηᵢ (a zero diagonal), which here is also the row magnitude.
    func weightedMeasure(_ eta: [Double]) -> Double {
        let pushed = majorantTimes(eta)
        return stateSize == 0 ? -.infinity : (0..<stateSize).map { pushed[$0] / eta[$0] }.max()!
    }

    /// The bound at weights η with outward rounding margins; nil when μ_η is not below 1.
    func certifiedBound(weights eta: [Double]) -> Double? {
        let n = stateSize
        let mu = max(0, weightedMeasure(eta))
        let muUpper = mu + 8 * Double(n + 1) * RoundingMargin.unit * mu
        guard muUpper < 1 else { return nil }
        var cRows = [Double](repeating: 0, count: outputCount)
        for e in outputEdges {
            let term = e.magnitude * block(eta, e.source)
            for i in term.indices { cRows[i] += term[i] }
        }
        let cNorm = cRows.max() ?? 0
        let bNorm = n == 0 ? 0 : (0..<n).map { inputRowSums[$0] / eta[$0] }.max()!
        let ops = n + outputCount + 8 + hiddenEdges.reduce(0) { $0 + $1.magnitude.columns }
        let gain = n == 0 ? 0 : cNorm * bNorm / (1 - muUpper)
        return RoundingMargin.inflate(feedthroughNorm + gain, operations: ops)
    }

    /// The least η ≥ r with |A| η ≤ t η: forward substitution over the nodes in order.
    func leastWeights(level t: Double, floor r: [Double]) -> [Double] {
        var eta = r
        for k in 0..<(offsets.count - 1) {
            var pushed = [Double](repeating: 0, count: offsets[k + 1] - offsets[k])
            for e in hiddenEdges where e.target == k {
                let term = e.magnitude * block(eta, e.source)
                for i in term.indices { pushed[i] += term[i] }
            }
            // (1 + 1e-12): the division rounds, and the certificate re-checks μ_η anyway.
            for i in pushed.indices { eta[offsets[k] + i] = max(r[offsets[k] + i], pushed[i] / t * (1 + 1e-12)) }
        }
        return eta
    }

    /// A being nilpotent, (I − ΦA)⁻¹Φ = Σₖ (ΦA)ᵏΦ is a finite sum for every slope diagonal
    /// 0 ≤ Φ ≤ I, so |J| ≤ |D| + |C| (I − |A|)⁻¹ |B| entrywise and ‖J‖∞ ≤ ‖D‖∞ + maxᵢ (|C| v)ᵢ
    /// with v = (I − |A|)⁻¹ |B| 1 by forward substitution — the path sum of absolute products,
    /// never above the naive graph bound (which takes norms edge by edge). This is the weighted
    /// bound's limit without its 1/(1 − μ_η) factor. Every term is non-negative, so rounding
    /// only scales the result by at most (1 + u) per operation along the longest sum.
    func absoluteProductBound() -> Double {
        var v = inputRowSums
        for k in 0..<(offsets.count - 1) {
            for e in hiddenEdges where e.target == k {
                let term = e.magnitude * block(v, e.source)
                for i in term.indices { v[offsets[k] + i] += term[i] }
            }
        }
        var rows = [Double](repeating: 0, count: outputCount)
        for e in outputEdges {
            let term = e.magnitude * block(v, e.source)
            for i in term.indices { rows[i] += term[i] }
        }
        let ops = 2 * (stateSize + outputCount + inputRowSums.count + hiddenEdges.reduce(0) { $0 + $1.magnitude.columns }
                       + outputEdges.reduce(0) { $0 + $1.magnitude.columns }) + 8
        return RoundingMargin.inflate(feedthroughNorm + (rows.max() ?? 0), operations: ops)
    }

    /// The bound minimized over η, as ContractionAnalysis.optimizeWeights with α(⌈A⌉) = 0.
    func optimizeWeights(context: JobContext) throws -> ContractionAnalysis.WeightSearch {
        let n = stateSize
        let ones = [Double](repeating: 1, count: n)
        var best = ContractionAnalysis.WeightSearch(weights: ones, bound: .infinity, candidates: [:], evaluations: 0)
        if let b = certifiedBound(weights: ones) { best.candidates["eta_ones"] = b; best.bound = b }
        if n == 0 { return best }
        let tiny = (inputRowSums.filter { $0 > 0 }.max() ?? 1) * 1e-9
        let floor = inputRowSums.map { max($0, tiny) }
        func evaluate(_ logU: Double) throws -> Double {
            try context.checkCancelled()
            best.evaluations += 1
            let t = exp(logU)
            guard let b = certifiedBound(weights: leastWeights(level: t, floor: floor)) else { return .infinity }
            if b < best.bound { best.bound = b; best.weights = leastWeights(level: t, floor: floor) }
            context.iteration(best.evaluations, [Metric("level", t), Metric("bound", b), Metric("best", best.bound)])
            return b
        }
        if try ContractionAnalysis.searchLevels(evaluate) { best.candidates["eta_level_search"] = best.bound }
        let product = absoluteProductBound()
        best.candidates["absolute_path_product"] = product
        if product < best.bound { best.bound = product; best.weights = [] }
        return best
    }
}

extension ContractionBound {
    /// Graphs: the same bounds from the sparse block form; α(⌈A⌉) = 0, so always well-posed.
    func runGraph(_ full: NetworkGraph, _ request: BoundRequest, context: JobContext) throws -> BoundResult {
        let graph = request.output.map { full.restricted(toOutput: $0) } ?? full
        guard let analysis = GraphContraction(graph) else { throw MethodFailure("no equilibrium form") }
        let ones = [Double](repeating: 1, count: analysis.stateSize)
        let plain = analysis.weightedMeasure(ones)
        var details: [String: JSONValue] = [
            "mu_inf": .number(analysis.stateSize == 0 ? 0 : plain),
            "best_weighted_mu": .number(0),
            "well_posed": .bool(true),
            "graph": .string("equilibrium form of the graph: A strictly block lower triangular (state = \(analysis.stateSize) hidden neurons), kept sparse; least weights by forward substitution"),
        ]
        if !weighted {
            guard let bound = analysis.certifiedBound(weights: ones) else {
                details["reason"] = .string("μ∞(A) = \(plain) ≥ 1 (or within rounding of 1): not contractive in the plain ℓ∞ norm")
                return result(request, value: nil, certified: false, status: .notContractive, details: details)
            }
            details["certificate"] = .string("closed form with η = 1; rounding margin added")
            return result(request, value: bound, certified: true, iterations: 1, details: details)
        }
        let search = try analysis.optimizeWeights(context: context)
        guard search.bound.isFinite else {
            details["reason"] = .string("no weights certified μ_η(A) < 1 (rounding)")
            return result(request, value: nil, certified: false, status: .notContractive, details: details)
        }
        if search.weights.isEmpty {
            // The absolute path product won: no η, no μ_η (A nilpotent makes the sum finite).
            details["certificate"] = .string("‖D‖∞ + max row of |C|(I − |A|)⁻¹|B| (A nilpotent: a finite sum of non-negative products, rounding bounded)")
            details["candidates"] = .object(search.candidates.mapValues { .number($0) })
            return result(request, value: search.bound, certified: true, iterations: search.evaluations, details: details)
        }
        if analysis.stateSize <= 10_000 { details["eta"] = .numbers(search.weights) }
        details["weighted_mu"] = .number(analysis.weightedMeasure(search.weights))
        details["candidates"] = .object(search.candidates.mapValues { .number($0) })
        details["certificate"] = .string("closed form at the returned η; rounding margin added")
        return result(request, value: search.bound, certified: true, iterations: search.evaluations, details: details)
    }
}
