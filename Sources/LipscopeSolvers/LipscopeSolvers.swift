// The solver layer: conic problems (SDPProblem, LPProblem), their file formats (SDPAFormat,
// MPSFormat) and backends behind the `Solver` protocol (DSDPSolver, CSDPSolver, CLPSolver).
