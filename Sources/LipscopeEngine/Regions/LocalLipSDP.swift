import Foundation
import LipscopeLinearAlgebra

/// LipSDP-Neuron / -Layer over an input region and/or for a margin: the LMI of the local chain
/// (`LocalChain`: slope-0 neurons deleted, linear layers merged) with every remaining neuron's
/// own slope interval — a fixed one [s, s] makes its quadratic constraint the equality Δz = sΔv.
/// The solve, the Cholesky certificate and the guard are LipSDP's own (`LipSDPChunk.bound`); the
/// guard is the chain's naive product and ECLipsE-Fast's point on the same intervals.
extension LipSDPBound {
    func runLocal(_ request: BoundRequest, scope: LocalScope, options: SDPMethodOptions, context: JobContext) throws -> BoundResult {
        let chain = try LocalChain(scope, fixed: .keep)
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
        let net = chain.network
        let perNeuron = variant == .neuron
        let guardBound = try LipSDPGuard(localChain: chain, perNeuron: perNeuron, context: context)
        let outcome = try LipSDPChunk.bound(net, perNeuron: perNeuron, options: options, context: context,
                                           slopes: chain.intervals, guard: guardBound)
        details.merge(outcome.details) { a, _ in a }
        details["solver_value"] = .number(outcome.solverValue)
        if let value = outcome.certifiedValue {
            details["certificate"] = .string("LipSDP's LMI of the region's chain (per-neuron slope intervals) certified by Cholesky with a rounding margin, plus the merge slack")
            return result(request, value: chain.networkBound(value), certified: true, iterations: outcome.iterations, details: details)
        }
        details["reason"] = .string("not certified: \(outcome.failure ?? "unknown")")
        return result(request, value: outcome.solverValue, certified: false, iterations: outcome.iterations, details: details)
    }
}

extension LipSDPGuard {
    /// The guard of a local chain's LMI: its naive product and ECLipsE-Fast's point on the same
    /// per-neuron intervals (when every αβ ≥ 0, so the chain recursion applies).
    init(localChain chain: LocalChain, perNeuron: Bool, context: JobContext) throws {
        value = try chain.naiveProduct()
        source = "naive product"
        point = nil
        let layerChain = chain.layerChain
        let supported = chain.hidden.allSatisfy { h in zip(h.alpha, h.beta).allSatisfy { $0 * $1 >= 0 } }
        if supported, let eclipse = try ECLipsEPoint.fast(chain: layerChain, family: perNeuron ? .best : .eclipse, context: context) {
            point = perNeuron ? eclipse.multipliers.flatMap { $0 } : eclipse.multipliers.map { $0.max() ?? 0 }
            pointRho = eclipse.rho
            if eclipse.value < value { value = eclipse.value; source = "ECLipsE-Fast" }
        }
    }
}

extension ECLipsEPoint {
    /// ECLipsE-Fast's certified point of an explicit chain (per-neuron intervals), or nil.
    static func fast(chain: LayerChain, family: ClosedFormRule.Family, context: JobContext) throws -> ECLipsEPoint? {
        guard !chain.hidden.isEmpty, (chain.widths.max() ?? 0) <= ECLipsEBound.maximumWidth else { return nil }
        let quiet = JobContext(token: context.token, sink: { _ in })
        guard let outcome = try? ChainRecursion.run(chain, context: quiet, phase: "", choose: ClosedFormRule.rule(family)) else { return nil }
        guard case .success(let cert) = try ChainCertificate.certify(chain, multipliers: outcome.multipliers, rho: outcome.rho, context: quiet) else { return nil }
        let factor = outcome.rho > 0 ? cert.rho / outcome.rho : 1
        return ECLipsEPoint(rho: cert.rho, multipliers: outcome.multipliers.map { $0.map { $0 * factor } },
                            value: RoundingMargin.inflate(cert.rho.squareRoot(), operations: 4))
    }
}
