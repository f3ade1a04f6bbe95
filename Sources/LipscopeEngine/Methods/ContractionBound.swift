import Foundation
import LipscopeLinearAlgebra

/// ℓ∞ contraction bounds for z = ψ(Az + Bu + b), y = Cz + Du (Jafarpour, Davydov, Proskurnikov,
/// Bullo 2021). With weights η > 0 and μ_η(A) = maxᵢ (aᵢᵢ + Σ_{j≠i} |aᵢⱼ| ηⱼ/ηᵢ) < 1 the network is
/// well-posed and ‖Δy‖∞ ≤ (‖D‖∞ + ‖C[η]‖∞ ‖[η]⁻¹B‖∞ / (1 − μ_η)) ‖Δu‖∞.
public struct ContractionBound: BoundMethod {
    public let weighted: Bool
    public var id: String { weighted ? "contraction-weighted" : "contraction" }
    public var label: String { weighted ? "Contraction (weighted)" : "Contraction" }
    public let kind = BoundKind.upper
    public let norms: [Norm] = [.linf]
    /// An input region and/or a margin make it a local bound (Regions/LocalContraction.swift).
    public var options: [MethodOption] { LocalScope.options }

    public init(weighted: Bool) { self.weighted = weighted }

    /// Past this many states a feedforward net takes the sparse graph form too: the dense
    /// analysis computes the Metzler majorant's spectral abscissa by a full eigen-decomposition
    /// (n³ — half an hour at marabou_cnn_max's 9 872 states), which for a chain is 0 anyway.
    public static let denseStateLimit = 1000

    public func applicability(_ request: BoundRequest) -> Applicability {
        if case .feedforward(let ff) = request.network, ff.withLinearOutput.hiddenNeuronCount > Self.denseStateLimit {
            return applicability(BoundRequest(network: .graph(NetworkGraph(ff)), norm: request.norm, output: request.output,
                                              seed: request.seed, options: request.options))
        }
        if case .graph(let g) = request.network {
            // Graphs: the equilibrium form stays sparse, by blocks (GraphContraction.swift).
            return g.withLinearOutput.nodes.dropLast().allSatisfy({ $0.activation.slopeBounds.alpha >= 0 })
                ? .applicable
                : .notApplicable("an activation has a negative slope; the contraction argument needs slopes in [0, 1]")
        }
        return request.network.equilibriumSystem == nil
            ? .notApplicable("an activation has a negative slope; the contraction argument needs slopes in [0, 1]")
            : .applicable
    }

    public func run(_ request: BoundRequest, context: JobContext) throws -> BoundResult {
        if let scope = try EquilibriumScope.ifLocal(request, parsed: try parseOptions(request)) {
            return try runLocal(request, scope: scope, context: context)
        }
        if case .graph(let g) = request.network { return try runGraph(g, request, context: context) }
        if case .feedforward(let ff) = request.network, ff.withLinearOutput.hiddenNeuronCount > Self.denseStateLimit {
            return try runGraph(NetworkGraph(ff), request, context: context)
        }
        guard var system = request.network.equilibriumSystem else { throw MethodFailure("no equilibrium form") }
        if let j = request.output { system = system.restricted(toOutput: j) }
        return try bound(system, request, details: [:], context: context)
    }

