import Foundation
import LipscopeLinearAlgebra

/// ℓ2 bound of an equilibrium network z = ψ(Az + Bu + b), y = Cz + Du with slopes in [0, 1]
/// (Revay, Wang, Manchester 2020, the incremental quadratic constraint behind LBEN): diagonal
/// Λ ≥ 0 and g with [[2Λ − ΛA − AᵀΛ, −ΛB], [−BᵀΛ, gI]] − [C D]ᵀ[C D] ⪰ 0, minimize g, bound √g
/// (the Schur complement of the issue's form with γ = √g). The certificate proves the matrix
/// positive definite, which also gives well-posedness (2Λ − ΛA − AᵀΛ ≻ 0). A feedforward net
/// written this way (A strictly block lower triangular) gives exactly LipSDP-Neuron.
public struct ImplicitSDPBound: BoundMethod {
    public let id = "implicit-sdp"
    /// Plus an input region and/or a margin (Regions/LocalImplicitSDP.swift).
    public var options: [MethodOption] { StandardOptions.sdp + LocalScope.options }
    public let label = "Implicit SDP"
    public let kind = BoundKind.upper
    public let norms: [Norm] = [.l2]
    public static let maximumDimension = 3000

    public init() {}

    public func applicability(_ request: BoundRequest) -> Applicability {
        if case .graph(let g) = request.network {
            // A graph is its equilibrium form (GraphEquilibrium.swift): the state is every hidden
            // neuron; sized here without building the dense matrices.
            guard g.withLinearOutput.nodes.dropLast().allSatisfy({ $0.activation.slopeBounds.alpha >= 0 }) else {
                return .notApplicable("an activation has a negative slope; the implicit LMI needs slopes in [0, 1]")
            }
            let n = g.hiddenNeuronCount
            let dimension = n + min(g.inputSize, n + g.outputSize)
            if dimension > Self.maximumDimension {
                // Beyond the solvers' reach a closed-form point of the same LMI, certified the
                // same way, still gives a bound (GraphClosedForm.swift).
                if let why = GraphClosedForm.refusal(g) {
                    return .tooLarge("LMI of dimension \(dimension) = \(n) hidden neurons (the graph's equilibrium state) + \(dimension - n) input directions (limit \(Self.maximumDimension)); \(why)")
                }
                if LocalScope.options.contains(where: { request.options[$0.key] != nil }) {
                    return .tooLarge("LMI of dimension \(dimension) (limit \(Self.maximumDimension)); the closed-form point is for the global bound")
                }
            }
            return .applicable
        }
        guard let system = request.network.equilibriumSystem else {
            return .notApplicable("an activation has a negative slope; the implicit LMI needs slopes in [0, 1]")
        }
        let dimension = system.stateSize + min(system.B.columns, system.stateSize + system.D.rows)
        if dimension > Self.maximumDimension {
            return .tooLarge("LMI of dimension \(dimension) (limit \(Self.maximumDimension))")
        }
        return .applicable
    }

    public func run(_ request: BoundRequest, context: JobContext) throws -> BoundResult {
        let options = try SDPMethodOptions(self, request)
        if let scope = try EquilibriumScope.ifLocal(request, parsed: try parseOptions(request)) {
            return try runLocal(request, scope: scope, options: options, context: context)
        }
        guard var system = request.network.equilibriumSystem else { throw MethodFailure("no equilibrium form") }
        if let j = request.output { system = system.restricted(toOutput: j) }
        if case .graph(let g) = request.network,
           system.stateSize + min(system.B.columns, system.stateSize + system.D.rows) > Self.maximumDimension {
            return try closedFormBound(g, request, context: context)
        }
        return try bound(system, slopes: nil, request, options: options, details: [:], context: context)
    }

