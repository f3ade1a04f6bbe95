import Foundation
import LipscopeLinearAlgebra

/// ℓ∞ contraction bounds over a region and/or for a margin.
///
/// For two inputs u, u' of the region, with fixed points z, z' (both in the proven box, so each
/// pre-activation in its interval), neuron i's secant slope dᵢ = Δzᵢ/Δvᵢ lies in its interval
/// [αᵢ, βᵢ] ⊂ [0, 1] (ψ's units), and Δz = D(AΔz + BΔu) with D = diag(d). Writing dᵢ = βᵢd̃ᵢ,
/// d̃ᵢ ∈ [0, 1]:  Δz = D̃(A'Δz + B'Δu)  with A' = diag(β)A, B' = diag(β)B.
/// That is the increment relation the global bound rests on, for the row-scaled system: row by
/// row (η weights, rᵢ = Σ_{j≠i}|a'ᵢⱼ|ηⱼ/ηᵢ, m = maxⱼ|Δzⱼ|/ηⱼ attained at row i)
///     (1 − d̃ᵢa'ᵢᵢ)|Δzᵢ| ≤ d̃ᵢ(rᵢηᵢm + ‖B'ᵢ‖₁‖Δu‖∞),  and d ↦ d/(1 − da) is increasing,
/// so m(1 − a'ᵢᵢ − rᵢ) ≤ ‖B'ᵢ‖₁/ηᵢ ‖Δu‖∞, hence m ≤ ‖[η]⁻¹B'‖∞‖Δu‖∞ / (1 − μ_η(A')), and the global
/// closed form ‖D_out‖∞ + ‖C[η]‖∞‖[η]⁻¹B'‖∞ / (1 − μ_η(A')) bounds the local constant. A stably
/// inactive neuron (βᵢ = 0) drops out; with every interval [0, 1] it is the global bound exactly.
/// The lower slopes αᵢ are not used (the contraction argument only needs d̃ ≥ 0). Rounding of
/// βᵢaᵢⱼ (one relative unit per entry) is well inside `certifiedBound`'s margin of 8(n+1)u per row.
extension ContractionBound {
    func runLocal(_ request: BoundRequest, scope: EquilibriumScope, context: JobContext) throws -> BoundResult {
        var system = scope.liveSystem
        let betas = scope.live.map { scope.slopes[$0].beta }
        if betas.contains(where: { $0 != 1 }) {
            system.A = system.A.scalingRows(by: betas)
            system.B = system.B.scalingRows(by: betas)
        }
        var details = scope.details
        if scope.region != nil, !scope.needsWellPosedness, scope.hasLocalSlopes { details["well_posed"] = .bool(true) }
        if scope.hasLocalSlopes {
            details["local_method"] = .string("the global closed form on the row-scaled system diag(β)A, diag(β)B of the region's upper slopes β (stably inactive neurons deleted)")
        }
        return try bound(system, request, details: details, context: context)
    }
}