    /// The bound of one system (the network's, or a region's row-scaled one), its details added to `extra`.
    func bound(_ system: EquilibriumSystem, _ request: BoundRequest, details extra: [String: JSONValue],
               context: JobContext) throws -> BoundResult {
        let analysis = try ContractionAnalysis(system)
        var details: [String: JSONValue] = extra.merging([
            "mu_inf": .number(analysis.plainMeasure),
            "best_weighted_mu": .number(analysis.metzlerAbscissa),
        ]) { a, _ in a }
        if extra["well_posed"] == nil { details["well_posed"] = .bool(analysis.metzlerAbscissa < 1) }
        if !weighted {
            guard analysis.plainMeasure < 1 else {
                details["reason"] = .string("μ∞(A) = \(analysis.plainMeasure) ≥ 1: not contractive in the plain ℓ∞ norm")
                return result(request, value: nil, certified: false, status: .notContractive, details: details)
            }
            let ones = [Double](repeating: 1, count: system.stateSize)
            guard let bound = analysis.certifiedBound(weights: ones) else {
                details["reason"] = .string("μ∞(A) = \(analysis.plainMeasure) is within rounding of 1")
                return result(request, value: nil, certified: false, status: .notContractive, details: details)
            }
            details["certificate"] = .string("closed form with η = 1; rounding margin added")
            return result(request, value: bound, certified: true, iterations: 1, details: details)
        }
        guard analysis.metzlerAbscissa < 1 else {
            details["reason"] = .string("the Metzler majorant of A has spectral abscissa \(analysis.metzlerAbscissa) ≥ 1: no diagonal weighting makes the ℓ∞ measure < 1")
            return result(request, value: nil, certified: false, status: .notContractive, details: details)
        }
        // A net given as implicit keeps the paper's bound (its published and oracle values are
        // of that formula); a feedforward net's own equilibrium form also gets the path product.
        let isImplicit: Bool
        if case .implicit = request.network { isImplicit = true } else { isImplicit = false }
        let search = try analysis.optimizeWeights(context: context, pathProduct: !isImplicit)
        details["candidates"] = .object(search.candidates.mapValues { .number($0) })
        if search.weights.isEmpty {
            // The absolute path product won (A nilpotent): no η, no μ_η.
            details["certificate"] = .string("‖D‖∞ + max row of |C|(I − |A|)⁻¹|B| (A strictly lower triangular: a finite sum of non-negative products, rounding bounded)")
            return result(request, value: search.bound, certified: true, iterations: search.evaluations, details: details)
        }
        details["eta"] = .numbers(search.weights)
        details["weighted_mu"] = .number(analysis.weightedMeasure(search.weights))
        details["candidates"] = .object(search.candidates.mapValues { .number($0) })
        details["certificate"] = .string("closed form at the returned η; rounding margin added")
        return result(request, value: search.bound, certified: true, iterations: search.evaluations, details: details)
    }
}

/// The measures, the Metzler majorant and the weight search for one equilibrium system.
struct ContractionAnalysis {
    let system: EquilibriumSystem
    /// ⌈A⌉: aᵢᵢ on the diagonal, |aᵢⱼ| off it.
    let majorant: Matrix
    /// ⌈A⌉ split as diagonal + non-negative off-diagonal part, so the hot loops are BLAS products.
    let diagonal: [Double]
    let offDiagonal: Matrix
    let plainMeasure: Double
    /// Spectral abscissa of ⌈A⌉ = inf over η of μ_η(A).
    let metzlerAbscissa: Double
    let perronVector: [Double]
    /// ‖row i of B‖₁ and ‖D‖∞, which the bound needs for every η.
    let inputRowSums: [Double]
    let feedthroughNorm: Double

    init(_ system: EquilibriumSystem) throws {
        self.system = system
        let n = system.stateSize
        var off = Matrix(rows: n, columns: n, storage: system.A.storage.map(abs))
        for i in 0..<n { off[i, i] = 0 }
        offDiagonal = off
        diagonal = (0..<n).map { system.A[$0, $0] }
        majorant = off + .diagonal(diagonal)
        inputRowSums = system.B.absoluteRowSums
        feedthroughNorm = system.D.infinityNorm
        let ones = [Double](repeating: 1, count: n)
        if n == 0 {
            plainMeasure = -.infinity; metzlerAbscissa = -.infinity; perronVector = []
            return
        }
        plainMeasure = zip(diagonal, offDiagonal * ones).map(+).max()!
        let eigen = try LinearAlgebra.generalEigen(majorant)
        let top = eigen.real.indices.max { eigen.real[$0] < eigen.real[$1] }!
        metzlerAbscissa = eigen.real[top]
        let v = eigen.vectors.column(top).map(abs)
        let scale = v.max() ?? 1
        perronVector = v.map { max($0 / max(scale, .leastNormalMagnitude), 1e-12) }
    }