    /// A graph too large for the SDP solvers: the closed-form point of the same LMI
    /// (ECLipsE-Fast's rule carried to the DAG), certified by the same Cholesky check.
    func closedFormBound(_ original: NetworkGraph, _ request: BoundRequest, context: JobContext) throws -> BoundResult {
        if let why = GraphClosedForm.refusal(original) { throw MethodFailure(why) }
        let graph = GraphClosedForm.withSingleOutputNode(original)
        guard var system = EquilibriumSystem(graph) else { throw MethodFailure("no equilibrium form") }
        if let j = request.output { system = system.restricted(toOutput: j) }
        var details: [String: JSONValue] = ["solver": .string("graph-closed-form"),
                                            "lmi_dimension": .number(Double(system.stateSize + system.B.columns))]
        guard let point = try GraphClosedForm.point(system, graph: graph, isCancelled: { context.isCancelled }) else {
            try context.checkCancelled()
            details["reason"] = .string("the closed form's pivots lost positive definiteness")
            return result(request, value: nil, certified: false, status: .failed, details: details)
        }
        context.log("implicit-sdp: closed-form point g = \(point.inputTerm); certifying the \(system.stateSize + system.B.columns)-dimensional LMI")
        details["g_closed_form"] = .number(point.inputTerm)
        details["node_multipliers"] = .numbers(point.nodeMultipliers)
        let lmi = SlopeLMI.equilibrium(system)
        // The point sits on the LMI's boundary (the output block is singular there). Scaling Λ
        // and g by 1 + δ with the output term fixed adds δ(M + CᵀC), strictly positive in
        // that direction: one Cholesky then usually suffices (each costs seconds at this size).
        let interior = 1.002
        let outcome = try LMICertifier.certify(lmi, base: [Double](repeating: interior * point.inputTerm, count: lmi.inputSize),
                                               groupMultipliers: point.stateMultipliers.map { interior * $0 },
                                               checkCancelled: { try context.checkCancelled() })
        switch outcome {
        case .failure(let why):
            details["reason"] = .string("not certified: \(why)")
            return result(request, value: point.inputTerm.squareRoot(), certified: false, details: details)
        case .success(let c):
            let g = c.inputDiagonal.max() ?? point.inputTerm
            details["g_certified"] = .number(g)
            details["well_posed"] = .bool(true)
            details["certificate"] = .string("a feasible point of the implicit LMI from block Schur complements in topological order (one multiplier per node, ECLipsE-Fast's rule), the LMI rebuilt densely and proven positive definite by Cholesky with a rounding margin")
            let value = RoundingMargin.inflate(g.squareRoot(), operations: 4)
            // A feasible point, not the optimum: it may land above the naive product (seen on
            // x + relu(x), √5 against 2). Then the naive bound, certified on its own, is reported.
            let naive = try NaiveBound().run(BoundRequest(network: request.network, norm: .l2, output: request.output), context: context)
            if naive.certified, let n = naive.value, n < value {
                details["closed_form_value"] = .number(value)
                details["note"] = .string("the closed-form point's certified bound \(value) is above the naive product; the naive product (its own certificate) is reported")
                return result(request, value: n, certified: true, details: details)
            }
            details["naive"] = naive.value.map(JSONValue.number) ?? .null
            return result(request, value: value, certified: true, details: details)
        }
    }

    /// The certified LMI bound of one system, with per-state slope intervals (nil: all [0, 1]).
    func bound(_ system: EquilibriumSystem, slopes: [SlopeInterval]?, _ request: BoundRequest, options: SDPMethodOptions,
               details extra: [String: JSONValue], context: JobContext) throws -> BoundResult {
        if system.stateSize == 0 {
            let norm = try LinearAlgebra.spectralNorm(system.D)
            return result(request, value: RoundingMargin.inflate(norm, operations: 2 * (system.D.rows + system.D.columns) + 2),
                          certified: true, details: extra.merging(["certificate": .string("affine map: spectral norm with a rounding margin")]) { a, _ in a })
        }
        // A diagonal power-of-two rescaling of the states keeps every slope interval, so the
        // balanced form takes the same per-state intervals.
        var original = SlopeLMI.equilibrium(system)
        if let slopes { original.slopes = slopes }
        var forms = [original]
        if options.balanceLayers, var balanced = SlopeLMI.balancedEquilibrium(system) {
            if let slopes { balanced.slopes = slopes }
            forms.insert(balanced, at: 0)
        }
        if options.reduceInput { forms = try forms.map { try $0.reducingInput() ?? $0 } }
        let outcome = try SDPDriver.solveAndCertify(solveForms: forms, original: original, input: .uniform,
                                                    chordal: false, options: options, context: context)
        let g = outcome.solverInput.first ?? 0
        var details = outcome.details.merging(extra) { a, _ in a }
        details["g_solver"] = .number(g)
        details["solver_value"] = .number(max(0, g).squareRoot())
        guard let certified = outcome.certifiedInput?.first else {
            details["reason"] = .string("not certified: \(outcome.failure ?? "unknown")")
            return result(request, value: max(0, g).squareRoot(), certified: false, iterations: outcome.iterations, details: details)
        }
        details["g_certified"] = .number(certified)
        details["relative_inflation"] = .number(g > 0 ? certified / g - 1 : 0)
        details["well_posed"] = .bool(true)
        details["certificate"] = .string("the LMI rebuilt with the solver's Λ (clipped ≥ 0) and g' = g + shift, proven positive definite by Cholesky with a rounding margin (this also proves well-posedness)")
        return result(request, value: RoundingMargin.inflate(certified.squareRoot(), operations: 4), certified: true,
                      iterations: outcome.iterations, details: details)
    }
}

/// ℓ∞ → ℓ∞ bound by the direct SDP (GeoLIP-style, Wang et al. 2022, in the equivalent quadratic
/// form of spec E): per output row w, replace ρI by diag(μ), μ ≥ 0, minimize Σμᵢ; then
/// |Δfᵢ| ≤ √(Σμ)‖Δx‖∞, and the ℓ∞ bound is the max over outputs. One multiplier per neuron.
/// Also reports √n₀ · (ℓ2 LipSDP-Neuron bound of the row), the naive conversion, in details.
public struct LipSDPLinfBound: BoundMethod {
    public let id = "lipsdp-linf"
    /// The SDP options and `margin` (a margin is one more scalar output row; regions: not yet).
    public var options: [MethodOption] { StandardOptions.sdp + LocalScope.options.filter { $0.key == "margin" } }
    public let label = "LipSDP ℓ∞ (direct)"
    public let kind = BoundKind.upper
    public let norms: [Norm] = [.linf]
    public static let maximumDimension = 1500

