import Foundation
import LipscopeLinearAlgebra

/// The `structured` backend: a primal–dual interior-point method written for `RankTwoLMI` (the
/// LipSDP LMI family; `StructuredPrimalDual`, HKM direction with Mehrotra's predictor–corrector).
/// It starts from a strictly feasible point (ECLipsE's multipliers, scaled up) and keeps
/// S(ρ, λ) ≻ 0 at every iterate, so the final point goes straight to the Cholesky certificate;
/// the dual matrix X starts infeasible and the stop asks relative gap and dual infeasibility
/// below the tolerance. Why it beats the general solvers here: the Schur matrix of the
/// multipliers, M_ij = tr(Fᵢ X Fⱼ S⁻¹) = Σ (Dᵢ Pᵢⱼ Dⱼ) ∘ Qᵢⱼ with Pᵢⱼ = [aᵢ bᵢ]ᵀ X [aⱼ bⱼ],
/// Qᵢⱼ = [aᵢ bᵢ]ᵀ S⁻¹ [aⱼ bⱼ], comes from products of X and S⁻¹ with the layer weights per band
/// (BLAS-3), and X·A(dy) from one band product per layer (`RankTwoOperators`), instead of
/// DSDP's/csdp's per-constraint assembly. General SDPs are refused (`supports` is false).
public struct StructuredLMISolver: Solver {
    public let name = "structured"

    public init() {}

    public func supports(_ problem: ConicProblem) -> Bool { false }

    public func solve(_ problem: ConicProblem, options: SolverOptions, control: SolverControl) throws(SolverError) -> SolverResult {
        throw SolverError(solver: name, message: "the structured backend solves the LipSDP LMI family only (lipsdp-neuron, lipsdp-layer); use dsdp or csdp for a general SDP")
    }

    /// Solves `lmi` from the strictly feasible point (ρ, λ per group) `start`. x of the result is
    /// [ρ, λ_0, …, λ_{G−1}]; primal objective ρ, dual objective ⟨CᵀC, X⟩.
    public func solve(_ lmi: RankTwoLMI, startRho: Double, startMultipliers: [Double], options: SolverOptions,
                      control: SolverControl) throws(SolverError) -> SolverResult {
        if let why = lmi.validate() { throw SolverError(solver: name, message: "invalid LMI: \(why)") }
        guard startMultipliers.count == lmi.groupCount, startRho.isFinite, startRho > 0,
              startMultipliers.allSatisfy({ $0.isFinite && $0 >= 0 }) else {
            throw SolverError(solver: name, message: "the start point must have ρ > 0 and \(lmi.groupCount) finite multipliers ≥ 0")
        }
        let name = self.name
        return SolveRun.run(solverName: name, options: options, control: control) { run in
            // Its dense d³ steps gain from every core (measured on 2 cores: 256x2, n = 768, 3.9 s →
            // 2.7 s; ERAN 9×200, n = 1 810, 41.6 s → 28.0 s); small LMIs stay on one thread,
            // where OpenBLAS's spinning workers cost more than they give.
            let threads = lmi.dimension >= 512 ? ProcessInfo.processInfo.activeProcessorCount : 1
            return LinearAlgebra.withThreads(threads) {
                StructuredPrimalDual(lmi: lmi, run: run).solve(rho: startRho, multipliers: startMultipliers)
            }
        }
    }
}
