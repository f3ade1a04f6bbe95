import Foundation

/// Everything a method run needs.
public struct BoundRequest: Sendable {
    public var network: Network
    public var norm: Norm
    /// Relaxation degree for hierarchies (LiPopt); nil means the method's lowest admissible one.
    public var degree: Int?
    /// Restrict to output j (0-based); nil means the whole output vector.
    public var output: Int?
    /// Seed of every random choice, so runs are reproducible.
    public var seed: UInt64
    /// Method-specific options (e.g. "cliques": "sparse", "solver": "dsdp").
    public var options: [String: String]

    public init(network: Network, norm: Norm, degree: Int? = nil, output: Int? = nil, seed: UInt64 = 1,
                options: [String: String] = [:]) {
        self.network = network; self.norm = norm; self.degree = degree; self.output = output
        self.seed = seed; self.options = options
    }
}

/// Why a method does not run on a request.
public enum Applicability: Sendable, Equatable {
    case applicable
    case notApplicable(String)
    case tooLarge(String)
}

/// A Lipschitz bound method. `run` streams events through the context and returns the result;
/// the job runner fills in timing and turns thrown errors into statuses.
public protocol BoundMethod: Sendable {
    /// The CLI name, e.g. "naive", "lipsdp-neuron".
    var id: String { get }
    /// A short human label for tables, e.g. "LipSDP-Neuron".
    var label: String { get }
    var kind: BoundKind { get }
    var norms: [Norm] { get }
    /// The options this method reads from `BoundRequest.options`, with kinds, defaults and help.
    var options: [MethodOption] { get }
    /// Methods with a relaxation degree report their lowest admissible degree.
    func minimumDegree(for network: Network) -> Int?
    func applicability(_ request: BoundRequest) -> Applicability
    /// The predicted wall time of a run (Jobs/CostModel.swift); nil when no model covers it.
    func predictedCost(_ request: BoundRequest) -> CostPrediction?
    func run(_ request: BoundRequest, context: JobContext) throws -> BoundResult
}

extension BoundMethod {
    public func minimumDegree(for network: Network) -> Int? { nil }
    public var options: [MethodOption] { [] }
    public func predictedCost(_ request: BoundRequest) -> CostPrediction? { nil }

    /// The request's options checked against `options` (throws `OptionError`).
    public func parseOptions(_ request: BoundRequest) throws -> ParsedOptions {
        try ParsedOptions(method: id, declarations: options, raw: request.options)
    }

    /// The declaration of `key`, or nil when this method does not read it.
    public func option(_ key: String) -> MethodOption? { options.first { $0.key == key } }

    /// The entries of `raw` this method declares: options given to several methods at once
    /// (compare, the workbench's run settings) apply to the methods that read them.
    public func declaredOptions(in raw: [String: String]) -> [String: String] {
        raw.filter { option($0.key) != nil }
    }

    /// A result carrying this method's identity and the request's norm/degree/output.
    public func result(_ request: BoundRequest, value: Double?, certified: Bool, status: BoundStatus = .optimal,
                       iterations: Int = 0, details: [String: JSONValue] = [:]) -> BoundResult {
        BoundResult(method: id, norm: request.norm, degree: request.degree, output: request.output, kind: kind,
                    value: status == .optimal ? value : nil, certified: status == .optimal && certified,
                    status: status, iterations: iterations, details: details)
    }
}

/// A method failed in a way the user should read (bad option, numerical breakdown).
public struct MethodFailure: Error, CustomStringConvertible {
    public let description: String
    public init(_ message: String) { description = message }
}
