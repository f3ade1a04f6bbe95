/// Options given to several methods at once (`compare`, a batch, the workbench's run settings):
/// each applies to the methods that declare it. A key no method declares is an error, and so is
/// a value one of the declaring methods refuses — the user meant it for those methods.
public enum SharedOptions {
    /// Checks `raw` against `methods` (throws the first `OptionError`, keys in sorted order).
    public static func check(_ raw: [String: String], for methods: [any BoundMethod]) throws {
        if methods.count == 1 {
            _ = try ParsedOptions(method: methods[0].id, declarations: methods[0].options, raw: raw)
            return
        }
        for key in raw.keys.sorted() {
            let declaring = methods.filter { $0.option(key) != nil }
            guard !declaring.isEmpty else {
                let known = Set(methods.flatMap { $0.options.map(\.key) }).sorted()
                throw OptionError(method: "methods", key: key,
                                  expected: known.isEmpty ? "no options (none of the methods takes any)"
                                      : "one of the options " + known.joined(separator: ", "),
                                  found: key)
            }
            for method in declaring {
                _ = try ParsedOptions(method: method.id, declarations: method.options, raw: [key: raw[key]!])
            }
        }
    }

    /// The methods that declare `key`, in registry order.
    public static func methods(declaring key: String, in methods: [any BoundMethod] = MethodRegistry.all) -> [any BoundMethod] {
        methods.filter { $0.option(key) != nil }
    }

    /// Every declared key, each once, in the order methods first declare them.
    public static func keys(in methods: [any BoundMethod] = MethodRegistry.all) -> [String] {
        var seen: [String] = []
        for m in methods { for o in m.options where !seen.contains(o.key) { seen.append(o.key) } }
        return seen
    }
}
