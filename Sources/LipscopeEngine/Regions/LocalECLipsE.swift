import Foundation
import LipscopeLinearAlgebra

/// ECLipsE / ECLipsE-Fast over an input region and/or for a margin: the chain recursion runs on
/// the local chain (`LocalChain` with `.widenToZero`: slope-0 neurons deleted, linear layers
/// merged, every remaining neuron with its own interval, a fixed slope s widened to [0, s]) and
/// is certified in that chain's full LMI; the merge slack is added to the value.
extension ECLipsEBound {
    /// The answers that need no recursion: a constant or affine local map, or a neuron whose
    /// interval straddles 0 with αβ < 0 (GELU/SiLU near their negative-slope region), for which
    /// the layer decomposition is unsound. nil: run the chain.
    func localShortcut(_ request: BoundRequest, scope: LocalScope, chain: LocalChain) throws -> BoundResult? {
        var details = scope.details.merging(chain.details) { a, _ in a }
        if chain.isConstant {
            details["certificate"] = .string("every path from input to output crosses a neuron whose slope is 0 on the region: the map is constant there")
            return result(request, value: 0, certified: true, details: details)
        }
        if chain.hidden.isEmpty {
            let norm = try LinearAlgebra.spectralNorm(chain.output)
            details["certificate"] = .string("no unstable neuron: the network is affine on the region; spectral norm of its Jacobian with a rounding margin, plus the merge slack")
            let value = chain.networkBound(RoundingMargin.inflate(norm, operations: 2 * (chain.output.rows + chain.output.columns) + 2))
            return result(request, value: value, certified: true, details: details)
        }
        for (k, h) in chain.hidden.enumerated() {
            if let i = h.alpha.indices.first(where: { h.alpha[$0] * h.beta[$0] < 0 }) {
                details["reason"] = .string("neuron \(i) of local layer \(k + 1) has slope interval [\(h.alpha[i]), \(h.beta[i])] with αβ < 0 on the region; the layer-by-layer decomposition is sound only for αβ ≥ 0 (use lipsdp-neuron)")
                return result(request, value: nil, certified: false, status: .notApplicable, details: details)
            }
        }
        return nil
    }

    /// True when the request sets an input region (the global αβ < 0 refusal may not apply).
    func hasRegion(_ request: BoundRequest) -> Bool {
        guard let parsed = try? parseOptions(request) else { return false }
        return ["center", "lower"].contains { parsed.isSet($0) }
    }
}
