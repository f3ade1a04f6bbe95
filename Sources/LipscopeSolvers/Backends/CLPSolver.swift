public struct CLPSolver: Solver {
    public let name = "clp"
    public init() {}
    public func supports(_ problem: ConicProblem) -> Bool { if case .lp = problem { return true }; return false }
    public func solve(_ problem: ConicProblem, options: SolverOptions, control: SolverControl) throws(SolverError) -> SolverResult {
        throw SolverError(solver: name, message: "not implemented")
    }
}
