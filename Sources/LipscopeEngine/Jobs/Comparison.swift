/// The side-by-side comparison: results of every method on one network, with each bound's
/// ratio to the best lower bound in the same norm.
public struct Comparison: Sendable, Codable {
    public var network: NetworkSummary
    public var results: [BoundResult]
    public var seconds: Double

    public init(network: NetworkSummary, results: [BoundResult], seconds: Double) {
        self.network = network; self.results = results; self.seconds = seconds
    }

    /// Runs every registered method for each norm it supports (at its lowest degree). The
    /// request's options go to the methods that declare them (check them first with
    /// `SharedOptions.check`: an option no method declares is silently unused here).
    public static func run(_ network: Network, norms: [Norm], request make: (Network, Norm) -> BoundRequest,
                           methods: [any BoundMethod] = MethodRegistry.all,
                           token: CancellationToken = CancellationToken(),
                           sink: @escaping @Sendable (JobEvent) -> Void = { _ in }) -> Comparison {
        let clock = ContinuousClock.now
        var results: [BoundResult] = []
        for norm in norms {
            for method in methods where method.norms.contains(norm) {
                var request = make(network, norm)
                // Options are shared: each method gets the ones it declares.
                request.options = method.declaredOptions(in: request.options)
                if request.degree == nil { request.degree = method.minimumDegree(for: network) }
                results.append(Job.run(method, request, token: token, sink: sink))
            }
        }
        let elapsed = ContinuousClock.now - clock
        return Comparison(network: NetworkSummary(network), results: results, seconds: elapsed.seconds)
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
