import Foundation
import LipscopeLinearAlgebra

/// The LipSDP-Neuron certificate of `LMICertifier`, computed block by block: −M of the network
/// as given (no scaling, no input reduction) with per-neuron multipliers λ ≥ 0 is block
/// tridiagonal over (input, hidden 1, …, hidden h), so its Cholesky factor has no fill outside
/// the band and a block Cholesky *is* the Cholesky of −M. The rounding analysis is `LMICertifier`'s: entries of −M
/// carry at most K rounded terms (|Δ| ≤ γ_K|−M|, ‖Δ‖₂ ≤ ‖Δ‖_F), a Cholesky that completes on
/// A proves A + ΔA ⪰ 0 with ‖ΔA‖₂ ≤ γ_{n+1}Σ|aᵢᵢ| (Demmel 1989; the blocked order only changes
/// the order of each entry's inner product), so a Cholesky of D(−M)D − cI with c twice the sum
/// of both bounds proves −M ≻ 0 (D = diag(2^{kᵢ}), exact equilibration). The blocks are taken in
/// the chain's order (input first). The chain's point is tight at the last layer, and a larger
/// input term alone barely reaches it in a deep net (its effect decays layer by layer), so a trial
/// ρ' = ρ(1 + t) scales every multiplier by 1 + t too: the chain is homogeneous, the Schur
/// complements become (1 + t)ρXₖ and the last one ρ'X_h − W_outᵀW_out ⪰ tρX_h ≻ 0.
enum ChainCertificate {
    struct Certificate {
        var rho: Double
        var margin: Double
        var checks: Int
    }

    /// Certifies ρ' = ρ(1 + t), with every multiplier scaled by the same 1 + t, for the first t of 1e-10, 1e-8, …, `maxRelativeShift` that passes
    /// (refined by bisection), or says why not.
    static func certify(_ chain: LayerChain, multipliers: [[Double]], rho: Double, maxRelativeShift: Double = 0.01,
                        context: JobContext) throws -> Result<Certificate, CertificationFailure> {
        var checks = 0
        var lastFailure = ""
        var lastMargin = 0.0
        func passes(_ factor: Double) throws -> Bool {
            checks += 1
            switch try check(chain, multipliers: multipliers.map { $0.map { $0 * factor } }, rho: rho * factor, context: context) {
            case .success(let margin): lastMargin = margin; return true
            case .failure(let why): lastFailure = why.description; return false
            }
        }
        // The chain's point is tight at the last layer, so t = 0 never passes; t = 1e-10 leaves a
        // slack of ≈ t/2 (equilibrated) against a margin c of ≈ 1e-11 and usually passes at once.
        // One sweep per trial: no refinement below the first passing t (≤ 100× too large).
        var best: (t: Double, r: Double)? = nil
        for t in [1e-10, 1e-8, 1e-6, 1e-4, maxRelativeShift] where t <= maxRelativeShift {
            try context.checkCancelled()
            if try passes(1 + t) { best = (t, rho * (1 + t)); break }
        }
        guard let best else {
            return .failure(CertificationFailure(description: "no input term within a factor 1 + \(maxRelativeShift) of ρ = \(rho) (multipliers scaled alike) makes −M provably positive definite: \(lastFailure)"))
        }
        return .success(Certificate(rho: best.r, margin: lastMargin, checks: checks))
    }

