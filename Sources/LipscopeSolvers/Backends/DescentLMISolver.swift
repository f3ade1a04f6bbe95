import Foundation
import LipscopeLinearAlgebra

/// The `descent` backend: LipSDP-Layer's LMI in its own few variables (`RhoDescent`: BFGS on
/// log ρ*(λ) over one multiplier per layer, ρ*(λ) exact by a Cholesky of the neuron block). It
/// keeps nothing d × d, so it reaches the LMIs past the interior point's size (CIFAR conv nets),
/// and on the VNN-COMP MLPs it replaces an interior point whose Newton system still had the
/// neuron-level size. Every returned point is feasible and goes to the same Cholesky
/// certificate; there is no dual bound. General SDPs are refused.
public struct DescentLMISolver: Solver {
    public let name = "descent"

    public init() {}

    public func supports(_ problem: ConicProblem) -> Bool { false }

    public func solve(_ problem: ConicProblem, options: SolverOptions, control: SolverControl) throws(SolverError) -> SolverResult {
        throw SolverError(solver: name, message: "the descent backend solves LipSDP's LMI only; use dsdp or csdp for a general SDP")
    }

    /// Why `lmi` is outside this backend's family, or nil.
    public static func unsupported(_ lmi: RankTwoLMI) -> String? { RhoDescent.unsupported(lmi) }

    /// Solves `lmi` from `start` (multipliers per group of a strictly feasible point, e.g.
    /// ECLipsE-Fast's); x of the result is [ρ*, λ per group], the primal objective ρ*(λ).
    public func solve(_ lmi: RankTwoLMI, start: [Double], options: SolverOptions, control: SolverControl) throws(SolverError) -> SolverResult {
        if let why = lmi.validate() ?? Self.unsupported(lmi) { throw SolverError(solver: name, message: "invalid LMI: \(why)") }
        var settings = DescentSettings()
        if let gap = options.relativeGapTolerance { settings.tolerance = gap }
        if let limit = options.maxIterations { settings.maxEvaluations = limit }
        let chosen = settings
        return SolveRun.run(solverName: name, options: options, control: control) { run in
            // One thread per factorization below 512 (BLAS threads cost more than they save there).
            LinearAlgebra.withThreads(lmi.dimension >= 512 ? ProcessInfo.processInfo.activeProcessorCount : 1) {
                guard let descent = RhoDescent(lmi: lmi, run: run, settings: chosen) else {
                    return SolverResult(status: .numericalTrouble, seconds: run.elapsed, solver: "descent", message: "unsupported LMI")
                }
                return descent.solve(start: start)
            }
        }
    }
}
