import Foundation
import LipscopeSolvers

/// A request's raw options checked against a method's declarations: every key is declared and
/// every value has its declared kind. Typed accessors return the value or the declared default,
/// so a method's settings struct reads each option in one line.
public struct ParsedOptions: Sendable, Equatable {
    public let method: String
    public let declarations: [MethodOption]
    /// The values the request set, by key, as given (validated).
    public let explicit: [String: String]

    /// Validates `raw` against `declarations`; throws the first unknown key or bad value
    /// (keys in sorted order, so the error is deterministic).
    public init(method: String, declarations: [MethodOption], raw: [String: String]) throws {
        self.method = method
        self.declarations = declarations
        for key in raw.keys.sorted() {
            guard let option = declarations.first(where: { $0.key == key }) else {
                let known = declarations.map(\.key)
                throw OptionError(method: method, key: key,
                                  expected: known.isEmpty ? "no options (\(method) takes none)"
                                      : "one of the options " + known.joined(separator: ", "),
                                  found: key)
            }
            try Self.check(raw[key]!, against: option, method: method)
        }
        explicit = raw
    }

    /// Whether the request set `key` itself (e.g. an explicit solver disables the fallback).
    public func isSet(_ key: String) -> Bool { explicit[key] != nil }

    /// The raw text of `key`: the request's, else the declared default.
    public func text(_ key: String) -> String? {
        explicit[key] ?? declaration(key).defaultValue
    }

    public func choice<T: RawRepresentable>(_ key: String, as: T.Type = T.self) -> T? where T.RawValue == String {
        text(key).flatMap { T(rawValue: $0.lowercased()) }
    }

    /// A backend choice (declared with `StandardOptions.solver(for:)`), typed by the problem
    /// kind it must solve: a value that names a backend of another kind gives nil.
    public func backend<Kind>(_ key: String = "solver", solving kind: Kind.Type = Kind.self) -> Backend<Kind>? {
        text(key).flatMap { Backend<Kind>(name: $0) }
    }

    public func int(_ key: String) -> Int? { text(key).flatMap { Int($0) } }
    public func double(_ key: String) -> Double? { text(key).flatMap { Double($0) } }
    public func flag(_ key: String) -> Bool? { text(key).flatMap(Self.flagValue) }
    public func list(_ key: String) -> [String]? {
        text(key).map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } }
    }

    private func declaration(_ key: String) -> MethodOption {
        guard let d = declarations.first(where: { $0.key == key }) else {
            preconditionFailure("\(method) reads option '\(key)' it does not declare")
        }
        return d
    }

    static func flagValue(_ text: String) -> Bool? {
        switch text.lowercased() {
        case "on", "true", "yes", "1": true
        case "off", "false", "no", "0": false
        default: nil
        }
    }

    static func check(_ value: String, against option: MethodOption, method: String) throws {
        let bad = OptionError(method: method, key: option.key, expected: option.expected, found: value)
        switch option.kind {
        case .choice(let values):
            guard values.contains(value.lowercased()) else { throw bad }
        case .int(let lo, let hi):
            guard let v = Int(value), lo.map({ v >= $0 }) ?? true, hi.map({ v <= $0 }) ?? true else { throw bad }
        case .double(let lo, let hi, let open):
            guard let v = Double(value), v.isFinite else { throw bad }
            if let lo, open ? !(v > lo) : !(v >= lo) { throw bad }
            if let hi, open ? !(v < hi) : !(v <= hi) { throw bad }
        case .flag:
            guard flagValue(value) != nil else { throw bad }
        case .list:
            guard !value.trimmingCharacters(in: .whitespaces).isEmpty else { throw bad }
        case .path:
            guard !value.isEmpty else { throw bad }
        }
    }
}

import Foundation
