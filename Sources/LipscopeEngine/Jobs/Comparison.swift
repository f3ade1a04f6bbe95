/// The side-by-side comparison: results of every method on one network, with each bound's
/// ratio to the best lower bound in the same norm.
public struct Comparison: Sendable, Codable {
    public var network: NetworkSummary
    public var results: [BoundResult]
    public var seconds: Double

    public init(network: NetworkSummary, results: [BoundResult], seconds: Double) {
        self.network = network; self.results = results; self.seconds = seconds
    }

    /// The default time budget of a comparison: a method predicted to take longer runs only
    /// when asked for by name.
    public static let defaultBudget = 60.0

    /// Runs every registered method for each norm it supports (at its lowest degree), cheapest
    /// predicted first. A method whose predicted time exceeds `budget` (nil: no budget) is not
    /// run unless its id is in `include`; its row says `over_budget` with the prediction. The
    /// request's options go to the methods that declare them (check them first with
    /// `SharedOptions.check`: an option no method declares is silently unused here).
    public static func run(_ network: Network, norms: [Norm], request make: (Network, Norm) -> BoundRequest,
                           methods: [any BoundMethod] = MethodRegistry.all,
                           budget: Double? = defaultBudget, include: Set<String> = [],
                           token: CancellationToken = CancellationToken(),
                           sink: @escaping @Sendable (JobEvent) -> Void = { _ in }) -> Comparison {
        let clock = ContinuousClock.now
        var results: [BoundResult] = []
        for norm in norms {
            let planned = plan(network, norm: norm, request: make, methods: methods)
            // A region or margin asks a local question: a method that only answers the global one
            // says so instead of putting a global bound in a table of local ones.
            let localKeys = Set(make(network, norm).options.keys).intersection(["center", "lower", "margin"])
            for (method, request, predicted) in planned {
                if let key = localKeys.sorted().first(where: { method.option($0) == nil }) {
                    let what = key == "margin" ? "a margin" : "an input region"
                    results.append(method.result(request, value: nil, certified: false, status: .notApplicable,
                                                 details: ["reason": .string("\(method.id) takes no \(what): its bound is global only")]))
                    continue
                }
                // A method that does not apply says so (too_large says more than over_budget).
                if let budget, let predicted, predicted.seconds > budget, !include.contains(method.id),
                   Job.optionError(method, request) == nil, method.applicability(request) == .applicable {
                    results.append(overBudget(method, request, predicted, budget: budget))
                    continue
                }
                results.append(Job.run(method, request, token: token, sink: sink))
            }
        }
        let elapsed = ContinuousClock.now - clock
        return Comparison(network: NetworkSummary(network), results: results, seconds: elapsed.seconds)
    }

    /// The methods supporting `norm`, each with its request and predicted cost, cheapest first
    /// (methods without a prediction keep their registry order after the predicted ones).
    public static func plan(_ network: Network, norm: Norm, request make: (Network, Norm) -> BoundRequest,
                            methods: [any BoundMethod]) -> [(any BoundMethod, BoundRequest, CostPrediction?)] {
        let planned = methods.filter { $0.norms.contains(norm) }.map { method -> (any BoundMethod, BoundRequest, CostPrediction?) in
            var request = make(network, norm)
            // Options are shared: each method gets the ones it declares.
            request.options = method.declaredOptions(in: request.options)
            if request.degree == nil { request.degree = method.minimumDegree(for: network) }
            return (method, request, method.predictedCost(request))
        }
        let order = planned.indices.sorted { a, b in
            switch (planned[a].2?.seconds, planned[b].2?.seconds) {
            case let (x?, y?): return x == y ? a < b : x < y
            case (.some, nil): return true
            case (nil, .some): return false
            case (nil, nil): return a < b
            }
        }
        return order.map { planned[$0] }
    }

    /// The row of a method the budget kept from running.
    static func overBudget(_ method: any BoundMethod, _ request: BoundRequest, _ predicted: CostPrediction,
                           budget: Double) -> BoundResult {
        let why = "predicted \(Presentation.estimate(predicted.seconds)) (\(predicted.basis)), over the \(Presentation.duration(budget)) budget; ask for it by name (--include \(method.id)) or raise --budget"
        return method.result(request, value: nil, certified: false, status: .overBudget,
                             details: ["reason": .string(why), "predicted_seconds": .number(predicted.seconds),
                                       "predicted_basis": .string(predicted.basis), "budget_seconds": .number(budget)])
    }

    /// The largest lower bound (sampled or exact) in this norm.
    public func bestLower(_ norm: Norm) -> Double? {
        results.filter { $0.norm == norm && ($0.kind == .lower || $0.kind == .exact) }.compactMap(\.value).max()
    }

    public func ratioToBestLower(_ r: BoundResult) -> Double? {
        guard let v = r.value, let lower = bestLower(r.norm), lower > 0 else { return nil }
        return v / lower
    }

    /// The exact constant in this norm, when a method closed its gap on the whole output
    /// vector (`exact` with kind exact; a run stopped at a limit reports an upper bound instead).
    public func exactValue(_ norm: Norm) -> Double? {
        results.first { $0.norm == norm && $0.kind == .exact && $0.status == .optimal && $0.output == nil }?.value
    }

    /// A bound's ratio to the exact constant in its norm (1 for the exact row itself).
    public func ratioToExact(_ r: BoundResult) -> Double? {
        guard let v = r.value, let exact = exactValue(r.norm), exact > 0 else { return nil }
        return v / exact
    }

    enum CodingKeys: String, CodingKey { case network, results, seconds, bestLower = "best_lower", exact }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(network, forKey: .network)
        try c.encode(results, forKey: .results)
        try c.encode(seconds, forKey: .seconds)
        var lower: [String: Double] = [:]
        for norm in Norm.allCases { if let v = bestLower(norm) { lower[norm.rawValue] = v } }
        try c.encode(lower, forKey: .bestLower)
        var exact: [String: Double] = [:]
        for norm in Norm.allCases { if let v = exactValue(norm) { exact[norm.rawValue] = v } }
        try c.encode(exact, forKey: .exact)
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        network = try c.decode(NetworkSummary.self, forKey: .network)
        results = try c.decode([BoundResult].self, forKey: .results)
        seconds = try c.decode(Double.self, forKey: .seconds)
    }
}
