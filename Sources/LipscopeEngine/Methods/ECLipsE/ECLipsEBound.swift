import Foundation
import LipscopeLinearAlgebra
import LipscopeSolvers

/// ECLipsE and ECLipsE-Fast (Xu & Sivaranjani, NeurIPS 2024), ℓ2, feedforward nets: the
/// LipSDP-Neuron LMI decomposed exactly into a chain of per-layer matrix inequalities
/// (`ChainRecursion`), with the multipliers of each layer chosen by one small SDP (`eclipse`,
/// `LayerSDPRule`) or in closed form (`eclipse-fast`, `ClosedFormRule`, optionally improved by
/// the Syed–Hu diagonal family). The multipliers are then put into the full LipSDP-Neuron LMI of
/// the network as given and certified by a block Cholesky with rounding margins
/// (`ChainCertificate`) at the reported ρ'; otherwise `certified: false`.
/// Every value is a feasible point of LipSDP-Neuron, so it is ≥ LipSDP-Neuron's optimum.
public struct ECLipsEBound: BoundMethod {
    public enum Variant: String, Sendable { case sdp, fast }

    public let variant: Variant
    public var id: String { variant == .sdp ? "eclipse" : "eclipse-fast" }
    public var label: String { variant == .sdp ? "ECLipsE" : "ECLipsE-Fast" }
    public let kind = BoundKind.upper
    public let norms: [Norm] = [.l2]
    /// Widest hidden layer handled: the chain keeps dense nₖ × nₖ Schur complements.
    public static let maximumWidth = 8192
    /// Widest layer whose per-layer SDP is attempted (block 2nₖ, nₖ + 1 variables).
    public static let maximumSDPWidth = 1024

    public init(_ variant: Variant) { self.variant = variant }

    /// Plus an input region and/or a margin (Regions/LocalECLipsE.swift).
    public var options: [MethodOption] { variantOptions + LocalScope.options }

    var variantOptions: [MethodOption] {
        switch variant {
        case .sdp:
            [MethodOption("layer_solver", .choice(["descent", "sdp"]), default: "descent",
                          help: "per-layer problem: descent (the convex problem min λ_max(W'X(L)⁻¹W'ᵀ) by multiplicative gradient steps from ECLipsE-Fast's point) or sdp (the paper's small SDP, by --solver)"),
             StandardOptions.solver(for: .sdp, help: "solver of the per-layer SDPs with layer_solver sdp: dsdp (default) or csdp")]
        case .fast:
            [MethodOption("closed_form", .choice(["best", "eclipse"]), default: "best",
                          help: "eclipse: ECLipsE-Fast's Lₖ = ℓI; best: per layer the better of ℓI and the Jacobi-scaled member ℓ·diag(K̂)⁻¹ of the Syed–Hu diagonal family (judged by the next layer's coupling; exact at the last layer)")]
        }
    }

    public func applicability(_ request: BoundRequest) -> Applicability {
        guard let full = request.network.layerChain else {
            return .notApplicable(request.network.chainRefusal("ECLipsE (a per-layer recursion)") ?? "")
        }
        let net = full.withLinearOutput
        if let why = LayerChain.unsupported(net), !hasRegion(request) { return .notApplicable(why) }
        let widest = net.architecture.dropLast().max() ?? 0
        if widest > Self.maximumWidth && !(variant == .fast && WideLayerChain.applies(net)) {
            return .tooLarge("a layer of width \(widest) (limit \(Self.maximumWidth)): the chain keeps dense Schur complements of each layer's size")
        }
        // The default per-layer descent has no such limit: it factors the layer's Schur complement only.
        if variant == .sdp, (try? parseOptions(request))?.text("layer_solver") == "sdp",
           let w = net.hiddenLayers.map(\.outputSize).max(), w > Self.maximumSDPWidth {
            return .tooLarge("a hidden layer of width \(w) (limit \(Self.maximumSDPWidth) for the per-layer SDP); layer_solver descent and eclipse-fast have no such limit")
        }
        return .applicable
    }