    /// μ_η(A) = maxᵢ (aᵢᵢ + Σ_{j≠i} |aᵢⱼ| ηⱼ/ηᵢ), and the largest row magnitude (for rounding margins).
    func measureAndMagnitude(_ eta: [Double]) -> (mu: Double, magnitude: Double) {
        let offTimesEta = offDiagonal * eta
        var mu = -Double.infinity, magnitude = 0.0
        for i in 0..<system.stateSize {
            let off = offTimesEta[i] / eta[i]
            mu = max(mu, diagonal[i] + off)
            magnitude = max(magnitude, abs(diagonal[i]) + off)
        }
        return (mu, magnitude)
    }

    func weightedMeasure(_ eta: [Double]) -> Double { measureAndMagnitude(eta).mu }

    /// The bound at weights η, computed with outward rounding margins; nil when μ_η ≥ 1.
    func certifiedBound(weights eta: [Double]) -> Double? {
        let n = system.stateSize
        let (mu, magnitude) = measureAndMagnitude(eta)
        let muUpper = mu + 8 * Double(n + 1) * RoundingMargin.unit * magnitude
        guard muUpper < 1 else { return nil }
        let cNorm = system.C.scalingColumns(by: eta).infinityNorm
        let bNorm = n == 0 ? 0 : (0..<n).map { inputRowSums[$0] / eta[$0] }.max()!
        let ops = n + system.B.columns + system.C.rows + 8
        let gain = n == 0 ? 0 : cNorm * bNorm / (1 - muUpper)
        return RoundingMargin.inflate(feedthroughNorm + gain, operations: ops)
    }

    /// The smallest η ≥ r with (tI − M)η ≥ 0, M the Metzler majorant. The feasible set is closed
    /// under componentwise min (M is Metzler), so this least element minimizes ‖C[η]‖∞ among all η
    /// with μ_η ≤ t and ‖[η]⁻¹B‖∞ ≤ 1: the exact optimum of the bound at level t. Policy iteration:
    /// rows where η is pushed above r hold with equality; each step solves one linear system.
    func leastWeights(level t: Double, floor r: [Double]) -> [Double]? {
        let n = system.stateSize
        var eta = r
        var active = [Bool](repeating: false, count: n)
        for _ in 0...(n + 1) {
            var changed = false
            let pushed = offDiagonal * eta
            for i in 0..<n where !active[i] && pushed[i] > (t - diagonal[i]) * r[i] * (1 + 1e-13) {
                active[i] = true; changed = true
            }
            if !changed { return eta }
            // Rows in E hold with equality: (t − mᵢᵢ)ηᵢ − Σ_{j∈E} mᵢⱼηⱼ = Σ_{j∉E} mᵢⱼ rⱼ.
            let rows = (0..<n).filter { active[$0] }
            let fixedPart = offDiagonal * (0..<n).map { active[$0] ? 0 : r[$0] }
            var lhs = Matrix(rows: rows.count, columns: rows.count)
            offDiagonal.storage.withUnsafeBufferPointer { m in
                lhs.storage.withUnsafeMutableBufferPointer { l in
                    for (b, j) in rows.enumerated() {
                        for (a, i) in rows.enumerated() { l[a + b * rows.count] = -m[i + j * n] }
                        l[b + b * rows.count] = t - diagonal[j]
                    }
                }
            }
            let rhs = rows.map { fixedPart[$0] }
            guard let solution = try? LinearAlgebra.solve(lhs, rhs),
                  solution.allSatisfy({ $0.isFinite && $0 > 0 }) else { return nil }
            for (a, i) in rows.enumerated() { eta[i] = max(solution[a], r[i]) }
        }
        return eta
    }

    struct WeightSearch {
        var weights: [Double]
        var bound: Double
        var candidates: [String: Double]
        var evaluations: Int
    }

