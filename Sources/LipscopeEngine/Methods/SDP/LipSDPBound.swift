import Foundation
import LipscopeLinearAlgebra
import LipscopeSolvers

/// LipSDP-Neuron / LipSDP-Layer (Fazlyab, Robey, Hassani, Morari, Pappas 2019), ℓ2:
/// minimize ρ s.t. [A; B]ᵀQ(T)[A; B] + blkdiag(−ρI, 0, …, W_LᵀW_L) ⪯ 0, T = diag(λ) ≥ 0 with one
/// λ per hidden neuron or per hidden layer; bound √ρ. Only these two multiplier structures are
/// offered: the coupled "network" variant is unsound (spec A.5).
/// Options: solver (structured | dsdp | csdp, and factored for LipSDP-Neuron), chordal (on | off | auto: `SDPChordalRule`), split (chunk size,
/// product of chunk bounds, looser), reduce / scale (exact speed-ups, on by default), gap.
public struct LipSDPBound: BoundMethod {
    public enum Variant: String, Sendable { case neuron, layer }

    public let variant: Variant
    public var id: String { "lipsdp-\(variant.rawValue)" }
    /// Plus an input region and/or a margin (Regions/LocalLipSDP.swift).
    public var options: [MethodOption] { (variant == .neuron ? StandardOptions.lipsdpNeuron : StandardOptions.lipsdpLayer) + LocalScope.options }
    public var label: String { variant == .neuron ? "LipSDP-Neuron" : "LipSDP-Layer" }
    public let kind = BoundKind.upper
    public let norms: [Norm] = [.l2]
    /// Largest SDP block (after input reduction) attempted.
    public static let maximumDimension = 3000
    /// Largest LMI LipSDP-Neuron takes with the factored dual (`FactoredLMISolver`).
    public static let maximumFactoredDimension = 12000
    /// Most SDP variables the chordal split may create (dense m × m Schur complement).
    public static let maximumChordalVariables = 8000

    public init(_ variant: Variant) { self.variant = variant }

    public func applicability(_ request: BoundRequest) -> Applicability {
        guard let net = request.network.layerChain else {
            if case .implicit = request.network { return .notApplicable("LipSDP is for feedforward networks; use implicit-sdp for implicit ones") }
            return .notApplicable(request.network.chainRefusal("LipSDP") ?? "")
        }
        let linear = net.withLinearOutput
        let dimension = CostModel.lipSDPDimension(linear)
        // Bad options are reported by the run (Job.run checks them before applicability).
        guard let settings = try? SDPMethodOptions(self, request) else { return .applicable }
        if dimension > Self.maximumDimension, settings.split == nil {
            // LipSDP-Neuron goes on with the factored dual (no d × d iterates) up to the size its
            // certificate (a dense Cholesky of the LMI as given) and ρ*(λ) stay practical; with
            // momentum its ascent closes the gap on deep narrow nets too (random 2-80×100-2: 6 278
            // steps, 20 s), so it is the default there as on wide nets.
            // LipSDP-Layer likewise with the descent on ρ*(λ) over its layer multipliers.
            let large = variant == .neuron ? SolverBackend.factored : .descent
            let reaches = dimension <= Self.maximumFactoredDimension
                && (!settings.solverExplicit || settings.solver.backend == large)
                && (variant == .neuron || LipSDPChunk.descentApplies(linear))
            if !reaches {
                let limit = Self.maximumFactoredDimension
                let note = dimension > limit ? ""
                    : " for --solver \(settings.solver.name); the \(large.name) solver (the default) goes to \(limit)"
                return .tooLarge("LMI of dimension \(dimension) (limit \(dimension > limit ? limit : Self.maximumDimension)\(note)); try --split")
            }
        }
        if settings.chordal == .on, settings.split == nil {
            let variables = SDPChordalRule.splitVariables(hiddenWidths: linear.hiddenLayers.map(\.outputSize))
            if variables > Self.maximumChordalVariables {
                return .tooLarge("the chordal split needs \(variables) SDP variables (limit \(Self.maximumChordalVariables)): the solvers' dense Schur complement would be \(variables)²; use --chordal off (same value)")
            }
        }
        return .applicable
    }

