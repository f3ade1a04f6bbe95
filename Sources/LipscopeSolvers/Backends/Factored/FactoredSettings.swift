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
    /// Over-relaxation ω of each ascent step (`DualFactorAscent.step`). Without momentum 1.5 took
    /// 1.5× fewer steps than ω = 1; with it ω = 1 is best (steps to the 10⁻⁵ gap, release:
    /// mnist 256x4 507 at ω = 1 against 1 713 at 1.5; random 2-80×30-2 1 142 against 19 520).
    var relaxation = 1.0
    /// Largest extrapolation β of the accelerated ascent (`Momentum`). Against the plain ascent
    /// (ω = 1.5, no momentum), measured in steps: mnist 256x4 5 783 → 507; random 2-80×20-2
    /// 8 675 → ≈ 700; 2-80×30-2 > 20 000 (gap 4·10⁻⁵) → 1 142. A cap of 0.9 took 5 783 on the
    /// 30-layer net, 0.99 and 0.999 the same 1 142.
    var momentumCap = 0.999
    /// The grid t = 1 − 2⁻ʲ, j ≤ blendSteps, on the segment from a feasible start to an infeasible
    /// recovered λ (`blend`); 52 reaches the last double below 1.
    var blendSteps = 52
    /// A recovered point counts as feasible only when H − δ·diag(H) ≻ 0 (a relative margin δ on
    /// every pivot of the neuron block): at the bare edge of H ≻ 0 no certificate can tell it from
    /// the outside. On random 2-80×100-2 the walk's last point without it failed the chain
    /// certificate at every shift up to 1 % (the dense fallback certified 4.4× the value); with
    /// δ = 10⁻¹¹ it certified 10⁻⁵ above the dual's lower bound (10⁻⁹ cost 8 %, 10⁻¹³ did not
    /// certify).
    var pivotMargin = 1e-11
    /// Seed of the random start (the run is deterministic).
    var seed: UInt64 = 0x5EED_1A75
}
