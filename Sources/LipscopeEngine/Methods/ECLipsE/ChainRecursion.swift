import Foundation
import LipscopeLinearAlgebra

/// The exact layer-by-layer form of the LipSDP-Neuron LMI (Xu & Sivaranjani, NeurIPS 2024,
/// Thm. 1). Divide −M by ρ and write Lₖ = 2λₖ/ρ (the paper's multipliers). Eliminating the
/// block-tridiagonal −M/ρ from the input side gives the Schur complements
///     X₀ = I,   Xₖ = Lₖ − LₖCₖ Wₖ Xₖ₋₁⁻¹ WₖᵀCₖLₖ   (Cₖ = diag(mᵢ), mᵢ = (αᵢ+βᵢ)/2),
/// and −M ⪰ 0 ⇔ every Xₖ ≻ 0 and ρ ≥ λ_max(W_out X_h⁻¹ W_outᵀ) (the αβ terms, ⪰ 0 when
/// αβ ≥ 0, are dropped: conservative). A method picks Lₖ layer by layer from Xₖ₋₁; the
/// recursion here does the rest. Each Xₖ is rescaled by a power of two (exact: the chain is
/// homogeneous, Lₖ and every later X scale with Xₖ₋₁), so deep nets neither over- nor underflow.
struct ChainRecursion {
    /// What a stage rule sees at hidden layer k: the coupling K̂ = CₖWₖXₖ₋₁⁻¹WₖᵀCₖ through a
    /// factor Ŷ (K̂ = ŶŶᵀ), and the next weight (Wₖ₊₁, or W_out after the last hidden layer).
    struct Stage {
        var layer: Int
        /// Ŷ, dense; after a sparse first layer it is kept sparse (`sparseFactor`) and formed on
        /// demand (only the per-layer SDP reads it).
        var factor: Matrix { denseFactor ?? sparseFactor!.dense }
        var denseFactor: Matrix?
        /// Ŷ = C₁W₁ for a sparse first layer: K̂ = ŶŶᵀ multiplies a vector in two sparse products.
        var sparseFactor: SparseMatrix? = nil
        var coupling: Matrix
        /// λ_max(K̂) when a rule already computed it for this very matrix (`ClosedFormRule.best`
        /// judged the previous layer by it): the same number, so ECLipsE-Fast's ℓ need not run
        /// Lanczos on it again.
        var couplingTop: Double? = nil
        var next: Matrix
        /// (α+β)/2 of the next layer's neurons (ones for the output).
        var nextMid: [Double]
        var isLast: Bool
    }

    /// The outcome: ρ (= L², the squared bound of the chain as computed) and the multipliers λ of
    /// every hidden neuron in the LipSDP-Neuron convention, ready for the certificate.
    struct Outcome {
        var rho: Double
        var multipliers: [[Double]]
        /// log₂ of the scale removed from each Xₖ.
        var exponents: [Int]
        /// The stage rule's own figure per layer (e.g. ECLipsE's s), for the details.
        var stageValues: [Double]
        /// An approximate null vector w of −M at (ρ, λ), one block per layer (input first), up to a
        /// common factor: the chain is tight at the last layer, so wᵀ(−M)w ≈ 0. The certificate uses
        /// it to see, without a sweep, that a trial ρ' cannot pass.
        var nullDirection: [[Double]]? = nil
    }

    /// Xₖ = L − LK̂L from the coupling (n² work instead of the n²·nₖ₋₁ of (LY)(LY)ᵀ).
    static func schurComplement(coupling: Matrix, diagonal l: [Double]) -> Matrix {
        let n = l.count
        var x = Matrix(rows: n, columns: n)
        x.storage.withUnsafeMutableBufferPointer { xs in
            coupling.storage.withUnsafeBufferPointer { ks in
                for j in 0..<n {
                    let lj = l[j]
                    for i in 0..<n { xs[i + j * n] = -l[i] * ks[i + j * n] * lj }
                    xs[j + j * n] += lj
                }
            }
        }
        return x
    }

    /// What a rule may hand back besides Lₖ: the next stage as the recursion would compute it from
    /// this Lₖ (normalized Xₖ's exponent, then Ŷ and K̂ of the next layer, or Z and ZZᵀ for the
    /// output), when the rule had to form them anyway to judge Lₖ — the same operations on the
    /// same numbers, so the recursion takes them instead of repeating a Cholesky, a triangular
    /// solve and a Gram.
    struct Prepared {
        var exponent: Int
        /// The Cholesky factor R of the normalized Xₖ (banded when Xₖ is).
        var factor: ChainFactor
        var nextFactor: Matrix
        var nextCoupling: Matrix
        /// λ_max(nextCoupling), when the rule computed it.
        var nextCouplingTop: Double? = nil
    }

    /// Xₖ's normalizing exponent e and the Cholesky factor R of Xₖ·2^{-e}.
    typealias FactoredSchur = (exponent: Int, factor: ChainFactor)

