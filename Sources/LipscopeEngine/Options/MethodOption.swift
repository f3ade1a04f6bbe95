/// One option a method declares (a typed attribute in MathOptInterface's sense): its key in
/// `BoundRequest.options`, its kind, its default and its help. The CLI builds its flags' help and
/// validation from these, the workbench its run-pane controls; the engine parses a request's raw
/// options against them once (`ParsedOptions`) and rejects unknown keys and bad values.
/// The engine never names CLI flags: the CLI spells key `max_lp_nonzeros` as `--max-lp-nonzeros`.
public struct MethodOption: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// One of a fixed set of words (the first listed is not necessarily the default).
        case choice([String])
        /// An integer within the bounds (inclusive), either side optional.
        case int(min: Int?, max: Int?)
        /// A real number strictly inside (min, max) when `open`, else within [min, max].
        case double(min: Double?, max: Double?, open: Bool)
        /// on/off (also true/false, yes/no, 1/0).
        case flag
        /// A comma-separated list of words.
        case list
        /// A file path the method writes or reads.
        case path
    }

    public let key: String
    public let kind: Kind
    /// The value used when the request does not set the key, as the user would type it;
    /// nil when the method computes it (e.g. "auto"-like behaviour described in `help`).
    public let defaultValue: String?
    public let help: String

    public init(_ key: String, _ kind: Kind, default defaultValue: String?, help: String) {
        self.key = key; self.kind = kind; self.defaultValue = defaultValue; self.help = help
    }

    /// The words a choice accepts; nil for the other kinds.
    public var choices: [String]? {
        if case .choice(let values) = kind { return values }
        if case .flag = kind { return ["on", "off"] }
        return nil
    }

    /// A short description of what the option expects, for errors and help ("dsdp or csdp").
    public var expected: String {
        switch kind {
        case .choice(let values):
            values.count <= 2 ? values.joined(separator: " or ")
                : values.dropLast().joined(separator: ", ") + " or " + values.last!
        case .int(let lo, let hi):
            switch (lo, hi) {
            case let (l?, h?): "an integer from \(l) to \(h)"
            case let (l?, nil): l == 1 ? "a positive integer" : "an integer ≥ \(l)"
            case let (nil, h?): "an integer ≤ \(h)"
            default: "an integer"
            }
        case .double(let lo, let hi, let open):
            switch (lo.map(Self.shortNumber), hi.map(Self.shortNumber)) {
            case let (l?, h?): open ? "a number in (\(l), \(h))" : "a number in [\(l), \(h)]"
            case let (l?, nil): open ? (l == "0" ? "a positive number" : "a number > \(l)") : "a number ≥ \(l)"
            case let (nil, h?): open ? "a number < \(h)" : "a number ≤ \(h)"
            default: "a number"
            }
        case .flag: "on or off"
        case .list: "a comma-separated list"
        case .path: "a file path"
        }
    }

    /// 1 rather than 1.0 in messages; other values as Swift prints them (shortest round trip).
    static func shortNumber(_ x: Double) -> String {
        x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : String(x)
    }
}

/// An option a request sets that the method does not declare, or a value of the wrong kind.
public struct OptionError: Error, Sendable, Equatable, CustomStringConvertible {
    public let method: String
    public let key: String
    public let expected: String
    public let found: String

    public init(method: String, key: String, expected: String, found: String) {
        self.method = method; self.key = key; self.expected = expected; self.found = found
    }

    public var description: String {
        "\(method): option '\(key)': expected \(expected), found '\(found)'"
    }
}
