import ArgumentParser
import Foundation
import LipscopeEngine

/// Help text built from the methods' option declarations, so `--help` says exactly what the
/// engine accepts: which methods read a flag, its choices and its default.
enum OptionHelp {
    /// The CLI spelling of an option key (`max_lp_nonzeros` → `--max-lp-nonzeros`).
    static func flagName(_ key: String) -> String { "--" + key.replacingOccurrences(of: "_", with: "-") }

    /// The declaration of `key` most methods share (its help describes the common case).
    static func commonDeclaration(_ key: String) -> MethodOption? {
        let declarations = SharedOptions.methods(declaring: key).compactMap { $0.option(key) }
        return declarations.max { a, b in
            declarations.filter { $0 == a }.count < declarations.filter { $0 == b }.count
        }
    }

    /// Help of the dedicated flag for `key`: the common declaration's help, then which methods
    /// read it, its choices and its default(s).
    static func flag(_ key: String, valueName: String? = nil) -> ArgumentHelp {
        let declaring = SharedOptions.methods(declaring: key)
        guard let common = commonDeclaration(key) else {
            return ArgumentHelp("(no method declares '\(key)')", valueName: valueName)
        }
        let sentence = common.help.prefix(1).uppercased() + common.help.dropFirst()
        // The value name lists every word some method accepts (`--solver <ipm|structured|…>`),
        // not only the common declaration's; the facts say which method takes which.
        var words: [String] = []
        for w in declaring.compactMap({ $0.option(key)?.choices }).flatMap({ $0 }) where !words.contains(w) { words.append(w) }
        return ArgumentHelp(sentence + ". " + facts(key, declaring), valueName: valueName ?? (words.isEmpty ? nil : words.joined(separator: "|")))
    }

    /// "Methods: …; choices …; default …" for `key` over the methods that declare it.
    static func facts(_ key: String, _ declaring: [any BoundMethod]) -> String {
        var parts = ["Methods: " + declaring.map(\.id).joined(separator: ", ")]
        let declarations = declaring.compactMap { $0.option(key) }
        if Set(declarations.map(\.expected)).count == 1, let first = declarations.first {
            parts.append("expects \(first.expected)")
        } else {
            parts.append("expects " + zip(declaring, declarations).map { "\($1.expected) (\($0.id))" }.joined(separator: ", "))
        }
        let defaults = zip(declaring, declarations).map { ($0.id, $1.defaultValue) }
        if Set(defaults.map { $0.1 ?? "" }).count == 1 {
            if let d = defaults.first?.1 { parts.append("default \(d)") }
        } else {
            parts.append("default " + defaults.map { "\($0.1 ?? "none") (\($0.0))" }.joined(separator: ", "))
        }
        return parts.joined(separator: "; ") + "."
    }

    /// Parses a choice flag into its engine type; a word the type does not know is a usage
    /// error listing the words the declarations accept.
    static func parser<T>(_ key: String, _ make: @escaping @Sendable (String) -> T?) -> @Sendable (String) throws -> T {
        { text in
            guard let value = make(text.lowercased()) else {
                let words = SharedOptions.methods(declaring: key).compactMap { $0.option(key)?.choices }.flatMap { $0 }
                var unique: [String] = []
                for w in words where !unique.contains(w) { unique.append(w) }
                let expected = MethodOption(key, .choice(unique), default: nil, help: "").expected
                throw ValidationError("\(flagName(key)): expected \(expected), found '\(text)'")
            }
            return value
        }
    }

    /// Help of `--option key=value`: the declared keys that have no flag of their own.
    static func generic() -> ArgumentHelp {
        let others = SharedOptions.keys().filter { !RunOptions.dedicatedKeys.contains($0) }
        return ArgumentHelp("Any option a method declares, as key=value (repeatable; the flags above are the same keys). "
                            + "Options without a flag: \(others.joined(separator: ", ")); `lipscope bound --help` lists every method's options.",
                            valueName: "key=value")
    }

    /// Every method with its norms, kind and declared options: the discussion of `bound --help`.
    /// Consecutive methods with the same declarations are listed together.
    static func methodCatalogue(width: Int = 78) -> String {
        var groups: [[any BoundMethod]] = []
        for method in MethodRegistry.all {
            if let last = groups.last?.last, last.options == method.options, !method.options.isEmpty {
                groups[groups.count - 1].append(method)
            } else {
                groups.append([method])
            }
        }
        var lines = ["Methods and their options (the flag shown, or --option key=value):"]
        for group in groups {
            lines.append("")
            for method in group {
                lines += wrap("\(method.id) — \(method.label): \(method.kind.rawValue) bound, \(method.norms.map(\.symbol).joined(separator: ", "))",
                              indent: 0, hanging: 4, width: width)
            }
            guard let options = group.first?.options, !options.isEmpty else {
                lines.append("    no options")
                continue
            }
            for option in options {
                let flag = RunOptions.dedicatedKeys.contains(option.key) ? flagName(option.key) : "--option \(option.key)=…"
                let value = option.defaultValue.map { "\(option.expected), default \($0)" } ?? option.expected
                lines += wrap("\(option.key): \(value)  [\(flag)]", indent: 4, hanging: 8, width: width)
                lines += wrap(option.help, indent: 8, hanging: 8, width: width)
            }
        }
        return lines.joined(separator: "\n")
    }

    /// Word-wraps `text` to `width` columns: the first line indented by `indent`, the rest by
    /// `hanging` (the help printer would otherwise re-wrap long lines without indentation).
    static func wrap(_ text: String, indent: Int, hanging: Int, width: Int) -> [String] {
        var lines: [String] = []
        var line = String(repeating: " ", count: indent)
        var empty = true
        for word in text.split(separator: " ") {
            if !empty, line.count + 1 + word.count > width {
                lines.append(line)
                line = String(repeating: " ", count: hanging)
                empty = true
            }
            line += (empty ? "" : " ") + word
            empty = false
        }
        if !empty { lines.append(line) }
        return lines
    }
}