    public func run(_ request: BoundRequest, context: JobContext) throws -> BoundResult {
        try HeapRetention.during { try runChain(request, context: context) }
    }

    func runChain(_ request: BoundRequest, context: JobContext) throws -> BoundResult {
        guard let full = request.network.layerChain else { throw MethodFailure("a chain of layers only") }
        let parsed = try parseOptions(request)
        let scope = try LocalScope(request, parsed: parsed, network: full)
        let local = scope.isLocal ? try LocalChain(scope, fixed: .widenToZero) : nil
        if let local, let done = try localShortcut(request, scope: scope, chain: local) { return done }
        let net = local?.network ?? (request.output.map { full.restricted(toOutput: $0) } ?? full.withLinearOutput)
        if net.hiddenLayers.isEmpty {
            let w = net.layers[0].weight.dense
            let norm = try LinearAlgebra.spectralNorm(w)
            return result(request, value: RoundingMargin.inflate(norm, operations: 2 * (w.rows + w.columns) + 2), certified: true,
                          details: ["certificate": .string("affine map: spectral norm with a rounding margin")])
        }
        if local == nil, variant == .fast, (net.architecture.dropLast().max() ?? 0) > Self.maximumWidth, WideLayerChain.applies(net) {
            return try runWide(request, net, context: context)
        }
        // A sparse (conv) first layer in band order: the chain's first Schur complement and the
        // certificate's first block then factor as bands (`ChainBanded`); same LMI, permuted.
        let given = local?.layerChain ?? LayerChain(net)
        let chain = given.bandOrdered()?.chain ?? given
        var details: [String: JSONValue] = local.map { scope.details.merging($0.details) { a, _ in a } } ?? [:]
        let started = ContinuousClock.now
        let outcome: ChainRecursion.Outcome
        var layerwise: ChainRecursion.Outcome? = nil      // the chain's own point, when refined
        var iterations = chain.hidden.count
        do {
            switch variant {
            case .fast:
                let family = parsed.choice("closed_form", as: ClosedFormRule.Family.self) ?? .best
                details["closed_form"] = .string(family.rawValue)
                outcome = try ChainRecursion.run(chain, context: context, phase: "layers", choose: ClosedFormRule.rule(family))
            case .sdp:
                if parsed.text("layer_solver") == "sdp" {
                    let backend = parsed.backend(solving: SDPKind.self) ?? SDPBackend.all[0]
                    let rule = LayerSDPRule(backend: backend, context: context)
                    outcome = try ChainRecursion.run(chain, context: context, phase: "layer SDPs", rule: rule.choose)
                    details["layer_solver"] = .string("sdp")
                    details["solver"] = .string(backend.name)
                    details["solver_seconds"] = .number(rule.solverSeconds)
                    iterations = rule.iterations
                    if !rule.fallbacks.isEmpty {
                        details["fallbacks"] = .array(rule.fallbacks.map { .string($0 + "; ECLipsE-Fast's multipliers used") })
                    }
                } else {
                    details["layer_solver"] = .string("descent")
                    var chained = try ChainRecursion.run(chain, context: context, phase: "layers", rule: LayerDescentRule.choose)
                    // Then all layers' multipliers jointly (`JointRefinement`): never above the chain's point.
                    if JointRefinement.applies(chain) {
                        let t0 = ContinuousClock.now
                        let refined = try JointRefinement.refine(chain, from: chained.multipliers, context: context)
                        if let r = refined, r.rho < chained.rho {
                            details["rho_layerwise"] = .number(chained.rho)
                            layerwise = chained
                            chained.rho = r.rho
                            chained.multipliers = r.multipliers
                            chained.nullDirection = r.nullDirection
                        }
                        details["joint_seconds"] = .number((ContinuousClock.now - t0).seconds)
                        details["joint_evaluations"] = .number(Double(refined?.evaluations ?? 0))
                    }
                    outcome = chained
                }
            }
        } catch let breakdown as ChainRecursion.Breakdown {
            return result(request, value: nil, certified: false, status: .failed, iterations: iterations,
                          details: ["reason": .string("the chain broke down: \(breakdown.description)")])
        }
        details["chain_seconds"] = .number((ContinuousClock.now - started).seconds)
        details["rho_chain"] = .number(outcome.rho)
        details["stage_values"] = .numbers(outcome.stageValues)
        details["layer_scale_exponents"] = .numbers(outcome.exponents.map(Double.init))
        let certifyStart = ContinuousClock.now
        var certificate = try ChainCertificate.certify(chain, multipliers: outcome.multipliers, rho: outcome.rho,
                                                       nullDirection: outcome.nullDirection, context: context)
        if case .failure(let why) = certificate, let layerwise {
            // The joint point was computed without the chain's per-layer rescaling; on a deep net it
            // can miss by rounding. The layer-by-layer point is certified instead.
            certificate = try ChainCertificate.certify(chain, multipliers: layerwise.multipliers, rho: layerwise.rho,
                                                       nullDirection: layerwise.nullDirection, context: context)
            details["joint"] = .string("the jointly refined point did not certify (\(why.description)); the layer-by-layer point is reported")
        }
        details["certify_seconds"] = .number((ContinuousClock.now - certifyStart).seconds)
        switch certificate {
        case .success(let cert):
            details["rho_certified"] = .number(cert.rho)
            details["certificate_margin"] = .number(cert.margin)
            details["certificate_checks"] = .number(Double(cert.checks))
            details["certificate_screened"] = .number(Double(cert.screened))
            details["certificate"] = .string("the chain's multipliers put into −M of LipSDP-Neuron for the network as given, proven positive definite at ρ' by a block Cholesky with rounding margin")
            let value = RoundingMargin.inflate(cert.rho.squareRoot(), operations: 4)
            return result(request, value: local?.networkBound(value) ?? value, certified: true,
                          iterations: iterations, details: details)
        case .failure(let why):
            details["reason"] = .string("not certified: \(why.description)")
            return result(request, value: (layerwise ?? outcome).rho.squareRoot(), certified: false, iterations: iterations, details: details)
        }
    }

