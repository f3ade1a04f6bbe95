import Foundation
import LipscopeLinearAlgebra

/// The `factored` backend: LipSDP-Neuron's LMI through its dual in factored form (`FactoredDual`:
/// a rank-16 dual ascent of forward/backward passes through the weights, the primal point
/// recovered from complementary slackness with its exact ρ*). It keeps nothing d × d across
/// steps, so it reaches LMIs the interior points cannot (CIFAR conv nets, d > 5 000); every
/// returned point goes to the same Cholesky certificate, and the dual objective is a lower bound
/// on the LMI's optimum, so the result states its own gap. General SDPs are refused.
public struct FactoredLMISolver: Solver {
    public let name = "factored"

    public init() {}

    public func supports(_ problem: ConicProblem) -> Bool { false }

    public func solve(_ problem: ConicProblem, options: SolverOptions, control: SolverControl) throws(SolverError) -> SolverResult {
        throw SolverError(solver: name, message: "the factored backend solves LipSDP-Neuron's LMI only; use dsdp or csdp for a general SDP")
    }

    /// Why `lmi` is outside this backend's family, or nil.
    public static func unsupported(_ lmi: RankTwoLMI) -> String? { DualFactorAscent.unsupported(lmi) }

    /// Solves `lmi`; x of the result is [ρ, λ per neuron], primal objective ρ*(λ), dual
    /// objective the lower bound. Status optimal when they meet within the tolerance; otherwise the
    /// best point so far with status iteration_limit / numerical_trouble (stalled).
    /// `feasible`: multipliers of a strictly feasible point (ECLipsE-Fast's), towards which a
    /// recovered λ that is not feasible is pulled back.
    public func solve(_ lmi: RankTwoLMI, feasible: [Double]? = nil, options: SolverOptions, control: SolverControl) throws(SolverError) -> SolverResult {
        if let why = lmi.validate() ?? Self.unsupported(lmi) { throw SolverError(solver: name, message: "invalid LMI: \(why)") }
        return SolveRun.run(solverName: name, options: options, control: control) { run in
            LinearAlgebra.withThreads(1) { FactoredDual(lmi: lmi, run: run, feasible: feasible).solve() }
        }
    }
}
