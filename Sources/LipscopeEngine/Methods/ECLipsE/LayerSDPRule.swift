import Foundation
import LipscopeLinearAlgebra
import LipscopeSolvers

/// ECLipsE's stage rule (Xu & Sivaranjani 2024, Alg. 1): at hidden layer k, with the coupling
/// K̂ = FFᵀ of the previous Schur complement, maximize s over diagonal L ≥ 0 such that
///     Xₖ = L − LK̂L ⪰ s·W'ᵀW'   ⇔   [[L − sW'ᵀW', LF], [FᵀL, I]] ⪰ 0
/// (W' the next weight; after the last hidden layer W' = W_out and 1/s is ρ itself). One SDP of
/// size nₖ + rank(K̂) with nₖ + 1 variables per layer, solved by DSDP (or csdp).
/// K̂ and W'ᵀW' are normalized to spectral norm 1 for the solver. The solver's L is then mixed
/// with ECLipsE-Fast's, L ← (1−θ)L + θL_fast, θ = 1e-6: Xₖ is concave in L, so the mix keeps
/// Xₖ ⪰ (1−θ)sW'ᵀW' + θℓ/2·I ≻ 0 — strictly inside, which the next Cholesky needs — at a
/// relative cost of at most θ in s. A layer whose solve does not end optimal falls back to
/// ECLipsE-Fast's L (listed in `fallbacks`).
final class LayerSDPRule: @unchecked Sendable {
    let backend: SDPBackend
    let context: JobContext
    private(set) var fallbacks: [String] = []
    private(set) var iterations = 0
    private(set) var solverSeconds = 0.0
    static let mix = 1e-6

    init(backend: SDPBackend, context: JobContext) {
        self.backend = backend
        self.context = context
    }

    func choose(_ stage: ChainRecursion.Stage) throws -> (diagonal: [Double], value: Double) {
        let fast = try ClosedFormRule.eclipseFast(stage)
        let n = stage.coupling.rows
        // Factor F of K̂ with at most n columns.
        var f = stage.factor
        if f.columns > n {
            let (values, vectors) = try LinearAlgebra.symmetricEigen(stage.coupling)
            let top = max(values.last ?? 0, 0)
            let keep = values.indices.filter { values[$0] > top * 1e-14 }
            f = Matrix(rows: n, columns: keep.count)
            for (c, j) in keep.enumerated() { for i in 0..<n { f[i, c] = vectors[i, j] * values[j].squareRoot() } }
        }
        let kappa = try ChainAlgebra.largestEigenvalue(stage.coupling)
        let nextGram = Matrix.transposeTimes(stage.next.scalingRows(by: stage.nextMid), stage.next.scalingRows(by: stage.nextMid))
        let omega = try ChainAlgebra.largestEigenvalue(nextGram)
        guard kappa > 0, omega > 0, kappa.isFinite, omega.isFinite else { return (fast, 0) }
        let r = f.columns
        let fScaled = Matrix(rows: n, columns: r, storage: f.storage.map { $0 / kappa.squareRoot() })
        // Variables: y₀ = s̄, y₁…yₙ = ℓ̄. Minimize −s̄. Blocks: dense (n + r), diagonal (2n): ℓ̄ ≥ 0, ℓ̄ ≤ U.
        let upper = 1e4   // ℓ̄ of ECLipsE-Fast is 1/2 in these units; bounds ℓ̄ of neurons with K̂ᵢᵢ = 0
        var b = SDPProblem.Builder(blocks: [.dense(n + r), .diagonal(2 * n)], variables: n + 1)
        b.objective[0] = -1
        for j in 0..<n { for i in j..<n where nextGram[i, j] != 0 {
            b.add(matrix: 1, block: 0, row: j, col: i, value: -nextGram[i, j] / omega)
        } }
        for i in 0..<n {
            let v = 2 + i
            b.add(matrix: v, block: 0, row: i, col: i, value: 1)
            for c in 0..<r where fScaled[i, c] != 0 {
                b.add(matrix: v, block: 0, row: i, col: n + c, value: fScaled[i, c])
            }
            b.add(matrix: v, block: 1, row: i, col: i, value: 1)
            b.add(matrix: v, block: 1, row: n + i, col: n + i, value: -1)
            b.addConstant(block: 1, row: n + i, col: n + i, value: -upper)
        }
        for c in 0..<r { b.addConstant(block: 0, row: n + c, col: n + c, value: -1) }
        let problem = b.build()
        let solver = backend.makeSolver()
        let result: SolverResult
        do {
            result = try solver.solve(.sdp(problem), options: SolverOptions(), control: context.solverControl)
        } catch {
            fallbacks.append("layer \(stage.layer + 1): \(error)")
            return (fast, 0)
        }
        if result.status == .cancelled { throw CancelledError() }
        iterations += result.iterations
        solverSeconds += result.seconds
        guard result.status == .optimal, result.x.count == n + 1 else {
            fallbacks.append("layer \(stage.layer + 1): \(solver.name) status \(result.status.rawValue)")
            return (fast, 0)
        }
        let theta = Self.mix
        let l = (0..<n).map { (1 - theta) * max(0, result.x[1 + $0]) / kappa + theta * fast[$0] }
        return (l, result.x[0] / (kappa * omega))
    }
}