    public func run(_ request: BoundRequest, context: JobContext) throws -> BoundResult {
        guard let full = request.network.layerChain else { throw MethodFailure("a chain of layers only") }
        let options = try SDPMethodOptions(self, request)
        let scope = try LocalScope(request, parsed: try parseOptions(request), network: full)
        if scope.isLocal { return try runLocal(request, scope: scope, options: options, context: context) }
        let net = request.output.map { full.restricted(toOutput: $0) } ?? full.withLinearOutput
        if let k = options.split, k < net.layers.count {
            return try runSplit(request, net: net, chunkSize: k, options: options, context: context)
        }
        let chunk = try LipSDPChunk.bound(net, perNeuron: variant == .neuron, options: options, context: context)
        var details = chunk.details
        details["solver_value"] = .number(chunk.solverValue)
        if let value = chunk.certifiedValue {
            details["certificate"] = .string("−M rebuilt for the network as given with the solver's multipliers (clipped ≥ 0) and ρ' = ρ + shift, proven positive definite by Cholesky with a rounding margin")
            return result(request, value: value, certified: true, iterations: chunk.iterations, details: details)
        }
        details["reason"] = .string("not certified: \(chunk.failure ?? "unknown")")
        return result(request, value: chunk.solverValue, certified: false, iterations: chunk.iterations, details: details)
    }

    /// Consecutive chunks of `chunkSize` weight matrices, each bounded on its own (its last
    /// matrix as output layer); the bound is the product. The activation at each cut is dropped
    /// and its Lipschitz constant max(|α|, |β|) multiplied in. Looser than the full LMI.
    func runSplit(_ request: BoundRequest, net: FeedforwardNetwork, chunkSize: Int, options: SDPMethodOptions,
                  context: JobContext) throws -> BoundResult {
        var product = 1.0, solverProduct = 1.0
        var certified = true
        var values: [Double] = []
        var reasons: [String] = []
        var iterations = 0
        var start = 0
        var chunkIndex = 0
        while start < net.layers.count {
            try context.checkCancelled()
            let end = min(start + chunkSize, net.layers.count)
            var layers = Array(net.layers[start..<end])
            let cut = layers[layers.count - 1].activation
            let (alpha, beta) = cut.slopeBounds
            let cutFactor = cut == .identity ? 1 : max(abs(alpha), abs(beta))
            layers[layers.count - 1].activation = .identity
            let sub = FeedforwardNetwork(name: "\(net.name)[\(start)..<\(end)]", inputSize: layers[0].inputSize, layers: layers)
            let chunk = try LipSDPChunk.bound(sub, perNeuron: variant == .neuron, options: options, context: context)
            iterations += chunk.iterations
            let value = chunk.certifiedValue ?? chunk.solverValue
            if chunk.certifiedValue == nil { certified = false; reasons.append("chunk \(chunkIndex): \(chunk.failure ?? "?")") }
            values.append(value)
            product *= value * cutFactor
            solverProduct *= chunk.solverValue * cutFactor
            context.emit(.progress(phase: "chunks", done: end, total: net.layers.count))
            start = end
            chunkIndex += 1
        }
        let bound = RoundingMargin.inflate(product, operations: 2 * values.count + 2)
        var details: [String: JSONValue] = [
            "split": .number(Double(chunkSize)),
            "chunk_bounds": .numbers(values),
            "solver_value": .number(solverProduct),
            "note": .string("split into chunks of \(chunkSize) layers: the product of the chunk bounds, looser than the full LMI"),
        ]
        if !certified { details["reason"] = .string("not certified: " + reasons.joined(separator: "; ")) }
        return result(request, value: bound, certified: certified, iterations: iterations, details: details)
    }
}

/// One LipSDP bound of a whole feedforward net (linear output form).
enum LipSDPChunk {
    struct Outcome {
        var certifiedValue: Double?
        var solverValue: Double
        var failure: String?
        var iterations: Int
        var details: [String: JSONValue]
    }

