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
        var factor: Matrix
        var coupling: Matrix
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

    struct Breakdown: Error, CustomStringConvertible { let description: String }

    /// Runs the recursion; `rule` returns the diagonal of Lₖ (≥ 0) and a number to report.
    static func run(_ chain: LayerChain, context: JobContext, phase: String,
                    rule: (Stage) throws -> (diagonal: [Double], value: Double)) throws -> Outcome {
        var x = Matrix.identity(chain.inputSize)
        var exponent = 0                     // E: X_true = X_normalized · 2^E
        var exponents: [Int] = []
        var normalizedL: [[Double]] = []
        var prefix: [Int] = []               // E before each layer
        var stageValues: [Double] = []
        let h = chain.hidden.count
        for k in 0..<h {
            try context.checkCancelled()
            let layer = chain.hidden[k]
            // X₀ = I: Y = W without a factorization.
            let y: Matrix
            if k == 0 {
                y = layer.weight.scalingRows(by: layer.mid)
            } else {
                guard let r = LinearAlgebra.cholesky(x) else {
                    throw Breakdown(description: "the Schur complement before hidden layer \(k + 1) is not numerically positive definite")
                }
                y = ChainAlgebra.solveRightLowerTransposed(layer.weight, r).scalingRows(by: layer.mid)
            }
            // A sparse first layer (conv): K̂ = CWWᵀC from the sparse weight.
            let coupling = k == 0 && layer.sparse != nil
                ? ChainSparse.scaledGram(layer.sparse!, rowScale: layer.mid) : ChainAlgebra.gram(y)
            let next = k + 1 < h ? chain.hidden[k + 1].weight : chain.output
            let nextMid = k + 1 < h ? chain.hidden[k + 1].mid : Array(repeating: 1, count: chain.output.rows)
            let (l, value) = try rule(Stage(layer: k, factor: y, coupling: coupling, next: next, nextMid: nextMid,
                                            isLast: k == h - 1))
            precondition(l.count == layer.width)
            let xNew0 = ChainRecursion.schurComplement(coupling: coupling, diagonal: l)
            var xNew = xNew0
            var top = 0.0
            for i in 0..<layer.width { top = max(top, xNew[i, i]) }
            guard top > 0, top.isFinite else {
                throw Breakdown(description: "the Schur complement of hidden layer \(k + 1) has no positive diagonal (all its multipliers are zero)")
            }
            let e = Int(log2(top).rounded())
            for j in 0..<xNew.storage.count { xNew.storage[j] = scalbn(xNew.storage[j], -e) }
            prefix.append(exponent)
            exponent += e
            exponents.append(e)
            normalizedL.append(l)
            stageValues.append(value)
            x = xNew
            context.emit(.progress(phase: phase, done: k + 1, total: h))
            context.iteration(k + 1, [Metric("layer", Double(k + 1)), Metric("stage", value), Metric("log2_scale", Double(exponent))])
        }
        guard let r = LinearAlgebra.cholesky(x) else {
            throw Breakdown(description: "the Schur complement of the last hidden layer is not numerically positive definite")
        }
        let z = ChainAlgebra.solveRightLowerTransposed(chain.output, r)
        let rhoNormalized = try ChainAlgebra.largestEigenvalue(ChainAlgebra.gram(z))
        let rho = scalbn(rhoNormalized, -exponent)
        guard rho.isFinite, rho >= 0 else { throw Breakdown(description: "ρ = \(rho) is not a finite non-negative number") }
        // λₖ (LipSDP convention) = ρ·Lₖ_true/2 with Lₖ_true = Lₖ_normalized · 2^{E before k}.
        let multipliers = (0..<h).map { k in normalizedL[k].map { scalbn($0 * rho, prefix[k] - 1) } }
        return Outcome(rho: rho, multipliers: multipliers, exponents: exponents, stageValues: stageValues)
    }
}
