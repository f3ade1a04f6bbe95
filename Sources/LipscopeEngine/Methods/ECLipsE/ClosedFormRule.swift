import Foundation
import LipscopeLinearAlgebra

/// ECLipsE-Fast's stage rule and the diagonal family it belongs to.
///
/// ECLipsE-Fast (Xu & Sivaranjani 2024, Alg. 2) takes Lₖ = ℓI and maximizes the smallest
/// eigenvalue of Xₖ = ℓI − ℓ²K̂: ℓ = 1/(2λ_max(K̂)), so Xₖ ⪰ ℓ/2·I.
/// Syed & Hu (arXiv 2503.14297) observe that any diagonal Lₖ = ℓT (T ≻ 0 fixed) gives a closed
/// form the same way, ECLipsE-Fast being T = I, and that different members can be combined.
/// Here: Xₖ = ℓT − ℓ²TK̂T = T^{1/2}(ℓI − ℓ²T^{1/2}K̂T^{1/2})T^{1/2}, ℓ = 1/(2λ_max(T^{1/2}K̂T^{1/2})),
/// for T = I and the Jacobi scaling T = diag(K̂)⁻¹ (every neuron's coupling normalized to 1);
/// `best` keeps, layer by layer, the member whose Xₖ leaves the next layer the smaller coupling
/// ν = λ_max(C'W'Xₖ⁻¹W'ᵀC') — after the last hidden layer ν is ρ itself, so the final choice is
/// exact and `best` is never looser than ECLipsE-Fast at the last layer (earlier layers are
/// greedy; the bench reports both).
enum ClosedFormRule {
    enum Family: String, Sendable { case eclipse, best }

    /// The diagonal of Lₖ for scaling T: ℓ·T with ℓ = 1/(2λ_max(T^{1/2}K̂T^{1/2})).
    /// With `factor` (a sparse Ŷ, K̂ = ŶŶᵀ) a large K̂ is multiplied as Ŷ(Ŷᵀv) in the Lanczos steps,
    /// cheap enough to run up to 400 of them (the dense K̂ stops at 80, where the first layer of the
    /// oval21 nets still had a relative residual of 4e-5, so λ_max was overestimated by as much).
    static func scaled(_ coupling: Matrix, scaling t: [Double], factor: SparseMatrix? = nil) throws -> [Double] {
        let s = t.map { $0.squareRoot() }
        let top: Double
        if let f = factor, coupling.rows > ChainAlgebra.iterativeSize {
            top = try ChainSparse.lanczosTop(size: coupling.rows, steps: 400, tolerance: 1e-9) { v in
                    let u = f * ChainSparse.transposeTimes(f, zip(s, v).map { $0 * $1 })
                    return zip(s, u).map { $0 * $1 }
            }
        } else {
            let scaledCoupling = coupling.scalingRows(by: s).scalingColumns(by: s)
            top = try ChainAlgebra.topEigenvalue(scaledCoupling)
        }
        guard top > 0, top.isFinite else {
            // K̂ = 0: the layer is cut off from the input; any multiplier works, take T.
            return t
        }
        let ell = 1 / (2 * top)
        return t.map { ell * $0 }
    }

    static func eclipseFast(_ stage: ChainRecursion.Stage) throws -> [Double] {
        if let top = stage.couplingTop, top > 0, top.isFinite {
            return Array(repeating: 1 / (2 * top), count: stage.coupling.rows)
        }
        return try scaled(stage.coupling, scaling: Array(repeating: 1, count: stage.coupling.rows), factor: stage.sparseFactor)
    }

    /// Jacobi member: T = diag(K̂)⁻¹ where K̂ᵢᵢ > 0 (neurons with K̂ᵢᵢ = 0 get the largest tᵢ).
    static func jacobi(_ stage: ChainRecursion.Stage) throws -> [Double] {
        let n = stage.coupling.rows
        let d = (0..<n).map { stage.coupling[$0, $0] }
        let positive = d.filter { $0 > 0 }
        guard let smallest = positive.min() else { return try eclipseFast(stage) }
        return try scaled(stage.coupling, scaling: d.map { $0 > 0 ? 1 / $0 : 1 / smallest }, factor: stage.sparseFactor)
    }

    /// ν = λ_max(C'W' X⁻¹ W'ᵀC') for X = L − (LŶ)(LŶ)ᵀ, with the next stage it was read from
    /// (X normalized by 2^{-e} first, as the recursion does, so ν = 2^{-e}·λ_max of the normalized
    /// coupling); nil when X is not positive definite.
    static func nextCoupling(_ stage: ChainRecursion.Stage, diagonal l: [Double]) throws -> (nu: Double, prepared: ChainRecursion.Prepared)? {
        guard let factored = ChainRecursion.factorSchur(stage, diagonal: l) else { return nil }
        return try nextCoupling(stage, factored: factored)
    }