    /// `slopes`: per-neuron intervals replacing the activations' (local runs), with the guard
    /// of that problem.
    static func bound(_ net: FeedforwardNetwork, perNeuron: Bool, options: SDPMethodOptions,
                      context: JobContext, slopes: [SlopeInterval]? = nil, guard given: LipSDPGuard? = nil) throws -> Outcome {
        let hidden = net.hiddenLayers.count
        if hidden == 0 {
            // An affine map: its constant is ‖W‖₂.
            let w = net.layers[0].weight.dense
            let norm = try LinearAlgebra.spectralNorm(w)
            let value = RoundingMargin.inflate(norm, operations: 2 * (w.rows + w.columns) + 2)
            return Outcome(certifiedValue: value, solverValue: norm, failure: nil, iterations: 0,
                           details: ["certificate": .string("affine chunk: spectral norm with a rounding margin")])
        }
        var original = SlopeLMI.feedforward(net, perNeuron: perNeuron)
        if let slopes { original.slopes = slopes }
        var forms: [(SlopeLMI, String)] = [(original, "as given")]
        if options.balanceLayers {
            var balanced = SlopeLMI.feedforward(net, perNeuron: perNeuron, layerExponents: try SlopeLMI.balancingExponents(net))
            if let slopes { balanced.slopes = slopes }
            forms.insert((balanced, "balanced"), at: 0)
        }
        var options = options
        // Past the interior point's size the factored dual takes over (LipSDP-Neuron only); the
        // size is that after the input reduction, n₀ → rank(W₁) ≤ n₁. Below it, LMIs ≥ 512 try the
        // factored dual first and keep its point when it closes the gap (`factoredFirst`), else the
        // interior point runs as usual.
        let dimension = CostModel.lipSDPDimension(net)
        let large = dimension > LipSDPBound.maximumDimension
        // LipSDP-Layer goes the same way with the descent on ρ*(λ) (`descentFirst`).
        var backends: [SDPBackend] = [options.solver]
        let descentFits = !perNeuron && slopes == nil && Self.descentApplies(net)
        if !options.solverExplicit, options.solver.backend == .structured, let first = SDPBackend(perNeuron ? .factored : .descent),
           perNeuron ? large || Self.factoredFirst(net, dimension: dimension) : descentFits && (large || Self.descentFirst(net, dimension: dimension)) {
            backends = large ? [first] : [first, options.solver]
        }
        let plainForms = forms
        let guardBound = try given ?? LipSDPGuard(net, perNeuron: perNeuron, context: context)
        var attempts: [String] = []
        var best: Outcome? = nil
        var iterations = 0
        let userTimeLimit = options.timeLimit
        // A certified point of the method tried first that missed its test (the factored dual's
        // gap, the descent's convergence): reported if nothing after it certifies.
        var looseFirst: Outcome? = nil
        var looseNote = ""
        for (index, backend) in backends.enumerated() where [.structured, .factored, .descent].contains(backend.backend) {
            options.solver = backend
            let factored = backend.backend == .factored
            let descent = backend.backend == .descent
            // Tried first, the factored dual or the descent gets at most `factoredFirstCap`.
            options.timeLimit = userTimeLimit
            if factored || descent, index < backends.count - 1, userTimeLimit == nil {
                options.timeLimit = Self.factoredFirstCap(dimension: dimension)
            }
            // The factored dual only multiplies by the weights: a sparse (conv) first layer is
            // cheaper as it is than as the dense rank(W₁)-wide factor of the input reduction (and its SVD).
            // The descent reads the input only through G = A₀A₀ᵀ, so it never needs the reduction.
            var reduce = options.reduceInput && !descent
            if factored, case .sparse = net.layers[0].weight { reduce = false }
            let solveForm = reduce ? (try plainForms[0].0.reducingInput() ?? plainForms[0].0, plainForms[0].1) : plainForms[0]
            // The factored point is certified block by block on the chain when the net is one
            // (`ChainCertificate`: the LMI's Cholesky without its fill), else by `LMICertifier`.
            let chain = (factored || descent) && slopes == nil && LayerChain.unsupported(net) == nil ? LayerChain(net) : nil
            switch try structuredBound(solveForm, original: original, guardBound: guardBound, chain: chain, options: options, context: context) {
            case .success(var outcome):
                // Tried first, the factored dual must also close the gap to its own lower bound.
                if factored, index < backends.count - 1, let v = outcome.certifiedValue,
                   !Self.closesGap(v, lower: Self.lowerBound(outcome.details)) {
                    looseFirst = outcome
                    looseNote = "the factored dual's certified point, its gap to the LMI's lower bound above \(Self.factoredFirstGap)"
                    attempts.append("factored on formulation \(solveForm.1): certified \(v) but the LMI's lower bound is \(Self.lowerBound(outcome.details).map { "\($0)" } ?? "unknown"), gap above \(Self.factoredFirstGap)")
                    context.log("LipSDP: the factored dual did not close the gap; the interior point goes on")
                    continue
                }
                // Tried first, the descent must have converged (it has no dual bound to show).
                if descent, index < backends.count - 1, case .string(let status)? = outcome.details["solver_status"], status != SolverStatus.optimal.rawValue {
                    looseFirst = outcome
                    looseNote = "the descent's certified point, before it converged"
                    attempts.append("descent on formulation \(solveForm.1): stopped with status \(status)")
                    context.log("LipSDP: the descent did not converge; the interior point goes on")
                    continue
                }
                if descent, net.hiddenLayers.count >= Self.deepLayers {
                    // Past 3 000 on a deep net the descent is the only route, but not a proven optimum.
                    outcome.details["note"] = .string("the descent's point on a net of \(net.hiddenLayers.count) hidden layers: a feasible point of the LMI below ECLipsE-Fast's, not shown to be its optimum (no dual bound; on deep nets the optimum lies where the neuron block is nearly singular, and the descent slows there)")
                }
                outcome.details["chordal"] = .bool(false)
                outcome.details["chordal_setting"] = .string(options.chordal.rawValue)
                outcome.details["chordal_reason"] = .string(factored
                    ? "the factored dual works on the whole LMI through products with the weights"
                    : descent ? "the descent factors the whole neuron block (banded along the chain when narrow)"
                    : "the structured solver works on the whole block-tridiagonal LMI (its Newton matrix already exploits the chain)")
                if !attempts.isEmpty { outcome.details["earlier_formulations"] = .array(attempts.map { .string($0) }) }
                return outcome
            case .failure(let why):
                attempts.append(why.description)
                context.log("LipSDP: \(why.description)")
            }
        }
        if [.structured, .factored, .descent].contains(options.solver.backend) {
            // The general solvers as the fallback, unless the backend was asked for by name or the
            // LMI is past their size.
            if let dsdp = SDPBackend(.dsdp), !options.solverExplicit, !large { options.solver = dsdp } else { forms = [] }
        }
        if options.reduceInput { forms = try forms.map { (try $0.0.reducingInput() ?? $0.0, $0.1) } }
        let decision = options.chordalDecision(hiddenWidths: net.hiddenLayers.map(\.outputSize))
        for (index, (form, label)) in forms.enumerated() {
            let solved: SDPSolveOutcome
            do {
                solved = try SDPDriver.solveAndCertify(solveForms: [form], original: original, input: .uniform,
                                                       chordal: decision.chordal, options: options, context: context)
            } catch let failure as MethodFailure {
                attempts.append("formulation \(index + 1) (\(label)): \(failure.description)")
                continue
            }
            iterations += solved.iterations
            var outcome = try outcome(solved, original: original, guardBound: guardBound, context: context)
            outcome.iterations = iterations
            decision.record(in: &outcome.details, setting: options.chordal)
            outcome.details["formulation"] = .string(label)
            if let v = outcome.certifiedValue, v <= guardBound.value * (1 + 1e-9) {
                if !attempts.isEmpty { outcome.details["earlier_formulations"] = .array(attempts.map { .string($0) }) }
                outcome.details["guard_value"] = .number(guardBound.value)
                outcome.details["guard_source"] = .string(guardBound.source)
                return outcome
            }
            attempts.append("formulation \(index + 1) (\(label)): " + (outcome.certifiedValue.map { "certified \($0), above the \(guardBound.source) bound \(guardBound.value)" }
                ?? "solver value \(outcome.solverValue), not certified: \(outcome.failure ?? "?")"))
            if best == nil || (best!.certifiedValue == nil && outcome.certifiedValue != nil) { best = outcome }
            context.log("LipSDP: formulation \(label) rejected, trying the next")
        }
        if var kept = looseFirst {
            kept.details["earlier_formulations"] = .array(attempts.map { .string($0) })
            kept.details["note"] = .string(looseNote + ": the solvers tried after it gave nothing certified")
            kept.iterations += iterations
            return kept
        }
        // LipSDP-Layer on a deep net whose interior points failed: the descent's point, below
        // the guard (it starts there) though not shown to be the LMI's optimum.
        if descentFits, !options.solverExplicit, !backends.contains(where: { $0.backend == .descent }), let descent = SDPBackend(.descent) {
            options.solver = descent
            options.timeLimit = userTimeLimit
            let chain = LayerChain.unsupported(net) == nil ? LayerChain(net) : nil
            switch try structuredBound(plainForms[0], original: original, guardBound: guardBound, chain: chain, options: options, context: context) {
            case .success(var outcome):
                outcome.details["earlier_formulations"] = .array(attempts.map { .string($0) })
                outcome.details["note"] = .string("the interior points gave nothing certified below the \(guardBound.source) bound; this is the descent's point, a feasible point of the LMI below that bound but not shown to be its optimum (the descent has no dual bound; on deep nets the optimum lies where the neuron block is nearly singular, and the descent slows there)")
                outcome.iterations += iterations
                return outcome
            case .failure(let why):
                attempts.append(why.description)
            }
        }
        // No solve gave a certified value at or below the guard: report the guard's own certified
        // value (the naive product or ECLipsE-Fast's point), saying why.
        var details = best?.details ?? [:]
        details["earlier_formulations"] = .array(attempts.map { .string($0) })
        details["guard_source"] = .string(guardBound.source)
        details["note"] = .string("every SDP solve ended uncertified or above the \(guardBound.source) bound; that bound is reported instead")
        return Outcome(certifiedValue: guardBound.value, solverValue: best?.solverValue ?? guardBound.value, failure: nil,
                       iterations: iterations, details: details)
    }

