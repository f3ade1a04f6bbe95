import Foundation
import LipscopeLinearAlgebra

/// LipSDP-Neuron / LipSDP-Layer (Fazlyab, Robey, Hassani, Morari, Pappas 2019), ℓ2:
/// minimize ρ s.t. [A; B]ᵀQ(T)[A; B] + blkdiag(−ρI, 0, …, W_LᵀW_L) ⪯ 0, T = diag(λ) ≥ 0 with one
/// λ per hidden neuron or per hidden layer; bound √ρ. Only these two multiplier structures are
/// offered: the coupled "network" variant is unsound (spec A.5).
/// Options: solver (dsdp | csdp), chordal (on | off | auto: `SDPChordalRule`), split (chunk size,
/// product of chunk bounds, looser), reduce / scale (exact speed-ups, on by default), gap.
public struct LipSDPBound: BoundMethod {
    public enum Variant: String, Sendable { case neuron, layer }

    public let variant: Variant
    public var id: String { "lipsdp-\(variant.rawValue)" }
    public var options: [MethodOption] { StandardOptions.sdp }
    public var label: String { variant == .neuron ? "LipSDP-Neuron" : "LipSDP-Layer" }
    public let kind = BoundKind.upper
    public let norms: [Norm] = [.l2]
    /// Largest SDP block (after input reduction) attempted.
    public static let maximumDimension = 3000
    /// Most SDP variables the chordal split may create (dense m × m Schur complement).
    public static let maximumChordalVariables = 8000

    public init(_ variant: Variant) { self.variant = variant }

    public func applicability(_ request: BoundRequest) -> Applicability {
        guard case .feedforward(let net) = request.network else {
            return .notApplicable("LipSDP is for feedforward networks; use implicit-sdp for implicit ones")
        }
        let linear = net.withLinearOutput
        let dimension = min(linear.inputSize, linear.layers.first?.outputSize ?? 0) + linear.hiddenNeuronCount
        // Bad options are reported by the run (Job.run checks them before applicability).
        guard let settings = try? SDPMethodOptions(self, request) else { return .applicable }
        if dimension > Self.maximumDimension, settings.split == nil {
            return .tooLarge("LMI of dimension \(dimension) (limit \(Self.maximumDimension)); try --split")
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
        guard case .feedforward(let full) = request.network else { throw MethodFailure("feedforward only") }
        let options = try SDPMethodOptions(self, request)
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

    static func bound(_ net: FeedforwardNetwork, perNeuron: Bool, options: SDPMethodOptions,
                      context: JobContext) throws -> Outcome {
        let hidden = net.hiddenLayers.count
        if hidden == 0 {
            // An affine map: its constant is ‖W‖₂.
            let w = net.layers[0].weight.dense
            let norm = try LinearAlgebra.spectralNorm(w)
            let value = RoundingMargin.inflate(norm, operations: 2 * (w.rows + w.columns) + 2)
            return Outcome(certifiedValue: value, solverValue: norm, failure: nil, iterations: 0,
                           details: ["certificate": .string("affine chunk: spectral norm with a rounding margin")])
        }
        let original = SlopeLMI.feedforward(net, perNeuron: perNeuron)
        var forms = [original]
        if options.balanceLayers {
            forms.insert(SlopeLMI.feedforward(net, perNeuron: perNeuron, layerExponents: try SlopeLMI.balancingExponents(net)), at: 0)
        }
        if options.reduceInput { forms = try forms.map { try $0.reducingInput() ?? $0 } }
        let decision = options.chordalDecision(hiddenWidths: net.hiddenLayers.map(\.outputSize))
        let outcome = try SDPDriver.solveAndCertify(solveForms: forms, original: original, input: .uniform,
                                                    chordal: decision.chordal, options: options, context: context)
        let rho = outcome.solverInput.first ?? 0
        var details = outcome.details
        decision.record(in: &details, setting: options.chordal)
        details["rho_solver"] = .number(rho)
        let solverValue = max(0, rho).squareRoot()
        guard let certified = outcome.certifiedInput?.first else {
            return Outcome(certifiedValue: nil, solverValue: solverValue, failure: outcome.failure,
                           iterations: outcome.iterations, details: details)
        }
        details["rho_certified"] = .number(certified)
        details["relative_inflation"] = .number(rho > 0 ? certified / rho - 1 : 0)
        return Outcome(certifiedValue: RoundingMargin.inflate(certified.squareRoot(), operations: 4),
                       solverValue: solverValue, failure: nil, iterations: outcome.iterations, details: details)
    }
}
