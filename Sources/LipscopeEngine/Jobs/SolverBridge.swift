import LipscopeSolvers

extension JobContext {
    /// The solver-layer view of this job: the solver polls the job's cancellation token and its
    /// iterations become `.iteration` events with the columns the backend reports.
    public var solverControl: SolverControl {
        let token = self.token
        let sink = self.sink
        let started = self.elapsed
        return SolverControl(isCancelled: { token.isCancelled }, onIteration: { it in
            sink(.iteration(IterationRecord(index: it.iteration, elapsed: started + it.elapsed, metrics: it.metrics)))
        })
    }
}

extension SolverIteration {
    /// The reported fields as named columns, in the order the live table shows them.
    public var metrics: [Metric] {
        let fields: [(String, Double?)] = [
            ("primal", primalObjective), ("dual", dualObjective), ("gap", relativeGap),
            ("pinf", primalInfeasibility), ("dinf", dualInfeasibility), ("mu", mu),
            ("pstep", primalStep), ("dstep", dualStep),
        ]
        return fields.compactMap { name, value in value.map { Metric(name, $0) } }
    }
}