    /// Minimizes the bound over η: exact at each level t = μ_η, a scan and golden-section search
    /// over t ∈ (α(⌈A⌉), 1); the plain and Perron weights are kept as candidates.
    func optimizeWeights(context: JobContext, pathProduct: Bool = false) throws -> WeightSearch {
        let n = system.stateSize
        let ones = [Double](repeating: 1, count: n)
        var best = WeightSearch(weights: ones, bound: .infinity, candidates: [:], evaluations: 0)
        func consider(_ name: String?, _ eta: [Double]) {
            guard let b = certifiedBound(weights: eta) else { return }
            if let name { best.candidates[name] = b }
            if b < best.bound { best.bound = b; best.weights = eta }
        }
        consider("eta_ones", ones)
        consider("eta_perron", perronVector)
        if n == 0 { return best }
        let positiveRows = inputRowSums.filter { $0 > 0 }
        let tiny = (positiveRows.max() ?? 1) * 1e-9
        let floor = inputRowSums.map { max($0, tiny) }
        let alpha = metzlerAbscissa
        func evaluate(_ logU: Double) throws -> Double {
            try context.checkCancelled()
            best.evaluations += 1
            let t = alpha + (1 - alpha) * exp(logU)
            guard let eta = leastWeights(level: t, floor: floor), let b = certifiedBound(weights: eta) else {
                return .infinity
            }
            if b < best.bound { best.bound = b; best.weights = eta }
            context.iteration(best.evaluations, [Metric("level", t), Metric("bound", b), Metric("best", best.bound)])
            return b
        }
        if try Self.searchLevels(evaluate) { best.candidates["eta_level_search"] = best.bound }
        if pathProduct, let product = absoluteProductBound() {
            best.candidates["absolute_path_product"] = product
            if product < best.bound { best.bound = product; best.weights = [] }
        }
        return best
    }

    /// A feedforward net's equilibrium (A strictly lower triangular, so nilpotent): the finite
    /// Neumann series gives |J| ≤ |D| + |C|(I − |A|)⁻¹|B| entrywise for every slope diagonal in
    /// [0, I], so ‖J‖∞ ≤ ‖D‖∞ + maxᵢ(|C|v)ᵢ with v = (I − |A|)⁻¹|B|1 by forward substitution —
    /// the bound the graph form computes (GraphContraction.absoluteProductBound), here from the
    /// dense matrices. nil for an A with entries on or above the diagonal.
    func absoluteProductBound() -> Double? {
        let n = system.stateSize
        guard n > 0 else { return nil }
        for j in 0..<n { for i in 0...j where system.A[i, j] != 0 { return nil } }
        var v = inputRowSums
        for i in 0..<n {
            var sum = v[i]
            for j in 0..<i { sum += offDiagonal[i, j] * v[j] }
            v[i] = sum
        }
        let rows = (0..<system.C.rows).map { r in (0..<n).reduce(0.0) { $0 + abs(system.C[r, $1]) * v[$1] } }
        let ops = 2 * (2 * n + system.B.columns + system.C.rows) + 8
        return RoundingMargin.inflate(feedthroughNorm + (rows.max() ?? 0), operations: ops)
    }

    /// Minimizes f(log u) over the levels t = α + (1 − α)u, u ∈ (0, 1): a scan of
    /// log u ∈ [log 1e-9, log(1 − 1e-9)], then a golden-section refinement around the best grid point.
    /// False when no grid level gave a bound.
    static func searchLevels(_ evaluate: (Double) throws -> Double) throws -> Bool {
        let low = log(1e-9), high = log(1 - 1e-9)
        let grid = (0..<24).map { low + (high - low) * Double($0) / 23 }
        let values = try grid.map { try evaluate($0) }
        guard let k = values.indices.min(by: { values[$0] < values[$1] }), values[k].isFinite else { return false }
        var a = grid[max(0, k - 1)], b = grid[min(grid.count - 1, k + 1)]
        let ratio = (5.0.squareRoot() - 1) / 2
        var x1 = b - ratio * (b - a), x2 = a + ratio * (b - a)
        var f1 = try evaluate(x1), f2 = try evaluate(x2)
        for _ in 0..<40 where b - a > 1e-4 {
            if f1 <= f2 { b = x2; x2 = x1; f2 = f1; x1 = b - ratio * (b - a); f1 = try evaluate(x1) }
            else { a = x1; x1 = x2; f1 = f2; x2 = a + ratio * (b - a); f2 = try evaluate(x2) }
        }
        return true
    }
}