    /// Below the interior point's limit the factored dual goes first on LMIs of at least 512: the
    /// VNN-COMP MLPs (ERAN 9×200 in 0.6 s instead of 27 s) and, since its recovered multipliers are
    /// pulled back to the feasible set, deep narrow nets too (random 2-80×10-2 in 0.85 s instead
    /// of 12.4 s, 2-80×20-2 in 13.4 s instead of 82.9 s, same values within 4·10⁻⁶) — and on
    /// smaller LMIs of nets at least 16 hidden layers deep, where the interior point's steps shrink
    /// along the chain (testnets-deep, release: deep_8x30 0.11 s against 1.43 s, deep_6x60 0.30 s
    /// against 10.2 s, both within 2·10⁻⁶ of the csdp references). Small shallow LMIs go straight
    /// to the interior point, which closes them in milliseconds.
    static func factoredFirst(_ net: FeedforwardNetwork, dimension: Int) -> Bool {
        !net.hiddenLayers.isEmpty && (dimension >= 512 || net.hiddenLayers.count >= 16)
    }

    /// LipSDP-Layer's descent goes first on LMIs of at least 512 with fewer than 16 hidden layers:
    /// there it meets the interior point's optimum (release: mnist-net_256x2 404.63679 in 0.30 s
    /// against 1.98 s, 256x4 31 241.786 in 0.35 s against 7.36 s, ERAN 9×200 330 363.81 in 0.87 s
    /// against 293 s, 5·10⁻⁷ above, with one restart). On deeper nets the optimum lies where the neuron block is
    /// nearly singular, ρ*'s gradient grows by orders of magnitude there and the descent needs
    /// restarts to get close (deep_8x30: 6 556 where csdp certifies 6 092), so there it is the last
    /// resort only.
    static func descentFirst(_ net: FeedforwardNetwork, dimension: Int) -> Bool {
        dimension >= 512 && net.hiddenLayers.count < deepLayers
    }