    public init() {}

    public func applicability(_ request: BoundRequest) -> Applicability {
        guard let net = request.network.layerChain else {
            return .notApplicable(request.network.chainRefusal("the direct ℓ∞ SDP") ?? "")
        }
        let linear = net.withLinearOutput
        let dimension = linear.inputSize + linear.hiddenNeuronCount
        if dimension > Self.maximumDimension {
            return .tooLarge("ℓ∞ LMI of dimension \(dimension) (no input reduction for diag(μ); limit \(Self.maximumDimension))")
        }
        return .applicable
    }

    public func run(_ request: BoundRequest, context: JobContext) throws -> BoundResult {
        guard let full = request.network.layerChain else { throw MethodFailure("a chain of layers only") }
        let options = try SDPMethodOptions(self, request)
        let margin = try LocalScope.margin(request, parsed: try parseOptions(request), outputCount: full.outputSize)
        // A margin f_c − f_j is the single output row c − j: its |·| bound is the row's bound.
        let source = margin.map { full.restricted(toMargin: $0.c, minus: $0.j) } ?? full
        let outputs = margin != nil ? [0] : request.output.map { [$0] } ?? Array(0..<full.outputSize)
        var perOutput: [Double] = [], solverPerOutput: [Double] = [], conversions: [Double] = []
        var certified = true
        var reasons: [String] = []
        var iterations = 0
        var lastDetails: [String: JSONValue] = [:]
        let n0 = Double(full.inputSize)
        for (done, j) in outputs.enumerated() {
            try context.checkCancelled()
            let net = source.restricted(toOutput: j)
            if net.hiddenLayers.isEmpty {
                let row = net.layers[0].weight.dense
                let l1 = row.storage.reduce(0) { $0 + abs($1) }
                let v = RoundingMargin.inflate(l1, operations: row.storage.count + 2)
                perOutput.append(v); solverPerOutput.append(l1); conversions.append(v * n0.squareRoot())
                continue
            }
            let original = SlopeLMI.feedforward(net, perNeuron: true)
            var forms = [original]
            if options.balanceLayers {
                forms.insert(SlopeLMI.feedforward(net, perNeuron: true, layerExponents: try SlopeLMI.balancingExponents(net)), at: 0)
            }
            let decision = options.chordalDecision(hiddenWidths: net.hiddenLayers.map(\.outputSize))
            let outcome = try SDPDriver.solveAndCertify(solveForms: forms, original: original, input: .perCoordinate,
                                                        chordal: decision.chordal, options: options, context: context)
            iterations += outcome.iterations
            lastDetails = outcome.details
            decision.record(in: &lastDetails, setting: options.chordal)
            let solverSum = outcome.solverInput.reduce(0) { $0 + max(0, $1) }
            solverPerOutput.append(solverSum.squareRoot())
            if let mu = outcome.certifiedInput {
                let sum = mu.reduce(0, +)
                perOutput.append(RoundingMargin.inflate(sum.squareRoot(), operations: mu.count + 4))
            } else {
                certified = false
                reasons.append("output \(j): \(outcome.failure ?? "?")")
                perOutput.append(solverSum.squareRoot())
            }
            // The naive conversion: √n₀ times the certified ℓ2 bound of the same row.
            var l2Options = options
            l2Options.chordal = options.chordal
            let l2 = try LipSDPChunk.bound(net, perNeuron: true, options: l2Options, context: context)
            conversions.append((l2.certifiedValue ?? .infinity) * n0.squareRoot())
            context.emit(.progress(phase: "outputs", done: done + 1, total: outputs.count))
        }
        var details: [String: JSONValue] = [
            "per_output": .numbers(perOutput),
            "outputs": .numbers(margin == nil ? outputs.map(Double.init) : []),
            "solver_value": .number(solverPerOutput.max() ?? 0),
            "l2_conversion": .number(conversions.max() ?? .infinity),
            "l2_conversion_note": .string("√n₀ · (certified ℓ2 LipSDP-Neuron bound per output row), the naive ℓ2 → ℓ∞ conversion, for comparison"),
        ]
        for key in ["solver", "chordal", "chordal_setting", "chordal_reason", "chordal_predicted_ratio"] {
            if let v = lastDetails[key] { details[key] = v }
        }
        let value = perOutput.max() ?? 0
        if let (c, j) = margin { details["margin"] = .string("f_\(c) − f_\(j)") }
        if certified {
            details["certificate"] = .string("per output: −M rebuilt with the solver's multipliers (clipped ≥ 0) and μ' = μ + shift, proven positive definite by Cholesky with a rounding margin")
        } else {
            details["reason"] = .string("not certified: " + reasons.joined(separator: "; "))
        }
        return result(request, value: value, certified: certified, iterations: iterations, details: details)
    }
}
