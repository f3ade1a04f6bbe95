import Foundation

extension RankTwoOperators {
    /// A strictly feasible start from a feasible point (ρ, λ) of the LMI (e.g. ECLipsE-Fast's,
    /// which is tight along CᵀC): y = scale·(ρ, λ), since S(c·y) = c·S(y) + (c − 1)·CᵀC has
    /// slack along CᵀC too; multipliers are floored to a small positive value (a zero multiplier
    /// would pin the barrier), and ρ is raised until S ≻ 0. Returns y and S(y)'s Cholesky factor.
    func strictlyFeasibleStart(rho: Double, multipliers: [Double], scale: Double,
                               stop: () -> Bool) -> (y: [Double], factor: [Double])? {
        let top = multipliers.max() ?? 0
        var y = [rho] + multipliers
        for floor in [1e-3, 1e-6, 1e-9] {
            let trial = [rho * (1 + 1e-6) * scale] + multipliers.map { scale * max($0, top > 0 ? top * floor : floor) }
            y = trial
            if let f = DenseSym.cholesky(assemble(trial), dim) { return (trial, f) }
        }
        for raise in 0..<40 {
            if stop() { return nil }
            y[0] *= raise < 10 ? 1.01 : 2
            if let f = DenseSym.cholesky(assemble(y), dim) { return (y, f) }
        }
        return nil
    }
}