    /// Hidden layers from which the descent is not trusted to reach the optimum.
    static let deepLayers = 16

    /// Whether LipSDP-Layer's descent (`RhoDescent`) applies: ρ must be alone in the input block,
    /// so the first layer's slope interval has α·β = 0 (ReLU, tanh, sigmoid; not leaky ReLU).
    static func descentApplies(_ net: FeedforwardNetwork) -> Bool {
        guard net.layers.count >= 2 else { return false }
        let (alpha, beta) = net.layers[0].activation.slopeBounds
        return alpha * beta == 0
    }

    /// The factored dual's time cap when it goes first: half the interior point's predicted time,
    /// at least 5 s — where its ascent crawls the fallback costs ≤ 1.5× the interior point alone.
    static func factoredFirstCap(dimension: Int) -> Double {
        let n = Double(dimension)
        return max(5, 0.5 * CostModel.structuredCubic * n * n * n)
    }

    /// Relative gap between the certified value and the LMI's lower bound (√ of the dual's) that
    /// the factored dual must reach when the interior point could still run instead.
    static let factoredFirstGap = 1e-4

    static func lowerBound(_ details: [String: JSONValue]) -> Double? {
        if case .number(let l)? = details["lmi_lower_bound"] { return l }
        return nil
    }

    static func closesGap(_ value: Double, lower: Double?) -> Bool {
        guard let lower, lower > 0 else { return false }
        return value / lower - 1 <= factoredFirstGap
    }

