import Foundation
import CLapack
import LipscopeLinearAlgebra

/// All layers' multipliers at once after the layer-by-layer chain. ECLipsE picks Lₖ greedily
/// (each layer for the next one only); LipSDP-Neuron's optimum is min over all λ of
///     ρ*(λ) = min {ρ : −M(ρ, λ) ⪰ 0},
/// a convex function of λ. For slopes with αβ = 0 (ReLU) the input block of −M is ρI, so with
/// S(λ) the hidden part of −M (block tridiagonal, independent of ρ) and B its coupling to the
/// input, ρ*(λ) = λ_max(BᵀS⁻¹B) when S(λ) ≻ 0. S is eliminated from the output side
/// (Tₕ = 2Λₕ − W_outᵀW_out, Tₖ₋₁ = 2Λₖ₋₁ − FₖᵀFₖ with Fₖ = Rₖ⁻¹CₖWₖ, Tₖ = RₖRₖᵀ), and
/// ρ* = λ_max(F₁F₁ᵀ) with F₁ = R₁⁻¹C₁W₁ (Cₖ = diag((α+β)λₖ)). With v the top input direction,
/// w = (v, w₁, …, wₕ), wₖ = Tₖ⁻¹Cₖ Wₖ wₖ₋₁, is a null vector of −M(ρ*, λ), and (envelope theorem)
///     ∂ρ*/∂λₖᵢ = −(2wₖᵢ² − 2(αᵢ+βᵢ) wₖᵢ pₖᵢ) / ‖v‖²,   pₖ = Wₖwₖ₋₁.
/// ρ* is minimised by L-BFGS in log λ (so λ > 0) on the smooth (Σμᵢᵖ)^{1/p} ≥ μ_max over the top
/// 16 eigenvalues (p = 16, then 64); a trial point is accepted only when S stays positive definite
/// and the Armijo condition holds, and the best μ_max seen is kept, so the result is never above
/// the chain's point. The point (ρ*, λ) is then certified like the chain's (`ChainCertificate`),
/// with w as its null direction. Measured (ECLipsE ÷ LipSDP-Neuron, 40 layer-descent steps):
/// ERAN 9×200 1.538× (20 multiplicative steps per phase) → 1.009×; mnist-net_256x4 1.039× →
/// 1.016× (with 20 layer-descent steps, as now: 1.010× and 1.033×).
enum JointRefinement {
    struct Point {
        var value: Double
        var rho: Double
        var gradient: [[Double]]
        var nullDirection: [[Double]]
    }

    /// Applies when every hidden layer has αβ = 0 (the input block of −M is then ρI).
    static func applies(_ chain: LayerChain) -> Bool {
        chain.hidden.allSatisfy { l in zip(l.alpha, l.beta).allSatisfy { $0 * $1 == 0 } }
    }

    /// L⁻¹X (left = true) or L⁻ᵀX for lower-triangular L.
    static func solve(_ l: Matrix, _ x: inout Matrix, transposed: Bool) {
        if x.rows == 0 || x.columns == 0 { return }
        let n = l.rows
        l.storage.withUnsafeBufferPointer { ls in
            x.storage.withUnsafeMutableBufferPointer { xs in
                cblas_dtrsm(CblasColMajor, CblasLeft, CblasLower, transposed ? CblasTrans : CblasNoTrans, CblasNonUnit,
                            Int32(n), Int32(x.columns), 1, ls.baseAddress!, Int32(n), xs.baseAddress!, Int32(n))
            }
        }
    }

    /// The fixed products: G = W₁W₁ᵀ (ρ* needs F₁F₁ᵀ = R₁⁻¹C₁GC₁R₁⁻ᵀ, not the n₀-wide F₁) and
    /// W_outᵀW_out.
    struct Problem {
        let chain: LayerChain
        let gram: Matrix
        let outputGram: Matrix
        init(_ chain: LayerChain) {
            self.chain = chain
            gram = ChainAlgebra.gram(chain.hidden[0].weight)
            outputGram = Matrix.transposeTimes(chain.output, chain.output)
        }
    }

    /// The top `count` eigenpairs of the symmetric `a` (dsyevr), ascending.
    static func topEigen(_ a: Matrix, count: Int) throws -> (values: [Double], vectors: Matrix) {
        let n = a.rows
        let r = min(count, n)
        var work = a.storage
        var m: Int32 = 0
        var w = [Double](repeating: 0, count: n)
        var z = [Double](repeating: 0, count: n * r)
        var support = [Int32](repeating: 0, count: 2 * r)
        let info = LAPACKE_dsyevr(LAPACK_COL_MAJOR, CChar(UInt8(ascii: "V")), CChar(UInt8(ascii: "I")), CChar(UInt8(ascii: "L")),
                                  Int32(n), &work, Int32(n), 0, 0, Int32(n - r + 1), Int32(n), 0, &m, &w, &z, Int32(n), &support)
        if info != 0 || Int(m) != r { throw MethodFailure("LAPACK dsyevr failed (info = \(info))") }
        return (Array(w[0..<r]), Matrix(rows: n, columns: r, storage: z))
    }