    /// ECLipsE-Fast (Lₖ = ℓI) for one hidden layer wider than `maximumWidth`, on the input side.
    func runWide(_ request: BoundRequest, _ net: FeedforwardNetwork, context: JobContext) throws -> BoundResult {
        let outcome: WideLayerChain.Outcome
        do { outcome = try WideLayerChain.run(net, context: context) } catch let breakdown as ChainRecursion.Breakdown {
            return result(request, value: nil, certified: false, status: .failed, iterations: 1,
                          details: ["reason": .string("the chain broke down: \(breakdown.description)")])
        }
        var details: [String: JSONValue] = [
            "closed_form": .string("eclipse"),
            "chain": .string("one hidden layer wider than \(Self.maximumWidth): worked on the input side (Woodbury), certified on the (n₀ + q)-sized Schur complement"),
            "rho_chain": .number(outcome.rho),
        ]
        if let rho = outcome.certified {
            details["rho_certified"] = .number(rho)
            details["certificate_margin"] = .number(outcome.margin)
            details["certificate"] = .string("ρ' and λ' = ρ'ℓ/2 put into −M of LipSDP-Neuron for the network as given, reduced exactly to [[2λρI − (β−α)²λ²W₁ᵀW₁, (α+β)λ(W_oW₁)ᵀ], [(α+β)λW_oW₁, 2λI − W_oW_oᵀ]] ≻ 0 and proven by a Cholesky with rounding margin")
            return result(request, value: RoundingMargin.inflate(rho.squareRoot(), operations: 4), certified: true,
                          iterations: 1, details: details)
        }
        details["reason"] = .string("not certified: \(outcome.failure ?? "")")
        return result(request, value: outcome.rho.squareRoot(), certified: false, iterations: 1, details: details)
    }
}