    /// The next stage from Lₖ, exactly as `run` forms it, in two halves (a rule may judge Lₖ after
    /// the first): Xₖ = L − LK̂L normalized by 2^{-e} (e = round(log₂ max diag)) and its Cholesky
    /// factor R — nil when Xₖ has no positive diagonal or is not numerically positive definite.
    static func factorSchur(_ stage: Stage, diagonal l: [Double]) -> FactoredSchur? {
        var x = schurComplement(coupling: stage.coupling, diagonal: l)
        var top = 0.0
        for i in 0..<x.rows { top = max(top, x[i, i]) }
        guard top > 0, top.isFinite else { return nil }
        let e = Int(log2(top).rounded())
        x.storage.withUnsafeMutableBufferPointer { xs in
            for j in 0..<xs.count { xs[j] = scalbn(xs[j], -e) }
        }
        return ChainFactor.factor(x).map { (e, $0) }
    }

    /// The second half: Ŷ' = C'W'R⁻ᵀ and K̂' = Ŷ'Ŷ'ᵀ from `factorSchur`'s R.
    static func prepare(_ stage: Stage, factored: FactoredSchur) -> Prepared {
        let y = factored.factor.solveRightLowerTransposed(stage.next).scalingRows(by: stage.nextMid)
        return Prepared(exponent: factored.exponent, factor: factored.factor, nextFactor: y, nextCoupling: ChainAlgebra.gram(y))
    }

    /// A rule's answer: the diagonal of Lₖ, its figure, and optionally the next stage.
    struct Choice {
        var diagonal: [Double]
        var value: Double
        var prepared: Prepared? = nil
    }

    /// The null vector of −M/ρ at the chain's point, by back substitution through the block
    /// LDLᵀ whose pivots are the Schur complements Xₖ: w_h = X_h⁻¹W_outᵀu (u the top eigenvector of
    /// W_outX_h⁻¹W_outᵀ, so (X_h − W_outᵀW_out/ρ)w_h = 0), w_{k−1} = X_{k−1}⁻¹WₖᵀCₖLₖwₖ, X₀ = I. With
    /// the normalized X̃ₖ = Xₖ2^{-Eₖ} and L̃ₖ = Lₖ2^{-E_{k−1}} the powers of two cancel layer by
    /// layer (w is taken up to the common factor 2^{-E_h}).
    static func nullDirection(_ chain: LayerChain, factors: [ChainFactor], normalizedL: [[Double]], top u: [Double]) -> [[Double]] {
        let h = chain.hidden.count
        func solve(_ f: ChainFactor, _ b: inout [Double]) {
            let r = f.dense
            r.storage.withUnsafeBufferPointer { rs in
                b.withUnsafeMutableBufferPointer { bs in
                    BlasKernels.solveLower(rs.baseAddress!, n: r.rows, bs.baseAddress!, transposed: false)
                    BlasKernels.solveLower(rs.baseAddress!, n: r.rows, bs.baseAddress!, transposed: true)
                }
            }
        }
        func transposeTimes(_ a: Matrix, _ x: [Double]) -> [Double] {
            var y = [Double](repeating: 0, count: a.columns)
            a.storage.withUnsafeBufferPointer { as_ in
                y.withUnsafeMutableBufferPointer { ys in
                    BlasKernels.multiplyAdd(as_.baseAddress!, rows: a.rows, cols: a.columns, transposed: true, x, alpha: 1, ys.baseAddress!)
                }
            }
            return y
        }
        var w = [[Double]](repeating: [], count: h + 1)
        var current = transposeTimes(chain.output, u)
        solve(factors[h - 1], &current)
        w[h] = current
        for k in stride(from: h - 1, through: 0, by: -1) {
            let layer = chain.hidden[k]
            let mid = layer.mid
            let scaled = (0..<layer.width).map { mid[$0] * normalizedL[k][$0] * w[k + 1][$0] }
            var previous = transposeTimes(layer.weight, scaled)
            if k >= 1 { solve(factors[k - 1], &previous) }
            w[k] = previous
        }
        return w
    }

    struct Breakdown: Error, CustomStringConvertible { let description: String }

    /// Runs the recursion; `rule` returns the diagonal of Lₖ (≥ 0) and a number to report.
    static func run(_ chain: LayerChain, context: JobContext, phase: String,
                    rule: (Stage) throws -> (diagonal: [Double], value: Double)) throws -> Outcome {
        try run(chain, context: context, phase: phase, choose: { stage in
            let (l, value) = try rule(stage)
            return Choice(diagonal: l, value: value)
        })
    }