    /// The structured backend's solve from ECLipsE-Fast's strictly feasible point, certified and
    /// checked against the guard; the failure says why it gave nothing usable.
    static func structuredBound(_ form: (SlopeLMI, String), original: SlopeLMI, guardBound: LipSDPGuard, chain: LayerChain? = nil,
                                options: SDPMethodOptions, context: JobContext) throws -> Result<Outcome, CertificationFailure> {
        let needsStart = options.solver.backend == .structured || options.solver.backend == .descent
        guard let point = guardBound.point ?? (needsStart ? nil : []), !needsStart || (point.count == original.groupCount && guardBound.pointRho > 0) else {
            return .failure(CertificationFailure(description: "structured: no strictly feasible start (ECLipsE-Fast does not apply to this net or did not certify)"))
        }
        let solved: SDPSolveOutcome
        do {
            solved = try StructuredLMISolve.solveAndCertify(solveForm: form.0, original: original, startRho: guardBound.pointRho,
                                                            startMultipliers: point, chain: chain, options: options, context: context)
        } catch let stop as SDPDriver.SolverStop {
            return .failure(CertificationFailure(description: "\(options.solver.name) on formulation \(form.1): \(stop.description)"))
        }
        var outcome = try outcome(solved, original: original, guardBound: guardBound, context: context)
        outcome.details["formulation"] = .string(form.1)
        guard let v = outcome.certifiedValue, v <= guardBound.value * (1 + 1e-9) else {
            return .failure(CertificationFailure(description: "\(options.solver.name) on formulation \(form.1): " + (outcome.certifiedValue.map { "certified \($0), above the \(guardBound.source) bound \(guardBound.value)" }
                ?? "solver value \(outcome.solverValue), not certified: \(outcome.failure ?? "?")")))
        }
        outcome.details["guard_value"] = .number(guardBound.value)
        outcome.details["guard_source"] = .string(guardBound.source)
        return .success(outcome)
    }

