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
    /// Over-relaxation ω of each ascent step (`DualFactorAscent.step`): 1.5 took 1.5× fewer steps
    /// than the plain maximizer (ω = 1) on every net measured — 256x2 338 → 225, 256x4 8 675 →
    /// 5 783, ERAN 9×200 338 → 225, random 2-80×10-2 1 142 → 761, 2-80×20-2 13 013 → 8 675, same
    /// values — while ω = 2 no longer converged on the deep nets (gap 5·10⁻⁴ and 10⁻³ after 20 000).
    var relaxation = 1.5
    /// Points tried on the segment from a feasible start to an infeasible recovered λ (`blend`).
    var blendSteps = 30
    /// Seed of the random start (the run is deterministic).
    var seed: UInt64 = 0x5EED_1A75
}
