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
/// Multiplicative steps λ ← λ·exp(−ηλ∂ρ*/ρ*) keep λ > 0; a step is taken only when S stays
/// positive definite and ρ* decreases (first on the smooth (Σμᵢᵖ)^{1/p} ≥ μ_max, p = 32, then on
/// μ_max), so the result is never above the chain's point. The point (ρ*, λ) is then certified
/// like the chain's (`ChainCertificate`), with w as its null direction. 20 steps per phase: on
/// mnist-net_256x4 they take ECLipsE from 1.056× LipSDP-Neuron's value to 1.040× (60: 1.035×).
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
        guard let mu = values.last, mu > 0, mu.isFinite else { return nil }
        var value = mu
        var weights = [Double](repeating: 0, count: values.count)
        if p.isInfinite {
            weights[values.count - 1] = 1
        } else {
            let sum = values.reduce(0) { $0 + pow(max($1, 0) / mu, p) }
            value = mu * pow(sum, 1 / p)
            for i in values.indices { weights[i] = pow(max(values[i], 0) / value, p - 1) }
        }
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

    /// Descends from `lambda` (LipSDP-convention multipliers of a point with S(λ) ≻ 0); returns
    /// the best point found, or nil when the start itself does not evaluate.
    static func refine(_ chain: LayerChain, from start: [[Double]], iterations: Int = 20, tolerance: Double = 1e-6,
                       context: JobContext) throws -> (rho: Double, multipliers: [[Double]], nullDirection: [[Double]])? {
        var lambda = start
        let problem = Problem(chain)
        guard var best = try evaluate(problem, lambda, power: .infinity) else { return nil }
        var bestLambda = lambda
        for power in [32.0, .infinity] {
            guard var current = try evaluate(problem, lambda, power: power) else { break }
            var eta = 0.5
            for _ in 0..<iterations {
                try context.checkCancelled()
                let g = current.value
                guard g > 0, g.isFinite else { break }
                var improved = false
                while eta > 1e-8 {
                    let trial = zip(lambda, current.gradient).map { l, d in
                        zip(l, d).map { li, gi in li * exp(max(-5, min(5, -eta * li * gi / g))) }
                    }
                    if let t = try evaluate(problem, trial, power: power), t.value < g {
                        lambda = trial
                        current = t
                        eta = min(eta * 2, 50)
                        improved = (g - t.value) / g > tolerance
                        // t.rho is ρ*(trial) itself (μ_max), whatever the power.
                        if t.rho < best.rho {
                            best = t
                            bestLambda = trial
                        }
                        break
                    }
                    eta /= 4
                }
                if !improved { break }
            }
            lambda = bestLambda
        }
        return (best.rho, bestLambda, best.nullDirection)
    }
}