    /// One Cholesky sweep of D(−M)D − cI at (ρ, λ); success returns c.
    static func check(_ chain: LayerChain, multipliers: [[Double]], rho: Double,
                      context: JobContext) throws -> Result<Double, CertificationFailure> {
        let h = chain.hidden.count
        let lambda = multipliers.map { $0.map { max(0, $0) } }
        let rho = max(rho, 0)
        let rhoMax = rho
        let n0 = chain.inputSize
        let widths = chain.widths
        let n = widths.reduce(0, +)
        // Diagonal blocks (value and absolute), block 0 without ρ.
        var diag: [Matrix] = []
        var absDiag: [Matrix] = []
        for k in 0...h {
            var d = Matrix(rows: widths[k], columns: widths[k])
            var a = Matrix(rows: widths[k], columns: widths[k])
            if k >= 1 {
                for i in 0..<widths[k] { d[i, i] = 2 * lambda[k - 1][i]; a[i, i] = d[i, i] }
            }
            if k < h {
                // + 2Wᵀdiag(αβλ)W of the next hidden layer.
                let next = chain.hidden[k]
                let w = (0..<next.width).map { 2 * next.alpha[$0] * next.beta[$0] * lambda[k][$0] }
                if w.contains(where: { $0 != 0 }) {
                    let wm = next.weight
                    d = d + Matrix.transposeTimes(wm.scalingRows(by: w), wm)
                    let absW = Matrix(rows: wm.rows, columns: wm.columns, storage: wm.storage.map(abs))
                    a = a + Matrix.transposeTimes(absW.scalingRows(by: w.map(abs)), absW)
                }
            } else {
                let o = chain.output
                d = d - Matrix.transposeTimes(o, o)
                let absO = Matrix(rows: o.rows, columns: o.columns, storage: o.storage.map(abs))
                a = a + Matrix.transposeTimes(absO, absO)
            }
            diag.append(d)
            absDiag.append(a)
        }
        // Off-diagonal blocks (k, k−1) = −diag((α+β)λₖ)Wₖ, k = 1…h.
        let off: [Matrix] = (1...h).map { k in
            let layer = chain.hidden[k - 1]
            return layer.weight.scalingRows(by: (0..<layer.width).map { -(layer.alpha[$0] + layer.beta[$0]) * lambda[k - 1][$0] })
        }
        // Power-of-two equilibration from the diagonal of −M (input block at ρ).
        var exps: [[Int]] = []
        for k in 0...h {
            var e: [Int] = []
            for i in 0..<widths[k] {
                let d = diag[k][i, i] + (k == 0 ? rho : 0)
                guard d > 0, d.isFinite else {
                    return .failure(CertificationFailure(description: "diagonal entry \(i) of block \(k) of −M is \(d) ≤ 0: −M cannot be positive definite with these multipliers"))
                }
                e.append(max(-400, min(400, -Int((log2(d) / 2).rounded()))))
            }
            exps.append(e)
        }
        func scale(_ m: inout Matrix, rows er: [Int], columns ec: [Int]) {
            for j in 0..<m.columns { for i in 0..<m.rows {
                let e = er[i] + ec[j]
                if e != 0 { m[i, j] = scalbn(m[i, j], e) }
            } }
        }
        var sq = 0.0
        var diagonalSum = 0.0
        for k in 0...h {
            scale(&diag[k], rows: exps[k], columns: exps[k])
            scale(&absDiag[k], rows: exps[k], columns: exps[k])
            for j in 0..<widths[k] { for i in 0..<widths[k] {
                var e = absDiag[k][i, j]
                if k == 0 && i == j { e += scalbn(rhoMax, 2 * exps[0][i]) }
                sq += e * e
            } }
            for i in 0..<widths[k] { diagonalSum += abs(diag[k][i, i]) + (k == 0 ? scalbn(rhoMax, 2 * exps[0][i]) : 0) }
        }
        var scaledOff = off
        for k in 0..<h {
            scale(&scaledOff[k], rows: exps[k + 1], columns: exps[k])
            sq += 2 * scaledOff[k].storage.reduce(0) { $0 + $1 * $1 }
        }
        try context.checkCancelled()
        let terms = (widths.max() ?? 0) + chain.output.rows + 8
        let buildError = LMICertifier.gamma(terms) * sq.squareRoot()
        let c = 2 * (buildError + LMICertifier.gamma(n + 2) * diagonalSum * 1.01) + Double(n) * Double.leastNormalMagnitude * 1e20
        // Forward block Cholesky (input first): the order the chain was built in, so every
        // Schur complement is as well conditioned as the chain's Xₖ; ρ' enters the first block,
        // so each trial ρ' repeats the whole sweep.
        do {
            let r = rho
            var s = diag[0]
            for i in 0..<n0 { s[i, i] += scalbn(r, 2 * exps[0][i]) - c }
            // A diagonal input block (ReLU-like first layer, αβ = 0) factors entrywise: the same
            // operations dpotrf would do on it, without its n₀³/3 flops on zeros.
            let isDiagonal = (0..<n0).allSatisfy { j in (0..<n0).allSatisfy { i in i == j || s[i, j] == 0 } }
            var factorOrNil: Matrix?
            if isDiagonal {
                factorOrNil = (0..<n0).allSatisfy { s[$0, $0] > 0 } ? s : nil
                if factorOrNil != nil { for i in 0..<n0 { factorOrNil![i, i] = s[i, i].squareRoot() } }
            } else {
                factorOrNil = LinearAlgebra.cholesky(s)
            }
            guard var factor = factorOrNil else {
                return .failure(CertificationFailure(description: "the input block fails the Cholesky with rounding margin \(c)"))
            }
            for k in 1...h {
                try context.checkCancelled()
                var next = diag[k]
                for i in 0..<widths[k] { next[i, i] -= c }
                if k == 1 && isDiagonal, let sparse = chain.hidden[0].sparse {
                    // Diagonal input factor and a sparse (conv) first layer: the factor's block
                    // row Fᵢⱼ = offᵢⱼ/lⱼⱼ keeps W₁'s pattern, so its Gram is taken sparse — the
                    // same entries the dense solve gives, summed in another order.
                    let layer = chain.hidden[0]
                    var values = sparse.values
                    for i in 0..<sparse.rows {
                        let r = -(layer.alpha[i] + layer.beta[i]) * lambda[0][i]
                        for q in sparse.rowStart[i]..<sparse.rowStart[i + 1] {
                            let j = sparse.columnIndex[q]
                            values[q] = scalbn(sparse.values[q] * r, exps[1][i] + exps[0][j]) / factor[j, j]
                        }
                    }
                    let f = SparseMatrix(rows: sparse.rows, columns: sparse.columns, rowStart: sparse.rowStart,
                                         columnIndex: sparse.columnIndex, values: values)
                    next = next - ChainSparse.scaledGram(f, rowScale: Array(repeating: 1, count: f.rows))
                } else {
                    var f: Matrix
                    if isDiagonal && k == 1 {
                        // A diagonal factor's triangular solve is a column division.
                        f = scaledOff[0]
                        for j in 0..<n0 { let d = factor[j, j]; for i in 0..<f.rows { f[i, j] = f[i, j] / d } }
                    } else {
                        f = ChainAlgebra.solveRightLowerTransposed(scaledOff[k - 1], factor)
                    }
                    next = ChainAlgebra.subtractGram(next, f)
                }
                guard let l = LinearAlgebra.cholesky(next) else {
                    return .failure(CertificationFailure(description: "the Schur complement at hidden layer \(k) fails the Cholesky with rounding margin \(c)"))
                }
                factor = l
            }
            return .success(c)
        }
    }
}
