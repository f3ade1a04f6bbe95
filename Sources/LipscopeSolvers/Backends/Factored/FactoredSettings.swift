/// Tunables of the factored dual method (`FactoredDual`).
struct FactoredSettings {
    /// Columns k of the dual factor X = VVᵀ. The dual optimum of the nets measured has rank well
    /// below 16 (the gap closes to 1e-8 on ERAN 9×200 with k = 16); a larger k only costs time.
    var rank = 16
    /// Relative gap (ρ* − lower)/ρ* at which the run stops: 5e-6 on the bound √ρ, below what the
    /// certificate's own shift adds (≈ 1e-5 relative on ρ for the interior point's optimum too).
    var tolerance = 1e-5
    var maxIterations = 20_000
    /// The first primal recovery after this many ascent steps, then each after `checkpointGrowth`
    /// times as many: a recovery costs one dense factorization of the hidden block, a step only
    /// products with the weights, so the checks stay a bounded share of the run.
    var firstCheckpoint = 100
    var checkpointGrowth = 1.5
    /// The ascent has stalled when the lower bound grew by less than this (relative) over
    /// `stallWindow` steps; one last recovery follows.
    var stallTolerance = 1e-11
    var stallWindow = 200
    /// Points tried on the segment from a feasible start to an infeasible recovered λ (`blend`).
    var blendSteps = 30
    /// Seed of the random start (the run is deterministic).
    var seed: UInt64 = 0x5EED_1A75
}
