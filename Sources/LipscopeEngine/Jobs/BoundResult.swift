import Foundation

/// The norm a Lipschitz constant is measured in (input and output alike).
public enum Norm: String, Codable, Sendable, CaseIterable {
    case l2 = "2"
    case linf = "inf"

    /// Accepts "2", "l2", "inf", "linf" (and "∞").
    public init?(name argument: String) {
        switch argument.lowercased() {
        case "2", "l2": self = .l2
        case "inf", "linf", "∞", "l_inf": self = .linf
        default: return nil
        }
    }

    public var symbol: String { self == .l2 ? "ℓ2" : "ℓ∞" }
}

/// What a value promises about the true Lipschitz constant.
public enum BoundKind: String, Codable, Sendable {
    case upper, lower, exact
}

public enum BoundStatus: String, Codable, Sendable {
    case optimal
    case notContractive = "not_contractive"
    case notApplicable = "not_applicable"
    case tooLarge = "too_large"
    case cancelled
    case failed
    /// Not run: its predicted time exceeds the comparison's time budget (details say both).
    case overBudget = "over_budget"
}

/// A JSON value for the open-ended `details` of a result.
public enum JSONValue: Codable, Sendable, Equatable {
    case number(Double)
    case string(String)
    case bool(Bool)
    case array([JSONValue])
    case object([String: JSONValue])
    case null

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let d = try? c.decode(Double.self) { self = .number(d) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .number(let d): if d.isFinite { try c.encode(d) } else { try c.encodeNil() }
        case .string(let s): try c.encode(s)
        case .bool(let b): try c.encode(b)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        case .null: try c.encodeNil()
        }
    }

    public static func numbers(_ xs: [Double]) -> JSONValue { .array(xs.map { .number($0) }) }
}

/// The outcome of one method run. Field names are the CLI's public `--json` contract.
public struct BoundResult: Codable, Sendable, Equatable {
    public var method: String
    public var norm: Norm
    public var degree: Int?
    public var output: Int?
    public var kind: BoundKind
    /// nil whenever the status is not `optimal` (a failure is a status, never a number).
    public var value: Double?
    /// True only when the engine itself checked a certificate for this upper bound.
    public var certified: Bool
    public var status: BoundStatus
    public var seconds: Double
    public var iterations: Int
    public var details: [String: JSONValue]

    public init(method: String, norm: Norm, degree: Int? = nil, output: Int? = nil, kind: BoundKind,
                value: Double?, certified: Bool, status: BoundStatus, seconds: Double = 0,
                iterations: Int = 0, details: [String: JSONValue] = [:]) {
        self.method = method; self.norm = norm; self.degree = degree; self.output = output
        self.kind = kind; self.value = value; self.certified = certified; self.status = status
        self.seconds = seconds; self.iterations = iterations; self.details = details
    }

    enum CodingKeys: String, CodingKey {
        case method, norm, degree, output, kind, value, certified, status, seconds, iterations, details
    }

    // Encode nil optionals as JSON null so every field is always present.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(method, forKey: .method)
        try c.encode(norm, forKey: .norm)
        try c.encode(degree, forKey: .degree)
        try c.encode(output, forKey: .output)
        try c.encode(kind, forKey: .kind)
        if let value, value.isFinite { try c.encode(value, forKey: .value) } else { try c.encodeNil(forKey: .value) }
        try c.encode(certified, forKey: .certified)
        try c.encode(status, forKey: .status)
        try c.encode(seconds, forKey: .seconds)
        try c.encode(iterations, forKey: .iterations)
        try c.encode(details, forKey: .details)
    }
}