    /// ρ*(λ), the surrogate value for `power` (over the top 16 eigenvalues), its gradient, and
    /// the null direction; nil when S(λ) is not numerically positive definite.
    static func evaluate(_ problem: Problem, _ lambda: [[Double]], power p: Double) throws -> Point? {
        let chain = problem.chain
        let h = chain.hidden.count
        let c = (0..<h).map { k in (0..<chain.hidden[k].width).map { (chain.hidden[k].alpha[$0] + chain.hidden[k].beta[$0]) * lambda[k][$0] } }
        var factors = [Matrix](repeating: Matrix(rows: 0, columns: 0), count: h)
        var t = problem.outputGram
        t.storage.withUnsafeMutableBufferPointer { ts in
            let n = chain.hidden[h - 1].width
            for j in 0..<ts.count { ts[j] = -ts[j] }
            for i in 0..<n { ts[i + i * n] += 2 * lambda[h - 1][i] }
        }
        for k in stride(from: h - 1, through: 0, by: -1) {
            guard let r = LinearAlgebra.cholesky(t) else { return nil }
            factors[k] = r
            if k == 0 { break }
            var f = chain.hidden[k].weight.scalingRows(by: c[k])
            solve(r, &f, transposed: false)
            t = Matrix.transposeTimes(f, f)
            let n = chain.hidden[k - 1].width
            t.storage.withUnsafeMutableBufferPointer { ts in
                for j in 0..<ts.count { ts[j] = -ts[j] }
                for i in 0..<n { ts[i + i * n] += 2 * lambda[k - 1][i] }
            }
        }
        // K = R₁⁻¹C₁GC₁R₁⁻ᵀ.
        let n1 = chain.hidden[0].width
        var m = problem.gram.scalingRows(by: c[0]).scalingColumns(by: c[0])
        solve(factors[0], &m, transposed: false)
        var k1 = m.transposed
        solve(factors[0], &k1, transposed: false)
        for j in 0..<n1 { for i in (j + 1)..<max(j + 1, n1) { let v = (k1[i, j] + k1[j, i]) / 2; k1[i, j] = v; k1[j, i] = v } }
        let (values, vectors) = try topEigen(k1, count: p.isInfinite ? 1 : 16)
        guard let (value, weights) = SmoothedMaximum.valueAndWeights(values, p: p) else { return nil }
        let mu = values[values.count - 1]
        let used = values.indices.filter { weights[$0] > 1e-12 && values[$0] > 0 }
        // u = C₁R₁⁻ᵀyᵢ·√(ωᵢ/μᵢ): the input direction is vᵢ = W₁ᵀu (unit up to √ωᵢ), p₁ = W₁vᵢ = Gu.
        var u = Matrix(rows: n1, columns: used.count)
        for (col, i) in used.enumerated() {
            let s = (weights[i] / values[i]).squareRoot()
            for r in 0..<n1 { u[r, col] = vectors[r, i] * s }
        }
        solve(factors[0], &u, transposed: true)
        u = u.scalingRows(by: c[0])
        let topScale = 1 / weights[used[used.count - 1]].squareRoot()
        let v = Matrix.transposeTimes(chain.hidden[0].weight, u)
        var null = [v.column(used.count - 1).map { $0 * topScale }]
        var gradient = [[Double]]()
        var w = Matrix(rows: 0, columns: 0)
        for k in 0..<h {
            let layer = chain.hidden[k]
            let pk = k == 0 ? problem.gram * u : layer.weight * w   // nₖ × r
            var next = pk.scalingRows(by: c[k])
            solve(factors[k], &next, transposed: false)
            solve(factors[k], &next, transposed: true)
            var g = [Double](repeating: 0, count: layer.width)
            next.storage.withUnsafeBufferPointer { ns in
                pk.storage.withUnsafeBufferPointer { ps in
                    for col in 0..<used.count {
                        for i in 0..<layer.width {
                            let x = ns[i + col * layer.width], q = ps[i + col * layer.width]
                            g[i] -= 2 * x * x - 2 * (layer.alpha[i] + layer.beta[i]) * x * q
                        }
                    }
                }
            }
            gradient.append(g)
            null.append(next.column(used.count - 1).map { $0 * topScale })
            w = next
        }
        return Point(value: value, rho: mu, gradient: gradient, nullDirection: null)
    }

