import LipscopeLinearAlgebra

/// max over slope patterns s ∈ {α,β}^hidden of ‖W_L diag(s_{L−1}) ⋯ diag(s₁) W₁‖. The norm is
/// convex in each sᵢ, so this is the maximum over the whole slope box: a valid upper bound and
/// the value every relaxation must stay above.
public struct RelaxedExactBound: BoundMethod {
    public let id = "relaxed-exact"
    public let label = "Relaxed exact"
    public let kind = BoundKind.upper
    public let norms: [Norm] = [.l2, .linf]
    /// 2^22 patterns is the largest enumeration that stays interactive.
    public static let maximumHiddenNeurons = 22
    /// An input region and/or a margin make it a local bound; the limit then counts only the
    /// neurons whose slope the region leaves free (Regions/LocalLayerBounds.swift).
    public var options: [MethodOption] { LocalScope.options }
    public init() {}

    public func applicability(_ request: BoundRequest) -> Applicability {
        guard let net = request.network.layerChain else {
            return .notApplicable(request.network.chainRefusal("slope-pattern enumeration") ?? "")
        }
        var n = net.withLinearOutput.hiddenNeuronCount
        if let parsed = try? parseOptions(request), let scope = try? LocalScope(request, parsed: parsed, network: net), scope.region != nil {
            n = scope.slopes.unstableCount
        }
        if n > Self.maximumHiddenNeurons {
            return .tooLarge("\(n) hidden neurons: 2^\(n) slope patterns (limit \(Self.maximumHiddenNeurons) neurons)")
        }
        return .applicable
    }

    public func run(_ request: BoundRequest, context: JobContext) throws -> BoundResult {
        guard let full = request.network.layerChain else { throw MethodFailure("a chain of layers only") }
        let scope = try LocalScope(request, parsed: try parseOptions(request), network: full)
        if scope.isLocal { return try runLocal(request, scope: scope, context: context) }
        let net = request.output.map { full.restricted(toOutput: $0) } ?? full.withLinearOutput
        let weights = net.layers.map(\.weight.dense)
        let hidden = Array(net.hiddenLayers)
        if hidden.isEmpty {
            let value = try request.norm.induced(weights[0])
            return result(request, value: RoundingMargin.inflate(value, operations: weights[0].rows + weights[0].columns),
                          certified: true, iterations: 1, details: ["patterns": .number(1)])
        }
        let slopeChoices = hidden.map { layer -> (Double, Double) in layer.activation.slopeBounds }
        // Outer loop: every pattern of hidden layers 2..L−1. Inner loop: layer 1 by Gray code,
        // J(s₁) = Left · diag(s₁) · W₁ changes by a rank-one term per flipped neuron.
        let outerWidths = hidden.dropFirst().map(\.outputSize)
        let outerBits = outerWidths.reduce(0, +)
        let innerBits = hidden[0].outputSize
        let (alpha1, beta1) = slopeChoices[0]
        let w1 = weights[0]
        let m = net.outputSize, n0 = net.inputSize
        var best = -Double.infinity
        var bestPattern: [Int] = []
        let totalOuter = 1 << outerBits
        var patterns = 0
        for outer in 0..<totalOuter {
            try context.checkCancelled()
            // Left = W_L diag(s_{L−1}) W_{L−1} ⋯ diag(s₂) W₂ for this outer pattern.
            var left = weights[weights.count - 1]
            var bit = outerBits
            for k in stride(from: hidden.count - 1, through: 1, by: -1) {
                let width = hidden[k].outputSize
                bit -= width
                let (a, b) = slopeChoices[k]
                let s = (0..<width).map { (outer >> (bit + $0)) & 1 == 1 ? b : a }
                left = left.scalingColumns(by: s) * weights[k]
            }
            // Rank-one pieces: term_i = Left[:, i] ⊗ W₁[i, :].
            var j = Matrix(rows: m, columns: n0)
            var s1 = [Double](repeating: alpha1, count: innerBits)
            func recompute() {
                j = left.scalingColumns(by: s1) * w1
            }
            recompute()
            var gray = 0
            for step in 0..<(1 << innerBits) {
                if step > 0 {
                    let flip = step.trailingZeroBitCount
                    gray ^= 1 << flip
                    let isOn = (gray >> flip) & 1 == 1
                    s1[flip] = isOn ? beta1 : alpha1
                    if step & 1023 == 0 {
                        recompute()  // bound the drift of the rank-one updates
                    } else {
                        let delta = isOn ? beta1 - alpha1 : alpha1 - beta1
                        for c in 0..<n0 {
                            let wv = delta * w1[flip, c]
                            if wv == 0 { continue }
                            for r in 0..<m { j.storage[r + c * m] += left[r, flip] * wv }
                        }
                    }
                }
                let value = try request.norm.induced(j)
                if value > best {
                    best = value
                    bestPattern = [outer, gray]
                }
                patterns += 1
                if patterns & 0xFFFF == 0 {
                    try context.checkCancelled()
                    context.emit(.progress(phase: "slope patterns", done: patterns, total: totalOuter << innerBits))
                    context.iteration(patterns, [Metric("best", best)])
                }
            }
        }
        // Each entry of J is a sum of at most N·n products; drift is reset every 1024 updates.
        let operations = 1024 * (hidden.map(\.outputSize).reduce(0, +) + n0 + m + 8)
        let bound = RoundingMargin.inflate(best, operations: operations)
        return result(request, value: bound, certified: true, iterations: patterns,
                      details: ["patterns": .number(Double(patterns)),
                                "max_pattern_value": .number(best),
                                "argmax_outer_pattern": .number(Double(bestPattern.first ?? 0)),
                                "argmax_first_layer_pattern": .number(Double(bestPattern.last ?? 0)),
                                "certificate": .string("exhaustive over slope-box vertices; rounding margin added")])
    }
}
