import Foundation

/// A certified, strictly feasible point of the LipSDP LMI from the ECLipsE-Fast chain: LipSDP
/// uses it as a sanity bound on its solves (the LMI's optimum is never above it) and to pull a
/// solver's boundary point strictly inside (`LipSDPGuard`).
struct ECLipsEPoint {
    /// The certified ρ' and the multipliers scaled to it (−M(ρ', λ') ≻ 0 was proven).
    var rho: Double
    var multipliers: [[Double]]
    var value: Double

    /// ECLipsE-Fast's point of `net` (linear-output form), or nil when the chain does not apply or
    /// does not certify. `family: .eclipse` gives one multiplier per layer (a LipSDP-Layer point).
    static func fast(_ net: FeedforwardNetwork, family: ClosedFormRule.Family, context: JobContext) throws -> ECLipsEPoint? {
        guard !net.hiddenLayers.isEmpty, LayerChain.unsupported(net) == nil,
              (net.architecture.dropLast().max() ?? 0) <= ECLipsEBound.maximumWidth else { return nil }
        let chain = LayerChain(net)
        let quiet = JobContext(token: context.token, sink: { _ in })
        guard let outcome = try? ChainRecursion.run(chain, context: quiet, phase: "", choose: ClosedFormRule.rule(family)) else { return nil }
        guard case .success(let cert) = try ChainCertificate.certify(chain, multipliers: outcome.multipliers, rho: outcome.rho, context: quiet) else { return nil }
        let factor = outcome.rho > 0 ? cert.rho / outcome.rho : 1
        return ECLipsEPoint(rho: cert.rho, multipliers: outcome.multipliers.map { $0.map { $0 * factor } },
                            value: RoundingMargin.inflate(cert.rho.squareRoot(), operations: 4))
    }
}
