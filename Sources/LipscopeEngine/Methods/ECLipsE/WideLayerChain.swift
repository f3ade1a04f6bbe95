import Foundation
import LipscopeLinearAlgebra

/// ECLipsE-Fast for a network with one hidden layer much wider than its input (the verivital
/// avg-pool net: 784 → 23 328 → 10), worked on the input side so nothing n₁ × n₁ is formed.
///
/// Closed form (L₁ = ℓI, Y = mW₁, G = W₁ᵀW₁, P = W_oW₁): λ_max(K̂₁) = m²λ_max(G), ℓ = 1/(2m²λ_max(G)),
/// and by Woodbury X₁⁻¹ = ℓ⁻¹(I + ℓm²W₁(I − ℓm²G)⁻¹W₁ᵀ), so
///     ρ = ℓ⁻¹ λ_max(W_oW_oᵀ + ℓm² P(I − ℓm²G)⁻¹Pᵀ),   λ = ρℓ/2 for every neuron.
/// Certificate, exact algebra: −M = [[D₀, Oᵀ], [O, 2λI − W_oᵀW_o]] (D₀ = ρI + 2αβλG,
/// O = −(α+β)λW₁) is the Schur complement of 𝓜 = [[D₀, Oᵀ, 0], [O, 2λI, W_oᵀ], [0, W_o, I]] on
/// its last block, so −M ≻ 0 ⇔ 𝓜 ≻ 0 ⇔ (Schur complement on 2λI, times 2λ)
///     R = [[2λρI − (β−α)²λ²G, (α+β)λPᵀ], [(α+β)λP, 2λI − W_oW_oᵀ]] ≻ 0,
/// a matrix of size n₀ + q. Its entries are sums of ≤ n₁ + 8 rounded terms (|Δ| ≤ γ·|R|-terms,
/// ‖Δ‖₂ ≤ ‖Δ‖_F); a Cholesky of DRD − cI (D powers of two, c twice the build and Cholesky
/// bounds, as in `ChainCertificate`) proves R ≻ 0.
enum WideLayerChain {
    struct Outcome {
        var rho: Double
        var lambda: Double
        var certified: Double?
        var margin: Double
        var failure: String?
    }

    /// Applies when the net has one hidden layer and its input side is small enough to be dense.
    static func applies(_ net: FeedforwardNetwork) -> Bool {
        net.hiddenLayers.count == 1 && net.inputSize + net.outputSize <= ECLipsEBound.maximumWidth
    }

    static func run(_ net: FeedforwardNetwork, context: JobContext) throws -> Outcome {
        let layer = net.hiddenLayers[0]
        let (alpha, beta) = layer.activation.slopeBounds
        let m = (alpha + beta) / 2
        let w1 = layer.weight
        let wo = net.layers[net.layers.count - 1].weight.dense
        let n0 = net.inputSize, n1 = layer.outputSize, q = wo.rows
        let ones = [Double](repeating: 1, count: n1)
        let g: Matrix, gAbs: Matrix, p: Matrix, pAbs: Matrix
        switch w1 {
        case .sparse(let s):
            g = ChainSparse.columnGram(s, rowScale: ones)
            gAbs = ChainSparse.columnGram(s, rowScale: ones, absolute: true)
            p = ChainSparse.denseTimesSparse(wo, s)
            pAbs = ChainSparse.denseTimesSparse(wo, s, absolute: true)
        case .dense(let d):
            let dAbs = Matrix(rows: d.rows, columns: d.columns, storage: d.storage.map(abs))
            let woAbs = Matrix(rows: wo.rows, columns: wo.columns, storage: wo.storage.map(abs))
            g = Matrix.transposeTimes(d, d)
            gAbs = Matrix.transposeTimes(dAbs, dAbs)
            p = wo * d
            pAbs = woAbs * dAbs
        }
        try context.checkCancelled()
        let woAbs = Matrix(rows: wo.rows, columns: wo.columns, storage: wo.storage.map(abs))
        let oo = ChainAlgebra.gram(wo)
        let ooAbs = ChainAlgebra.gram(woAbs)
        // The closed form.
        let mu = try ChainAlgebra.topEigenvalue(g)
        guard mu > 0, mu.isFinite, m > 0 else { throw ChainRecursion.Breakdown(description: "the hidden layer's coupling is zero") }
        let ell = 1 / (2 * m * m * mu)
        var a = Matrix.identity(n0)
        for j in 0..<n0 { for i in 0..<n0 { a[i, j] -= ell * m * m * g[i, j] } }
        guard let r = LinearAlgebra.cholesky(a) else {
            throw ChainRecursion.Breakdown(description: "I − ℓm²W₁ᵀW₁ is not numerically positive definite (λ_max underestimated)")
        }
        let z = ChainAlgebra.solveRightLowerTransposed(p, r)
        var s = ChainAlgebra.gram(z)
        for j in 0..<q { for i in 0..<q { s[i, j] = oo[i, j] + ell * m * m * s[i, j] } }
        let rho = try ChainAlgebra.largestEigenvalue(s) / ell
        guard rho > 0, rho.isFinite else { throw ChainRecursion.Breakdown(description: "ρ = \(rho)") }
        let lambda = rho * ell / 2
        // The certificate, at ρ(1 + t), λ(1 + t).
        var lastFailure = ""
        for t in [1e-10, 1e-8, 1e-6, 1e-4, 1e-2] {
            try context.checkCancelled()
            let rr = rho * (1 + t), ll = lambda * (1 + t)
            if let c = check(rho: rr, lambda: ll, alpha: alpha, beta: beta, g: g, gAbs: gAbs, p: p, pAbs: pAbs,
                             oo: oo, ooAbs: ooAbs, terms: n1 + 8, failure: &lastFailure) {
                return Outcome(rho: rho, lambda: lambda, certified: rr, margin: c, failure: nil)
            }
        }
        return Outcome(rho: rho, lambda: lambda, certified: nil, margin: 0,
                       failure: "no ρ within a factor 1.01 of the closed form's passes: \(lastFailure)")
    }