    /// The certificate of one solve; when the solver's point sits on the boundary (deep nets: a
    /// larger ρ alone cannot reach the hidden blocks), it is mixed with the guard's strictly
    /// feasible ECLipsE point, (1−θ)·solver + θ·ECLipsE for θ = 1e-12, 1e-10, …, 1e-4: −M is affine
    /// in (ρ, λ), so the mix is inside whenever θ outweighs the solver's violation.
    static func outcome(_ solved: SDPSolveOutcome, original: SlopeLMI, guardBound: LipSDPGuard,
                        context: JobContext) throws -> Outcome {
        let rho = solved.solverInput.first ?? 0
        var details = solved.details
        details["rho_solver"] = .number(rho)
        let solverValue = max(0, rho).squareRoot()
        var certified = solved.certifiedInput?.first
        var failure = solved.failure
        if certified == nil, let point = guardBound.point, point.count == original.groupCount, !solved.multipliers.isEmpty {
            for theta in [1e-12, 1e-10, 1e-8, 1e-6, 1e-4] {
                try context.checkCancelled()
                let mixedRho = (1 - theta) * rho + theta * guardBound.pointRho
                let mixed = zip(solved.multipliers, point).map { (1 - theta) * $0 + theta * $1 }
                if case .success(let cert) = try LMICertifier.certify(original, base: Array(repeating: mixedRho, count: original.inputSize),
                                                                       groupMultipliers: mixed, checkCancelled: { try context.checkCancelled() }) {
                    certified = cert.inputDiagonal.first
                    details["certificate_mix"] = .number(theta)
                    details["certificate_shift"] = .number(cert.shift)
                    failure = nil
                    break
                }
            }
        }
        guard let certified else {
            return Outcome(certifiedValue: nil, solverValue: solverValue, failure: failure, iterations: solved.iterations, details: details)
        }
        details["rho_certified"] = .number(certified)
        details["relative_inflation"] = .number(rho > 0 ? certified / rho - 1 : 0)
        return Outcome(certifiedValue: RoundingMargin.inflate(certified.squareRoot(), operations: 4),
                       solverValue: solverValue, failure: nil, iterations: solved.iterations, details: details)
    }
}

/// What a LipSDP solve must not exceed: the naive product ∏‖Wₖ‖₂ (certified with a rounding
/// margin) and, for nets the ECLipsE chain handles, ECLipsE-Fast's certified point — a feasible
/// point of the same LMI (per-layer multipliers ℓI for LipSDP-Layer, the best closed-form member
/// for LipSDP-Neuron), so the LMI's optimum lies below it. A solve above it is inaccurate.
struct LipSDPGuard {
    var value: Double
    var source: String
    /// ECLipsE's multipliers per group of the LMI as given, and its ρ (strictly feasible).
    var point: [Double]?
    var pointRho: Double = 0

    init(_ net: FeedforwardNetwork, perNeuron: Bool, context: JobContext) throws {
        var product = 1.0
        var operations = 0
        for layer in net.layers {
            // Conv and other sparse layers by their banded proofs, as `naive` does: dense SVDs of
            // cifar deep_kw's 2048-wide conv layers took seconds each and could not be cancelled.
            try context.checkCancelled()
            let (a, b) = layer.activation.slopeBounds
            product *= try NaiveBound.spectralNormUpper(layer, checkCancelled: context.checkCancelled).0 * max(abs(a), abs(b))
            operations += 2 * (layer.weight.rows + layer.weight.columns) + 2
        }
        value = RoundingMargin.inflate(product, operations: operations)
        source = "naive product"
        if let eclipse = try ECLipsEPoint.fast(net, family: perNeuron ? .best : .eclipse, context: context) {
            point = perNeuron ? eclipse.multipliers.flatMap { $0 } : eclipse.multipliers.map { $0.max() ?? 0 }
            pointRho = eclipse.rho
            if eclipse.value < value { value = eclipse.value; source = "ECLipsE-Fast" }
        }
    }
}