    /// Runs the recursion with a rule that may hand back the next stage (`Prepared`).
    static func run(_ chain: LayerChain, context: JobContext, phase: String,
                    choose rule: (Stage) throws -> Choice) throws -> Outcome {
        var x = Matrix.identity(chain.inputSize)
        var exponent = 0                     // E: X_true = X_normalized · 2^E
        var exponents: [Int] = []
        var normalizedL: [[Double]] = []
        var prefix: [Int] = []               // E before each layer
        var stageValues: [Double] = []
        var pending: Prepared? = nil         // the next stage, formed by the rule
        var factors: [ChainFactor] = []      // R of each normalized Xₖ
        let h = chain.hidden.count
        for k in 0..<h {
            try context.checkCancelled()
            let layer = chain.hidden[k]
            // X₀ = I: Y = W without a factorization.
            var y = Matrix(rows: 0, columns: 0)
            var sparseFactor: SparseMatrix? = nil
            var preparedCoupling: Matrix? = nil
            var preparedTop: Double? = nil
            if k == 0, let s = layer.sparse {
                sparseFactor = ChainSparse.scalingRows(s, by: layer.mid)
            } else if k == 0 {
                y = layer.weight.scalingRows(by: layer.mid)
            } else if let p = pending {
                y = p.nextFactor
                preparedCoupling = p.nextCoupling
                preparedTop = p.nextCouplingTop
            } else {
                guard let r = ChainFactor.factor(x) else {
                    throw Breakdown(description: "the Schur complement before hidden layer \(k + 1) is not numerically positive definite")
                }
                factors.append(r)
                y = r.solveRightLowerTransposed(layer.weight).scalingRows(by: layer.mid)
            }
            pending = nil
            // A sparse first layer (conv): K̂ = CWWᵀC from the sparse weight.
            let coupling = preparedCoupling ?? (k == 0 && layer.sparse != nil
                ? ChainSparse.scaledGram(layer.sparse!, rowScale: layer.mid) : ChainAlgebra.gram(y))
            let next = k + 1 < h ? chain.hidden[k + 1].weight : chain.output
            let nextMid = k + 1 < h ? chain.hidden[k + 1].mid : Array(repeating: 1, count: chain.output.rows)
            let choice = try rule(Stage(layer: k, denseFactor: sparseFactor == nil ? y : nil, sparseFactor: sparseFactor, coupling: coupling, couplingTop: preparedTop, next: next, nextMid: nextMid,
                                        isLast: k == h - 1))
            let l = choice.diagonal, value = choice.value
            precondition(l.count == layer.width)
            let e: Int
            if let p = choice.prepared {
                e = p.exponent
                pending = p
                factors.append(p.factor)
                x = Matrix(rows: 0, columns: 0)
            } else {
                var xNew = ChainRecursion.schurComplement(coupling: coupling, diagonal: l)
                var top = 0.0
                for i in 0..<layer.width { top = max(top, xNew[i, i]) }
                guard top > 0, top.isFinite else {
                    throw Breakdown(description: "the Schur complement of hidden layer \(k + 1) has no positive diagonal (all its multipliers are zero)")
                }
                e = Int(log2(top).rounded())
                xNew.storage.withUnsafeMutableBufferPointer { xs in
                    for j in 0..<xs.count { xs[j] = scalbn(xs[j], -e) }
                }
                x = xNew
            }
            prefix.append(exponent)
            exponent += e
            exponents.append(e)
            normalizedL.append(l)
            stageValues.append(value)
            context.emit(.progress(phase: phase, done: k + 1, total: h))
            context.iteration(k + 1, [Metric("layer", Double(k + 1)), Metric("stage", value), Metric("log2_scale", Double(exponent))])
        }
        let outputGram: Matrix
        if let p = pending {
            outputGram = p.nextCoupling
        } else {
            guard let r = ChainFactor.factor(x) else {
                throw Breakdown(description: "the Schur complement of the last hidden layer is not numerically positive definite")
            }
            factors.append(r)
            outputGram = ChainAlgebra.gram(r.solveRightLowerTransposed(chain.output))
        }
        let rhoNormalized = try ChainAlgebra.largestEigenvalue(outputGram)
        let rho = scalbn(rhoNormalized, -exponent)
        guard rho.isFinite, rho >= 0 else { throw Breakdown(description: "ρ = \(rho) is not a finite non-negative number") }
        // λₖ (LipSDP convention) = ρ·Lₖ_true/2 with Lₖ_true = Lₖ_normalized · 2^{E before k}.
        let multipliers = (0..<h).map { k in normalizedL[k].map { scalbn($0 * rho, prefix[k] - 1) } }
        var outcome = Outcome(rho: rho, multipliers: multipliers, exponents: exponents, stageValues: stageValues)
        if factors.count == h, let u = try? LinearAlgebra.symmetricEigen(outputGram).vectors.column(outputGram.rows - 1) {
            outcome.nullDirection = nullDirection(chain, factors: factors, normalizedL: normalizedL, top: u)
        }
        return outcome
    }
}
