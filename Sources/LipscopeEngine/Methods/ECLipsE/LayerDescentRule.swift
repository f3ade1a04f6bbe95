import Foundation
import LipscopeLinearAlgebra
import CLapack

/// ECLipsE's per-layer problem solved directly instead of as an SDP. For diagonal L with
/// X(L) = L − LK̂L ≻ 0, the largest s with X(L) ⪰ sW'ᵀW' is 1/g(L), g(L) = λ_max(W'X(L)⁻¹W'ᵀ)
/// (C' folded into W'). X(L) is matrix-concave and X ↦ X⁻¹ is operator convex and decreasing,
/// so g is convex on the region X ≻ 0: maximizing s is the convex problem min g(L), nₖ variables.
/// Gradient from the top eigenvector v: with u = X⁻¹W'ᵀv, ∂g/∂Lᵢ = −(uᵢ² − 2uᵢ(K̂Lu)ᵢ).
/// Multiplicative steps Lᵢ ← Lᵢ·exp(−η·Lᵢ·∂g/∂Lᵢ/g) keep L > 0; a step is taken only when X
/// stays positive definite (Cholesky) and g decreases (backtracking on η). Starts at
/// ECLipsE-Fast's ℓI, so it is never worse than the closed form at the layer. Measured against the
/// DSDP stage SDP in the README (`bench scale`): DSDP needed ~1 s per interior-point iteration on
/// the 256-wide MNIST layers and did not finish in 60 s.
enum LayerDescentRule {
    /// Steps per phase: narrow layers are cheap, so they run to 1e-7; wide ones (each step an
    /// eigendecomposition of the next layer's coupling) stop after 20 steps or at 1e-5 — the
    /// joint L-BFGS refinement (`JointRefinement`) follows. Against 40 steps (`bench scale`,
    /// ECLipsE): 256x2 0.38 → 0.30 s (318.8 → 323.7, 1.036× LipSDP-Neuron), 256x4 1.47 → 0.87 s
    /// (17969 → 18255, 1.033×), ERAN 9×200 2.65 → 1.97 s (68007 → 68031, 1.010×).
    static func limits(width: Int) -> (iterations: Int, tolerance: Double) {
        width <= 64 ? (300, 1e-7) : (20, 1e-5)
    }

    static func choose(_ stage: ChainRecursion.Stage) throws -> (diagonal: [Double], value: Double) {
        var l = try ClosedFormRule.eclipseFast(stage)
        let next = stage.next.scalingRows(by: stage.nextMid)
        let (maxIterations, tolerance) = limits(width: l.count)
        // First the smooth surrogate (Σλᵢᵖ)^{1/p} ≥ λ_max (a repeated top eigenvalue makes λ_max
        // itself non-smooth and stalls plain steps), then λ_max (p = ∞).
        for power in [32.0, .infinity] {
            guard var current = try evaluate(stage, next: next, l, power: power) else { break }
            var eta = 0.5
            for _ in 0..<maxIterations {
                let g = current.value
                guard g > 0, g.isFinite else { break }
                var improved = false
                while eta > 1e-8 {
                    let trial = zip(l, current.gradient).map { li, gi in li * exp(max(-5, min(5, -eta * li * gi / g))) }
                    if let t = try evaluate(stage, next: next, trial, power: power), t.value < g {
                        l = trial
                        current = t
                        eta = min(eta * 2, 50)
                        improved = (g - t.value) / g > tolerance
                        break
                    }
                    eta /= 4
                }
                if !improved { break }
            }
        }
        let final = try evaluate(stage, next: next, l, power: .infinity)
        return (l, final.map { 1 / $0.value } ?? 0)
    }

    struct Point { var value: Double; var gradient: [Double] }

    /// g(L) and its gradient, or nil when X(L) is not positive definite.
    static func evaluate(_ stage: ChainRecursion.Stage, next: Matrix, _ l: [Double], power p: Double) throws -> Point? {
        let n = l.count
        let x = ChainRecursion.schurComplement(coupling: stage.coupling, diagonal: l)
        guard let r = LinearAlgebra.cholesky(x) else { return nil }
        let z = ChainAlgebra.solveRightLowerTransposed(next, r)   // W'R⁻ᵀ, g = λ_max(ZZᵀ)
        // The top 16 eigenpairs only (dsyevr). The truncated (Σλᵢᵖ)^{1/p} is still a convex
        // majorant of λ_max (the terms left out are not bounded away here), and the descent only
        // picks multipliers: the chain's point is certified afterwards either way.
        let gram = ChainAlgebra.gram(z)
        let (values, vectors) = gram.rows > 32 ? try JointRefinement.topEigen(gram, count: p.isInfinite ? 1 : 16)
                                               : try LinearAlgebra.symmetricEigen(gram)
        guard let (value, weights) = SmoothedMaximum.valueAndWeights(values, p: p) else { return nil }
        let used = values.indices.filter { weights[$0] > 1e-12 }
        var vw = Matrix(rows: vectors.rows, columns: used.count)
        for (c, i) in used.enumerated() { for r in 0..<vectors.rows { vw[r, c] = vectors[r, i] * weights[i].squareRoot() } }
        // U = X⁻¹W'ᵀV√W = R⁻ᵀ(ZᵀV√W).
        var u = Matrix.transposeTimes(z, vw)
        u.storage.withUnsafeMutableBufferPointer { ub in
            r.storage.withUnsafeBufferPointer { rb in
                cblas_dtrsm(CblasColMajor, CblasLeft, CblasLower, CblasTrans, CblasNonUnit, Int32(n), Int32(used.count),
                            1.0, rb.baseAddress, Int32(n), ub.baseAddress, Int32(n))
            }
        }
        let klu = stage.coupling * u.scalingRows(by: l)
        var gradient = [Double](repeating: 0, count: n)
        for c in 0..<used.count { for i in 0..<n {
            let ui = u[i, c]
            gradient[i] -= ui * ui - 2 * ui * klu[i, c]
        } }
        let g = value
        return Point(value: g, gradient: gradient)
    }
}