    /// Descends from `lambda` (LipSDP-convention multipliers of a point with S(λ) ≻ 0) by L-BFGS
    /// (memory 10) on x = log λ for f = log of the smooth surrogate, first with p = 16 then p = 64
    /// (`iterations` split between them; each phase restarts the memory from the best point). The
    /// line search backtracks from the unit step (Armijo) and rejects points where S(λ) is not
    /// positive definite; a phase ends when f gained less than `stall` over its last 5 steps, and
    /// the p = 64 phase runs only when the first one lowered ρ* by more than 1 %.
    /// Every evaluated point's ρ* = μ_max is a valid value and the best one is returned, so the
    /// result is never above the start. Returns nil when the start itself does not evaluate.
    static func refine(_ chain: LayerChain, from start: [[Double]], iterations: Int = 90, tolerance: Double = 1e-7, stall: Double = 1e-3,
                       context: JobContext) throws -> (rho: Double, multipliers: [[Double]], nullDirection: [[Double]], evaluations: Int)? {
        let problem = Problem(chain)
        var evaluations = 1
        guard var best = try evaluate(problem, start, power: .infinity) else { return nil }
        var bestLambda = start
        let startRho = best.rho
        let sizes = start.map(\.count)
        func unpack(_ x: [Double]) -> [[Double]] {
            var out = [[Double]](), o = 0
            for n in sizes { out.append(x[o..<(o + n)].map { exp($0) }); o += n }
            return out
        }
        func dot(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }
        var x = start.flatMap { $0.map { log($0) } }
        let phases: [(Double, Int)] = [(16, iterations / 2), (64, iterations - iterations / 2)]
        for (phase, (power, budget)) in phases.enumerated() {
            // The sharper phase only when the first one moved ρ* by more than 1 %.
            if phase > 0, best.rho > 0.99 * startRho { break }
            x = bestLambda.flatMap { $0.map { log($0) } }
            // f = log g, ∂f/∂xᵢ = λᵢ ∂g/∂λᵢ / g.
            func objective(_ x: [Double]) throws -> (f: Double, g: [Double], point: Point)? {
                let lambda = unpack(x)
                evaluations += 1
                guard let t = try evaluate(problem, lambda, power: power), t.value > 0, t.value.isFinite else { return nil }
                let grad = zip(lambda.joined(), t.gradient.joined()).map { $0 * $1 / t.value }
                if t.rho < best.rho { best = t; bestLambda = lambda }
                return (log(t.value), grad, t)
            }
            guard var current = try objective(x) else { continue }
            var memory = [(s: [Double], y: [Double], rho: Double)]()
            var history = [current.f]
            for _ in 0..<budget {
                try context.checkCancelled()
                // Two-loop recursion: d = −H∇f.
                var q = current.g
                var alphas = [Double](repeating: 0, count: memory.count)
                for (j, m) in memory.enumerated().reversed() {
                    alphas[j] = m.rho * dot(m.s, q)
                    for i in q.indices { q[i] -= alphas[j] * m.y[i] }
                }
                if let last = memory.last {
                    let gamma = dot(last.s, last.y) / dot(last.y, last.y)
                    for i in q.indices { q[i] *= gamma }
                } else {
                    // First step: at most 0.5 in log λ.
                    let top = q.map(abs).max() ?? 0
                    if top > 0 { for i in q.indices { q[i] *= 0.5 / top } }
                }
                for (j, m) in memory.enumerated() {
                    let b = m.rho * dot(m.y, q)
                    for i in q.indices { q[i] += (alphas[j] - b) * m.s[i] }
                }
                var d = q.map { -$0 }
                var slope = dot(current.g, d)
                if !(slope < 0) {
                    memory.removeAll()
                    let top = current.g.map(abs).max() ?? 0
                    guard top > 0 else { break }
                    d = current.g.map { -0.5 * $0 / top }
                    slope = dot(current.g, d)
                }
                // Steps beyond 5 in log λ are cut.
                let longest = d.map(abs).max() ?? 0
                var step = longest > 5 ? 5 / longest : 1
                var accepted: (f: Double, g: [Double], point: Point)? = nil
                var trialX = x
                for _ in 0..<12 {
                    trialX = zip(x, d).map { $0 + step * $1 }
                    if let t = try objective(trialX), t.f <= current.f + 1e-4 * step * slope {
                        accepted = t
                        break
                    }
                    step *= 0.3
                }
                guard let next = accepted else { break }
                let s = zip(trialX, x).map { $0 - $1 }
                let y = zip(next.g, current.g).map { $0 - $1 }
                let sy = dot(s, y)
                if sy > 1e-12 * dot(y, y).squareRoot() * dot(s, s).squareRoot() {
                    memory.append((s, y, 1 / sy))
                    if memory.count > 10 { memory.removeFirst() }
                }
                let decrease = current.f - next.f
                x = trialX
                current = next
                history.append(next.f)
                if decrease < tolerance { break }
                // Stalled: less than `stall` (relative, in the surrogate) over the last 5 steps.
                if history.count > 5, history[history.count - 6] - next.f < stall { break }
            }
        }
        return (best.rho, bestLambda, best.nullDirection, evaluations)
    }
}
