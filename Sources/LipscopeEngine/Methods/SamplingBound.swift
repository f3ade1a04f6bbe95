import LipscopeLinearAlgebra

/// A lower bound: the largest induced norm of the true Jacobian over seeded random inputs at
/// several scales (some linear regions only show far from the origin), then refined by a
/// random local search around the best points. Every value is attained at a real input.
public struct SamplingBound: BoundMethod {
    public let id = "sampling"
    public let label = "Sampled lower bound"
    public let kind = BoundKind.lower
    public let norms: [Norm] = [.l2, .linf]
    public static let scales: [Double] = [1, 10, 100, 1000]
    public init() {}

    public func applicability(_ request: BoundRequest) -> Applicability { .applicable }

    /// The Jacobian evaluator with the network prepared once.
    struct Evaluator {
        let network: Network
        let denseWeights: [Matrix]
        let costPerSample: Int

        init(_ network: Network) {
            self.network = network
            switch network {
            case .feedforward(let ff):
                denseWeights = ff.layers.map(\.weight.dense)
                let flops = ff.layers.reduce(0) { $0 + $1.weight.rows * $1.weight.columns }
                costPerSample = flops * (1 + ff.outputSize)
            case .implicit(let imp):
                denseWeights = []
                let n = imp.stateSize
                costPerSample = 200 * n * n + n * n * n / 3 + n * imp.inputSize * imp.outputSize
            }
        }

        func jacobian(_ x: [Double]) -> Matrix? {
            switch network {
            case .feedforward(let ff): ff.jacobian(at: x, denseWeights: denseWeights)
            case .implicit(let imp): imp.jacobian(at: x)
            }
        }
    }

    public func run(_ request: BoundRequest, context: JobContext) throws -> BoundResult {
        let network: Network
        switch (request.network, request.output) {
        case (.feedforward(let ff), .some(let j)): network = .feedforward(ff.restricted(toOutput: j))
        case (.implicit(var imp), .some(let j)):
            imp.C = imp.C.selectingRows([j]); imp.D = imp.D.selectingRows([j])
            network = .implicit(imp)
        default: network = request.network
        }
        let evaluator = Evaluator(network)
        let n = network.inputSize
        // Samples per (scale, distribution): deterministic, sized so a run stays well under a second.
        let budget = 4.0e8
        let perGroup = max(100, min(1000, Int(budget / Double(8 * max(evaluator.costPerSample, 1)))))
        var rng = SeededGenerator(seed: request.seed)
        var best = 0.0
        var bestInput = [Double](repeating: 0, count: n)
        var candidates: [(value: Double, x: [Double], scale: Double)] = []
        var evaluated = 0
        var iteration = 0

        func value(at x: [Double]) throws -> Double? {
            evaluated += 1
            guard let j = evaluator.jacobian(x) else { return nil }
            return try request.norm.induced(j)
        }

        for scale in Self.scales {
            for gaussian in [true, false] {
                try context.checkCancelled()
                for _ in 0..<perGroup {
                    let x = (0..<n).map { _ in gaussian ? scale * rng.gaussian() : rng.uniform(-scale, scale) }
                    guard let v = try value(at: x) else { continue }
                    candidates.append((v, x, scale))
                    if v > best { best = v; bestInput = x }
                }
                iteration += 1
                context.emit(.progress(phase: "sampling", done: iteration, total: 2 * Self.scales.count + 1))
                context.iteration(iteration, [Metric("scale", scale), Metric("samples", Double(evaluated)),
                                              Metric("best", best)])
            }
        }

        // Local search: random steps around the best few points, shrinking on failure.
        candidates.sort { $0.value > $1.value }
        let starts = candidates.prefix(5)
        let stepsPerStart = max(50, min(400, perGroup / 2))
        for start in starts {
            try context.checkCancelled()
            var x = start.x
            var current = start.value
            var radius = 0.1 * start.scale
            for _ in 0..<stepsPerStart {
                let trial = x.map { $0 + radius * rng.gaussian() }
                if let v = try value(at: trial), v > current {
                    x = trial; current = v
                    radius *= 1.5
                } else {
                    radius *= 0.9
                }
                if radius < 1e-6 * start.scale { break }
            }
            if current > best { best = current; bestInput = x }
            iteration += 1
            context.iteration(iteration, [Metric("scale", start.scale), Metric("samples", Double(evaluated)),
                                          Metric("best", best)])
        }
        context.emit(.progress(phase: "sampling", done: 2 * Self.scales.count + 1, total: 2 * Self.scales.count + 1))
        return result(request, value: best, certified: false, iterations: evaluated,
                      details: ["witness": .numbers(bestInput), "samples": .number(Double(evaluated)),
                                "note": .string("lower bound: the induced norm of the true Jacobian at the witness input")])
    }
}