    /// One Cholesky of DRD − cI; returns c on success.
    static func check(rho: Double, lambda: Double, alpha: Double, beta: Double, g: Matrix, gAbs: Matrix,
                      p: Matrix, pAbs: Matrix, oo: Matrix, ooAbs: Matrix, terms: Int, failure: inout String) -> Double? {
        let n0 = g.rows, q = oo.rows, n = n0 + q
        var rm = Matrix(rows: n, columns: n)
        var ra = Matrix(rows: n, columns: n)
        let spread = (beta - alpha) * (beta - alpha) * lambda * lambda
        let cross = (alpha + beta) * lambda
        for j in 0..<n0 {
            for i in 0..<n0 {
                rm[i, j] = (i == j ? 2 * lambda * rho : 0) - spread * g[i, j]
                ra[i, j] = (i == j ? 2 * lambda * rho : 0) + spread * gAbs[i, j]
            }
            for i in 0..<q {
                rm[n0 + i, j] = cross * p[i, j]; rm[j, n0 + i] = rm[n0 + i, j]
                ra[n0 + i, j] = abs(cross) * pAbs[i, j]; ra[j, n0 + i] = ra[n0 + i, j]
            }
        }
        for j in 0..<q { for i in 0..<q {
            rm[n0 + i, n0 + j] = (i == j ? 2 * lambda : 0) - oo[i, j]
            ra[n0 + i, n0 + j] = (i == j ? 2 * lambda : 0) + ooAbs[i, j]
        } }
        var exps: [Int] = []
        for i in 0..<n {
            let d = rm[i, i]
            guard d > 0, d.isFinite else { failure = "diagonal entry \(i) of R is \(d) ≤ 0"; return nil }
            exps.append(max(-400, min(400, -Int((log2(d) / 2).rounded()))))
        }
        var sq = 0.0, diagonalSum = 0.0
        for j in 0..<n { for i in 0..<n {
            let e = exps[i] + exps[j]
            rm[i, j] = scalbn(rm[i, j], e)
            ra[i, j] = scalbn(ra[i, j], e)
            sq += ra[i, j] * ra[i, j]
        } }
        for i in 0..<n { diagonalSum += abs(rm[i, i]) }
        let buildError = LMICertifier.gamma(terms) * sq.squareRoot()
        let c = 2 * (buildError + LMICertifier.gamma(n + 2) * diagonalSum * 1.01) + Double(n) * Double.leastNormalMagnitude * 1e20
        for i in 0..<n { rm[i, i] -= c }
        guard LinearAlgebra.cholesky(rm) != nil else { failure = "R − \(c)·I fails the Cholesky"; return nil }
        return c
    }
}
