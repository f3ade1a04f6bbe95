import Foundation

/// One line of a jobs file: a network, a method, a norm and the optional degree, output, seed
/// and method options — everything `lipscope bound` takes — validated, with the object exactly
/// as the user wrote it kept for the results file (so a resume can tell that the jobs file
/// changed under it).
public struct BatchJob: Sendable, Equatable {
    /// 0-based position among the jobs (the non-blank lines) of the jobs file; shards and the
    /// merge order by it. Equal to the line number − 1 when the file has no blank lines.
    public let index: Int
    /// 1-based line number in the jobs file, for messages.
    public let line: Int
    /// The job object as given (its fields, not re-spelled), without `index`.
    public let given: [String: JSONValue]
    /// The network path as given and as opened (relative paths resolved against the jobs file's directory).
    public let network: String
    public let networkPath: String
    public let method: String
    public let norm: Norm
    public let degree: Int?
    public let output: Int?
    public let seed: UInt64
    /// Method options as `BoundRequest.options` takes them (already validated against the
    /// method's declarations).
    public let options: [String: String]

    /// The fields a job line may have.
    public static let fields = ["network", "method", "norm", "degree", "output", "seed", "options"]

    public func request(_ network: Network) -> BoundRequest {
        BoundRequest(network: network, norm: norm, degree: degree, output: output, seed: seed, options: options)
    }

    /// The job as recorded under `"job"` in a result line: the given object plus `index`.
    public var record: [String: JSONValue] {
        var r = given
        r["index"] = .number(Double(index))
        return r
    }

    /// "tiny.json naive ℓ2 k=3 out 1" for progress lines.
    public var summary: String {
        var s = "\(network) \(method) \(norm.symbol)"
        if let degree { s += " degree \(degree)" }
        if let output { s += " output \(output)" }
        if !options.isEmpty { s += " " + options.keys.sorted().map { "\($0)=\(options[$0]!)" }.joined(separator: ",") }
        return s
    }
}

/// A bad job or results line: file, line, field, what was expected and what was found.
public struct BatchLineError: Error, Sendable, Equatable, CustomStringConvertible {
    public let file: String
    public let line: Int
    public let field: String?
    public let expected: String
    public let found: String

    public init(file: String, line: Int, field: String? = nil, expected: String, found: String) {
        self.file = file; self.line = line; self.field = field; self.expected = expected; self.found = found
    }

    public var description: String {
        "\(file):\(line): \(field.map { "field \"\($0)\": " } ?? "")expected \(expected), found \(found)"
    }
}

/// Every bad line found while validating a jobs or results file (reported together, so one
/// edit fixes them all).
public struct BatchInputErrors: Error, Sendable, CustomStringConvertible {
    public let errors: [BatchLineError]
    public init(_ errors: [BatchLineError]) { self.errors = errors }

    /// At most `limit` lines, then a count of the rest.
    public func lines(limit: Int = 20) -> [String] {
        var out = errors.prefix(limit).map(\.description)
        if errors.count > limit { out.append("… and \(errors.count - limit) more bad lines") }
        return out
    }

    public var description: String { lines().joined(separator: "\n") }
}