    static func nextCoupling(_ stage: ChainRecursion.Stage, factored: ChainRecursion.FactoredSchur) throws -> (nu: Double, prepared: ChainRecursion.Prepared) {
        var p = ChainRecursion.prepare(stage, factored: factored)
        let top = try ChainAlgebra.topEigenvalue(p.nextCoupling)
        p.nextCouplingTop = top
        return (scalbn(top, -p.exponent), p)
    }

    /// Below this width the second member's coupling is formed outright (its Gram is cheap).
    static let pruningWidth = 384
    /// Lanczos steps spent on showing that a member loses before its coupling is formed.
    static let pruningSteps = 12

    /// Whether ν = λ_max(C'W'X⁻¹W'ᵀC') of the member factored as `factored` provably exceeds
    /// `threshold` — a Ritz value of Lanczos on v ↦ C'W'X⁻¹W'ᵀC'v (two products with W' and two
    /// triangular solves a step, no Gram) is at most λ_max, so once one passes the threshold the
    /// member cannot win and its coupling (a triangular solve with W' and a Gram, the dominant
    /// cost of a 2048-wide layer) need not be formed. False when `pruningSteps` do not show it.
    /// Only the choice between two feasible members depends on this, never a certificate.
    /// The choice is the one forming the coupling would make because ν formed outright is never
    /// below a Ritz value: `ChainAlgebra.topEigenvalue` is exact (dsyevr) up to `iterativeSize`
    /// and above it returns Lanczos' θ + residual, an upper estimate; a change there must keep that.
    static func provablyAbove(_ stage: ChainRecursion.Stage, factored: ChainRecursion.FactoredSchur,
                              threshold nu: Double) throws -> Bool {
        let next = stage.next, mid = stage.nextMid
        let n = next.columns, m = next.rows
        guard m > 0, n > 0 else { return false }
        let r = factored.factor.dense
        // In X's normalized units: λ_max(K̃) = 2^e ν.
        let target = scalbn(nu, factored.exponent) * (1 + 1e-8)
        let apply: ([Double]) -> [Double] = { v in
            var w = [Double](repeating: 0, count: n)
            let scaled = zip(mid, v).map { $0 * $1 }
            next.storage.withUnsafeBufferPointer { ns in
                w.withUnsafeMutableBufferPointer { ws in
                    BlasKernels.multiplyAdd(ns.baseAddress!, rows: m, cols: n, transposed: true, scaled, alpha: 1, ws.baseAddress!)
                }
            }
            r.storage.withUnsafeBufferPointer { rs in
                w.withUnsafeMutableBufferPointer { ws in
                    BlasKernels.solveLower(rs.baseAddress!, n: n, ws.baseAddress!, transposed: false)
                    BlasKernels.solveLower(rs.baseAddress!, n: n, ws.baseAddress!, transposed: true)
                }
            }
            var u = [Double](repeating: 0, count: m)
            next.storage.withUnsafeBufferPointer { ns in
                u.withUnsafeMutableBufferPointer { us in
                    BlasKernels.multiplyAdd(ns.baseAddress!, rows: m, cols: n, transposed: false, w, alpha: 1, us.baseAddress!)
                }
            }
            return zip(mid, u).map { $0 * $1 }
        }
        return try ChainSparse.lanczosExceeds(size: m, steps: pruningSteps, threshold: target, times: apply)
    }

    /// `best`'s two members judged by ν; the Jacobi member's coupling is formed only when it may win.
    /// `prune: false` forms both couplings (the tests compare the two).
    static func better(_ stage: ChainRecursion.Stage, plain: [Double], scaled: [Double], prune: Bool = true) throws -> ChainRecursion.Choice {
        let a = try nextCoupling(stage, diagonal: plain)
        var b: (nu: Double, prepared: ChainRecursion.Prepared)? = nil
        if let factored = ChainRecursion.factorSchur(stage, diagonal: scaled) {
            if prune, let a, stage.next.rows >= pruningWidth, try provablyAbove(stage, factored: factored, threshold: a.nu) {
                return .init(diagonal: plain, value: a.nu, prepared: a.prepared)
            }
            b = try nextCoupling(stage, factored: factored)
        }
        switch (a, b) {
        case let (a?, b?):
            return b.nu < a.nu ? .init(diagonal: scaled, value: b.nu, prepared: b.prepared)
                               : .init(diagonal: plain, value: a.nu, prepared: a.prepared)
        case let (a?, nil): return .init(diagonal: plain, value: a.nu, prepared: a.prepared)
        case let (nil, b?): return .init(diagonal: scaled, value: b.nu, prepared: b.prepared)
        default: return .init(diagonal: plain, value: .nan)
        }
    }

    /// The stage rule of `family`; the reported value is ν of the member taken (best) or 0.
    /// `best` forms both members' next stages to compare them and hands the winner's on.
    static func rule(_ family: Family) -> (ChainRecursion.Stage) throws -> ChainRecursion.Choice {
        switch family {
        case .eclipse:
            return { stage in ChainRecursion.Choice(diagonal: try eclipseFast(stage), value: 0) }
        case .best:
            return { stage in try better(stage, plain: try eclipseFast(stage), scaled: try jacobi(stage)) }
        }
    }
}
