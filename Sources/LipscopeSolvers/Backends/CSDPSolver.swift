public struct CSDPSolver: Solver {
    public let name = "csdp"
    public init() {}
    public func supports(_ problem: ConicProblem) -> Bool { if case .sdp = problem { return true }; return false }
    public func solve(_ problem: ConicProblem, options: SolverOptions, control: SolverControl) throws(SolverError) -> SolverResult {
        throw SolverError(solver: name, message: "not implemented")
    }
}
