import LipscopeLinearAlgebra

/// ∏ₖ βₖ ‖Wₖ‖: each layer's induced norm times its activation's Lipschitz constant.
public struct NaiveBound: BoundMethod {
    public let id = "naive"
    public let label = "Naive product"
    public let kind = BoundKind.upper
    public let norms: [Norm] = [.l2, .linf]
    /// An input region and/or a margin make it a local bound (Regions/LocalLayerBounds.swift).
    public var options: [MethodOption] { LocalScope.options }
    public init() {}

    public func applicability(_ request: BoundRequest) -> Applicability {
        if case .implicit = request.network {
            return .notApplicable("an implicit network has no layer product; use contraction or implicit-sdp")
        }
        return .applicable
    }

    /// ‖W‖₂ of one layer, an upper bound up to the dense SVD's rounding (which the callers'
    /// margins cover), and how a structured layer got it. A convolution's norm from its banded
    /// Gram matrix (ConvolutionNorm.swift): certified by a Cholesky check, exact to ~1e-12,
    /// without the dense SVD; any other sparse layer by `SparseSpectralNorm`.
    static func spectralNormUpper(_ layer: Layer, checkCancelled: () throws -> Void) throws -> (Double, String?) {
        if let conv = layer.annotations.convolution,
           let bound = try ConvolutionNorm.spectralNorm(conv, checkCancelled: checkCancelled) {
            return (bound.upper, "convolution, banded Cholesky on the \(bound.side) Gram (n \(bound.size), band \(bound.bandwidth), \(bound.checks) checks)")
        }
        if case .sparse(let w) = layer.weight {
            let sparse = try SparseSpectralNorm.upperBound(w, checkCancelled: checkCancelled)
            return (sparse.upper, "sparse, \(sparse.how)")
        }
        return (try LinearAlgebra.spectralNorm(layer.weight.dense), nil)
    }

    public func run(_ request: BoundRequest, context: JobContext) throws -> BoundResult {
        if case .graph(let graph) = request.network { return try runGraph(graph, request, context: context) }
        guard case .feedforward(let full) = request.network else { throw MethodFailure("feedforward only") }
        let scope = try LocalScope(request, parsed: try parseOptions(request), network: full)
        if scope.isLocal { return try runLocal(request, scope: scope, context: context) }
        let net = request.output.map { full.restricted(toOutput: $0) } ?? full.withLinearOutput
        var product = 1.0
        var layerNorms: [Double] = []
        var operations = 0
        var structured: [String] = []
        for (k, layer) in net.layers.enumerated() {
            try context.checkCancelled()
            let norm: Double
            switch request.norm {
            case .l2:
                let (upper, how) = try Self.spectralNormUpper(layer, checkCancelled: context.checkCancelled)
                norm = upper
                if let how { structured.append("layer \(k + 1): \(how)") }
            case .linf: norm = layer.weight.infinityNorm
            }
            let (alpha, beta) = layer.activation.slopeBounds
            let lipschitz = max(abs(alpha), abs(beta))
            layerNorms.append(norm)
            product *= lipschitz * norm
            operations += 2 * (layer.weight.rows + layer.weight.columns) + 2
            context.emit(.progress(phase: "layer norms", done: k + 1, total: net.layers.count))
        }
        let bound = RoundingMargin.inflate(product, operations: operations)
        var details: [String: JSONValue] = ["layer_norms": .numbers(layerNorms),
                                              "certificate": .string("closed form; inflated by a floating-point rounding margin")]
        if !structured.isEmpty { details["structured_layers"] = .array(structured.map { .string($0) }) }
        return result(request, value: bound, certified: true, iterations: net.layers.count, details: details)
    }
}
