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
        /// Trials shown to fail by the null direction, without a sweep.
        var screened: Int = 0
        /// The factor the multipliers were scaled by: 1 + t, or 1 for an input-only shift.
        var multiplierScale: Double = 1
    }

    /// Certifies ρ' = ρ(1 + t), with every multiplier scaled by the same 1 + t, for the first t of 1e-10, 1e-8, 1e-6, 3e-6, …, 1e-4, `maxRelativeShift` that passes
    /// (one Cholesky sweep each), or says why not. With `inputShifts` each t first tries ρ' alone
    /// (multipliers as given): a solver's point whose neuron block is strictly positive definite
    /// is tight in ρ only, along the top eigenvector of the Schur complement onto the input, and
    /// scaling everything adds slack only in the range of W_outᵀ — on cifar deep_kw and random
    /// 2-80×100-2 every scaled trial up to 1 % failed at the last hidden layer.
    static func certify(_ chain: LayerChain, multipliers: [[Double]], rho: Double, maxRelativeShift: Double = 0.01,
                        nullDirection: [[Double]]? = nil, inputShifts: Bool = false,
                        context: JobContext) throws -> Result<Certificate, CertificationFailure> {
        var checks = 0
        var screened = 0
        var lastFailure = ""
        var lastMargin = 0.0
        func passes(_ factor: Double, scaling: Double) throws -> Bool {
            checks += 1
            var wasScreened = false
            switch try check(chain, multipliers: multipliers.map { $0.map { $0 * scaling } }, rho: rho * factor,
                             nullDirection: nullDirection, screened: &wasScreened, context: context) {
            case .success(let margin): lastMargin = margin; return true
            case .failure(let why): lastFailure = why.description; if wasScreened { screened += 1 }; return false
            }
        }
        // The chain's point is tight at the last layer, so t = 0 never passes; t = 1e-10 leaves a
        // slack of ≈ t/2 (equilibrated) against a margin c of ≈ 1e-11 and usually passes at once.
        // One sweep per trial: no refinement below the first passing t. Past 1e-6 (a solver's point
        // a little inside the boundary: the factored dual's) the steps are half decades, so the
        // value gives away at most ≈ 3× the shift it needs (cifar base_kw: 3e-6 instead of 1e-4).
        var best: (t: Double, r: Double, scale: Double)? = nil
        trials: for t in [1e-10, 1e-8, 1e-6, 3e-6, 1e-5, 3e-5, 1e-4, maxRelativeShift] where t <= maxRelativeShift {
            for scaling in inputShifts ? [1, 1 + t] : [1 + t] {
                try context.checkCancelled()
                if try passes(1 + t, scaling: scaling) { best = (t, rho * (1 + t), scaling); break trials }
            }
        }
        guard let best else {
            return .failure(CertificationFailure(description: "no input term within a factor 1 + \(maxRelativeShift) of ρ = \(rho) (multipliers scaled alike\(inputShifts ? " or as given" : "")) makes −M provably positive definite: \(lastFailure)"))
        }
        return .success(Certificate(rho: best.r, margin: lastMargin, checks: checks, screened: screened, multiplierScale: best.scale))
    }

    /// A bound on ‖ΔA‖₂ for the computed Cholesky factor R of a block-tridiagonal A (blocks of
    /// `widths`, diagonal entries ≤ `diagonalMax`, summing to `diagonalSum`): the smaller of two
    /// rigorous bounds from RᵀR = A + ΔA, |ΔA| ≤ γ_{m+1}|Rᵀ||R| (Higham, Thm 10.3, m the most terms
    /// in any inner product of the factorization, any summation order):
    /// - dense (Demmel 1989): m = n and ‖|Rᵀ||R|‖₂ ≤ ‖R‖²_F = tr A;
    /// - banded: R keeps A's band b = maxₖ(wₖ + wₖ₊₁) − 1 (no fill outside it), so m = b + 1; the
    ///   entries of |Rᵀ||R| are ≤ ‖R₍:,i₎‖‖R₍:,j₎‖ ≤ max aᵢᵢ/(1 − γ) (Cauchy–Schwarz; the columns' squared
    ///   norms are the diagonal of A + ΔA) and a row holds at most 2b + 1 of them, so
    ///   ‖|Rᵀ||R|‖₂ ≤ (2b + 1)·max aᵢᵢ/(1 − γ).
    /// On deep narrow chains the second is n²/(4b²) times smaller (random 2-80×100-2: 1.6·10⁻⁸ →
    /// 2.6·10⁻¹¹), which decides whether the last Schur complement's slack clears it.
    static func factorError(widths: [Int], diagonalSum: Double, diagonalMax: Double) -> Double {
        let n = widths.reduce(0, +)
        let dense = LMICertifier.gamma(n + 2) * diagonalSum
        let band = zip(widths, widths.dropFirst()).map { $0 + $1 }.max().map { $0 - 1 } ?? max(0, n - 1)
        let gammaBand = LMICertifier.gamma(band + 2)
        let banded = gammaBand * Double(2 * band + 1) * diagonalMax / (1 - gammaBand)
        return min(dense, banded)
    }

    /// One Cholesky sweep of D(−M)D − cI at (ρ, λ); success returns c.
    ///
    /// Storage, not algebra, differs from a dense sweep: a diagonal block of −M (2Λₖ when the next
    /// layer has αβ = 0, ρI for the input before a ReLU layer) is kept as its diagonal, the
    /// off-diagonal blocks are formed densely one at a time (and only when a dense triangular
    /// solve needs them), and the Schur complements are updated and factored in place (dsyrk and
    /// dpotrf read and write the lower triangle only). Every entry that enters the factorization is
    /// the same floating-point number as in the dense sweep, computed by the same operations, so
    /// the rounding analysis above applies unchanged; the squared Frobenius sum of the sparse
    /// off-diagonal blocks is accumulated over their nonzeros (the zeros add nothing).
    ///
    /// With a null direction w (the chain's, `ChainRecursion.Outcome.nullDirection`) the sweep is
    /// skipped when it provably fails: a sweep that completes on A − cI (A = D(−M)D as built in
    /// floating point) gives A − cI + ΔA ⪰ 0 with ‖ΔA‖₂ ≤ γ_{n+1}Σ|aᵢᵢ| < c/2, so λ_min(A) > c/2;
    /// for v = D⁻¹w, vᵀAv = wᵀ(−M)w up to γ_K|w|ᵀ|M||w| (building) and the same again
    /// (evaluating), so wᵀ(−M)w + 2γ_{K+n}|w|ᵀ|M||w| < (c/2)vᵀv proves λ_min(A) < c/2: that trial
    /// would fail, and skipping it changes nothing but the time.
    static func check(_ chain: LayerChain, multipliers: [[Double]], rho: Double,
                      nullDirection: [[Double]]? = nil, screened: inout Bool,
                      context: JobContext) throws -> Result<Double, CertificationFailure> {
        let h = chain.hidden.count
        let lambda = multipliers.map { $0.map { max(0, $0) } }
        let rho = max(rho, 0)
        let rhoMax = rho
        let n0 = chain.inputSize
        let widths = chain.widths
        let n = widths.reduce(0, +)
        // Diagonal blocks: the diagonal `base` (2λ, block 0 without ρ) and, when the block is not
        // diagonal, its full value and absolute value.
        var base: [[Double]] = []
        var dense: [Matrix?] = []
        var denseAbs: [Matrix?] = []
        for k in 0...h {
            let b: [Double] = k >= 1 ? lambda[k - 1].map { 2 * $0 } : Array(repeating: 0, count: widths[k])
            var d: Matrix? = nil
            var a: Matrix? = nil
            if k < h {
                // + 2Wᵀdiag(αβλ)W of the next hidden layer.
                let next = chain.hidden[k]
                let w = (0..<next.width).map { 2 * next.alpha[$0] * next.beta[$0] * lambda[k][$0] }
                if w.contains(where: { $0 != 0 }) {
                    let wm = next.weight
                    let absW = Matrix(rows: wm.rows, columns: wm.columns, storage: wm.storage.map(abs))
                    d = Matrix.diagonal(b) + Matrix.transposeTimes(wm.scalingRows(by: w), wm)
                    a = Matrix.diagonal(b) + Matrix.transposeTimes(absW.scalingRows(by: w.map(abs)), absW)
                }
            } else {
                let o = chain.output
                let absO = Matrix(rows: o.rows, columns: o.columns, storage: o.storage.map(abs))
                d = Matrix.diagonal(b) - Matrix.transposeTimes(o, o)
                a = Matrix.diagonal(b) + Matrix.transposeTimes(absO, absO)
            }
            base.append(d.map { m in (0..<widths[k]).map { m[$0, $0] } } ?? b)
            dense.append(d)
            denseAbs.append(a)
        }
        // Off-diagonal blocks (k, k−1) = −diag((α+β)λₖ)Wₖ, k = 1…h: the row factors.
        let offRow: [[Double]] = (1...h).map { k in
            let layer = chain.hidden[k - 1]
            return (0..<layer.width).map { -(layer.alpha[$0] + layer.beta[$0]) * lambda[k - 1][$0] }
        }
        // Power-of-two equilibration from the diagonal of −M (input block at ρ).
        var exps: [[Int]] = []
        for k in 0...h {
            var e: [Int] = []
            e.reserveCapacity(widths[k])
            for i in 0..<widths[k] {
                let d = base[k][i] + (k == 0 ? rho : 0)
                guard d > 0, d.isFinite else {
                    return .failure(CertificationFailure(description: "diagonal entry \(i) of block \(k) of −M is \(d) ≤ 0: −M cannot be positive definite with these multipliers"))
                }
                e.append(max(-400, min(400, -Int((log2(d) / 2).rounded()))))
            }
            exps.append(e)
        }
        func scale(_ m: inout Matrix, rows er: [Int], columns ec: [Int]) {
            let r = m.rows
            m.storage.withUnsafeMutableBufferPointer { s in
                for j in 0..<m.columns { for i in 0..<r {
                    let e = er[i] + ec[j]
                    if e != 0 { s[i + j * r] = scalbn(s[i + j * r], e) }
                } }
            }
        }
        /// The scaled off-diagonal block (k, k−1), dense.
        func scaledOff(_ k: Int) -> Matrix {
            let layer = chain.hidden[k - 1]
            var m = layer.weight.scalingRows(by: offRow[k - 1])
            scale(&m, rows: exps[k], columns: exps[k - 1])
            return m
        }
        var sq = 0.0
        var diagonalSum = 0.0
        var diagonalMax = 0.0
        for k in 0...h {
            if var d = dense[k], var a = denseAbs[k] {
                scale(&d, rows: exps[k], columns: exps[k])
                scale(&a, rows: exps[k], columns: exps[k])
                dense[k] = d
                for j in 0..<widths[k] { for i in 0..<widths[k] {
                    var e = a[i, j]
                    if k == 0 && i == j { e += scalbn(rhoMax, 2 * exps[0][i]) }
                    sq += e * e
                } }
                for i in 0..<widths[k] {
                    let e = abs(d[i, i]) + (k == 0 ? scalbn(rhoMax, 2 * exps[0][i]) : 0)
                    diagonalSum += e
                    diagonalMax = max(diagonalMax, e)
                }
            } else {
                // A diagonal block: its absolute value is itself (2λ ≥ 0, or 0 for the input block).
                for i in 0..<widths[k] {
                    let v = scalbn(base[k][i], 2 * exps[k][i])
                    base[k][i] = v
                    var e = v
                    if k == 0 { e += scalbn(rhoMax, 2 * exps[0][i]) }
                    sq += e * e
                }
                for i in 0..<widths[k] {
                    let e = abs(base[k][i]) + (k == 0 ? scalbn(rhoMax, 2 * exps[0][i]) : 0)
                    diagonalSum += e
                    diagonalMax = max(diagonalMax, e)
                }
            }
            denseAbs[k] = nil
        }
        for k in 1...h {
            let layer = chain.hidden[k - 1]
            let r = offRow[k - 1], er = exps[k], ec = exps[k - 1]
            var s = 0.0
            if let sparse = layer.sparse {
                for i in 0..<sparse.rows {
                    for q in sparse.rowStart[i]..<sparse.rowStart[i + 1] {
                        let v = scalbn(sparse.values[q] * r[i], er[i] + ec[sparse.columnIndex[q]])
                        s += v * v
                    }
                }
            } else {
                let w = layer.weight
                w.storage.withUnsafeBufferPointer { ws in
                    for j in 0..<w.columns { for i in 0..<w.rows {
                        let v = scalbn(ws[i + j * w.rows] * r[i], er[i] + ec[j])
                        s += v * v
                    } }
                }
            }
            sq += 2 * s
        }
        try context.checkCancelled()
        let terms = (widths.max() ?? 0) + chain.output.rows + 8
        let buildError = LMICertifier.gamma(terms) * sq.squareRoot()
        let c = 2 * (buildError + factorError(widths: widths, diagonalSum: diagonalSum, diagonalMax: diagonalMax) * 1.01)
            + Double(n) * Double.leastNormalMagnitude * 1e20
        if let w = nullDirection, w.count == h + 1, zip(w, widths).allSatisfy({ $0.count == $1 }) {
            // wᵀ(−M)w and |w|ᵀ|M||w| from the blocks: ρ‖w₀‖² + Σₖ [2λwₖ² + 2αβλpₖ² − 2(α+β)λwₖpₖ]
            // − ‖W_out w_h‖², pₖ = Wₖwₖ₋₁.
            var quadratic = 0.0, absolute = 0.0, norm = 0.0
            for x in w[0] { quadratic += rho * x * x }
            absolute = quadratic
            for k in 1...h {
                let layer = chain.hidden[k - 1]
                let wa = w[k - 1].map(abs)
                let p: [Double], pa: [Double]
                if let sp = layer.sparse {
                    p = sp * w[k - 1]
                    pa = (0..<sp.rows).map { i in
                        var t = 0.0
                        for q in sp.rowStart[i]..<sp.rowStart[i + 1] { t += abs(sp.values[q]) * wa[sp.columnIndex[q]] }
                        return t
                    }
                } else {
                    p = layer.weight * w[k - 1]
                    pa = Matrix(rows: layer.weight.rows, columns: layer.weight.columns, storage: layer.weight.storage.map(abs)) * wa
                }
                for i in 0..<widths[k] {
                    let l = lambda[k - 1][i], x = w[k][i]
                    let ab = layer.alpha[i] * layer.beta[i], apb = layer.alpha[i] + layer.beta[i]
                    quadratic += 2 * l * x * x + 2 * ab * l * p[i] * p[i] - 2 * apb * l * x * p[i]
                    absolute += 2 * l * x * x + 2 * abs(ab) * l * pa[i] * pa[i] + 2 * abs(apb) * l * abs(x) * pa[i]
                }
            }
            let o = chain.output * w[h]
            let oa = Matrix(rows: chain.output.rows, columns: chain.output.columns, storage: chain.output.storage.map(abs)) * w[h].map(abs)
            for j in 0..<o.count { quadratic -= o[j] * o[j]; absolute += oa[j] * oa[j] }
            for k in 0...h { for i in 0..<widths[k] { let v = scalbn(w[k][i], -exps[k][i]); norm += v * v } }
            let upper = quadratic + 2 * LMICertifier.gamma(terms + n + 8) * absolute
            if upper.isFinite, norm > 0, norm.isFinite, upper < 0.5 * c * norm {
                screened = true
                return .failure(CertificationFailure(description: "the chain's null direction gives λ_min(D(−M)D) ≤ \(upper / norm) < c/2 = \(c / 2): the sweep cannot complete"))
            }
        }
        /// Block k minus cI, dense, ready for the Schur update.
        func shiftedBlock(_ k: Int) -> Matrix {
            let w = widths[k]
            var m: Matrix
            if let d = dense[k] { m = d } else {
                m = Matrix(rows: w, columns: w)
                for i in 0..<w { m.storage[i + i * w] = base[k][i] }
            }
            for i in 0..<w { m.storage[i + i * w] -= c }
            return m
        }
        // Forward block Cholesky (input first): the order the chain was built in, so every
        // Schur complement is as well conditioned as the chain's Xₖ; ρ' enters the first block,
        // so each trial ρ' repeats the whole sweep.
        do {
            let r = rho
            // A diagonal input block (ReLU-like first layer, αβ = 0) factors entrywise: the same
            // operations dpotrf would do on it, without its n₀³/3 flops on zeros.
            var diagonalFactor: [Double]? = nil
            var factor = Matrix(rows: 0, columns: 0)
            // The previous block's factor in band form, when its band was narrow (`BandedCholesky`).
            var band: BandedCholesky? = nil
            if var s = dense[0] {
                for i in 0..<n0 { s[i, i] += scalbn(r, 2 * exps[0][i]) - c }
                let isDiagonal = (0..<n0).allSatisfy { j in (0..<n0).allSatisfy { i in i == j || s[i, j] == 0 } }
                if isDiagonal {
                    guard (0..<n0).allSatisfy({ s[$0, $0] > 0 }) else {
                        return .failure(CertificationFailure(description: "the input block fails the Cholesky with rounding margin \(c)"))
                    }
                    diagonalFactor = (0..<n0).map { s[$0, $0].squareRoot() }
                } else {
                    guard let l = LinearAlgebra.cholesky(s) else {
                        return .failure(CertificationFailure(description: "the input block fails the Cholesky with rounding margin \(c)"))
                    }
                    factor = l
                }
            } else {
                let s = (0..<n0).map { base[0][$0] + (scalbn(r, 2 * exps[0][$0]) - c) }
                guard s.allSatisfy({ $0 > 0 }) else {
                    return .failure(CertificationFailure(description: "the input block fails the Cholesky with rounding margin \(c)"))
                }
                diagonalFactor = s.map { $0.squareRoot() }
            }
            dense[0] = nil
            for k in 1...h {
                try context.checkCancelled()
                var next = shiftedBlock(k)
                dense[k] = nil
                let rows = widths[k]
                if k == 1, let dl = diagonalFactor, let sparse = chain.hidden[0].sparse {
                    // Diagonal input factor and a sparse (conv) first layer: the factor's block
                    // row Fᵢⱼ = offᵢⱼ/lⱼⱼ keeps W₁'s pattern, so its Gram is taken sparse — the
                    // same entries the dense solve gives, summed in another order.
                    let rf = offRow[0]
                    var values = sparse.values
                    for i in 0..<sparse.rows {
                        for q in sparse.rowStart[i]..<sparse.rowStart[i + 1] {
                            let j = sparse.columnIndex[q]
                            values[q] = scalbn(sparse.values[q] * rf[i], exps[1][i] + exps[0][j]) / dl[j]
                        }
                    }
                    let f = SparseMatrix(rows: sparse.rows, columns: sparse.columns, rowStart: sparse.rowStart,
                                         columnIndex: sparse.columnIndex, values: values)
                    let g = ChainSparse.scaledGram(f, rowScale: Array(repeating: 1, count: f.rows))
                    next.storage.withUnsafeMutableBufferPointer { ns in
                        g.storage.withUnsafeBufferPointer { gs in
                            for q in 0..<ns.count { ns[q] -= gs[q] }
                        }
                    }
                } else {
                    var f = scaledOff(k)
                    if k == 1, let dl = diagonalFactor {
                        // A diagonal factor's triangular solve is a column division.
                        f.storage.withUnsafeMutableBufferPointer { fs in
                            for j in 0..<n0 { let d = dl[j]; for i in 0..<rows { fs[i + j * rows] = fs[i + j * rows] / d } }
                        }
                    } else if let band {
                        f.storage.withUnsafeMutableBufferPointer { fs in band.solveRightLowerTransposed(fs.baseAddress!, rows: rows) }
                    } else {
                        f.storage.withUnsafeMutableBufferPointer { fs in
                            factor.storage.withUnsafeBufferPointer { ls in
                                if !(Staircase.applies(rows: rows, k: widths[k - 1])
                                     && Staircase.solveRightLowerTransposed(ls.baseAddress!, n: widths[k - 1], kd: widths[k - 1], fs.baseAddress!, rows: rows)) {
                                    BlasKernels.solveRightLowerTransposed(ls.baseAddress!, n: widths[k - 1], fs.baseAddress!, rows: rows)
                                }
                            }
                        }
                    }
                    // Lower triangle of next − F Fᵀ (F's leading zeros skipped: `Staircase`).
                    f.storage.withUnsafeBufferPointer { fs in
                        next.storage.withUnsafeMutableBufferPointer { ns in
                            if !(Staircase.applies(rows: rows, k: widths[k - 1])
                                 && Staircase.addGram(fs.baseAddress!, rows: rows, k: widths[k - 1], sign: -1, ns.baseAddress!)) {
                                BlasKernels.subtractGram(fs.baseAddress!, n: rows, k: widths[k - 1], ns.baseAddress!)
                            }
                        }
                    }
                }
                diagonalFactor = nil
                // A narrow band (the block after a sparse first layer, in band order) factors as a
                // band: the same matrix, its zeros outside the band exact.
                let kd = next.storage.withUnsafeBufferPointer { BandedCholesky.bandwidth($0.baseAddress!, n: rows) }
                if BandedCholesky.applies(n: rows, kd: kd) {
                    guard let b = next.storage.withUnsafeBufferPointer({ BandedCholesky(lowerOf: $0.baseAddress!, n: rows, kd: kd) }) else {
                        return .failure(CertificationFailure(description: "the Schur complement at hidden layer \(k) fails the Cholesky with rounding margin \(c)"))
                    }
                    band = b
                    factor = Matrix(rows: 0, columns: 0)
                    continue
                }
                band = nil
                let ok = next.storage.withUnsafeMutableBufferPointer { ns in BlasKernels.choleskyInPlace(ns.baseAddress!, n: rows) }
                guard ok else {
                    return .failure(CertificationFailure(description: "the Schur complement at hidden layer \(k) fails the Cholesky with rounding margin \(c)"))
                }
                // The strict upper triangle still holds the Schur complement; dtrsm reads the lower only.
                factor = next
            }
            return .success(c)
        }
    }
}
