import Foundation
import LipscopeLinearAlgebra

/// The implicit LMI over a region and/or for a margin. For inputs u, u' of the region the fixed
/// points lie in the proven box, so every neuron's secant slope lies in its interval [αᵢ, βᵢ] and
///     (Δzᵢ − αᵢΔvᵢ)(βᵢΔvᵢ − Δzᵢ) ≥ 0,  Δv = AΔz + BΔu,
/// the incremental quadratic constraint `SlopeLMI` already states per neuron (LipSDP's local runs
/// use the same). The S-procedure then gives ‖Δy‖₂² ≤ g‖Δu‖₂² exactly as globally; the certificate
/// path (SDPDriver.solveAndCertify: Cholesky with rounding margin) is unchanged. Stably inactive
/// neurons ([0, 0]) are deleted (exact: Δzᵢ = 0); a stably active one keeps [1, 1], whose
/// constraint forces Δzᵢ = Δvᵢ.
///
/// Well-posedness is not proven by this LMI (its slopes hold only inside the region), so the
/// region's box needs a separate proof: a certified contraction measure, or else the global
/// implicit-SDP certificate, which is then computed first (and its value kept in the details).
extension ImplicitSDPBound {
    func runLocal(_ request: BoundRequest, scope initial: EquilibriumScope, options: SDPMethodOptions,
                  context: JobContext) throws -> BoundResult {
        var scope = initial
        var global: BoundResult?
        if scope.needsWellPosedness {
            var plain = request
            plain.options = request.options.filter { key, _ in !InputRegion.options.contains { $0.key == key } }   // keeps a margin
            let g = try run(plain, context: context)
            global = g
            if g.certified {
                scope = try EquilibriumScope.ifLocal(request, parsed: try parseOptions(request),
                                                     wellPosedBy: "the global implicit-sdp certificate (2Λ − ΛA − AᵀΛ ≻ 0), computed first") ?? scope
            }
        }
        let system = scope.liveSystem
        let slopes = scope.live.map { SlopeInterval(alpha: scope.slopes[$0].alpha, beta: scope.slopes[$0].beta) }
        var extra = scope.details
        if let global, let v = global.value { extra["global_value"] = .number(v) }
        var local = try bound(system, slopes: slopes, request, options: options, details: extra, context: context)
        if local.certified, scope.hasLocalSlopes {
            local.details["well_posed"] = .bool(true)
            local.details["certificate"] = .string("the LMI with the region's per-neuron slope intervals, rebuilt with the solver's Λ (clipped ≥ 0) and g' = g + shift, proven positive definite by Cholesky with a rounding margin; it holds for pairs of inputs of the region, whose fixed points lie in the proven box")
        }
        return local
    }
}
