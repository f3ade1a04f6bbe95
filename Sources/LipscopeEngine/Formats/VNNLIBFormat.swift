import Foundation

/// A VNN-COMP robustness property: inputs in a box, and the violation "some other class j
/// reaches the label c" (Y_j ≥ Y_c for some j in `others`). The property holds when no point of
/// the box satisfies the violation.
public struct VNNLIBProperty: Sendable, Equatable {
    public let region: InputRegion
    public let label: Int
    public let others: [Int]
    public let outputCount: Int
}

/// Reads the subset of VNN-LIB (SMT-LIB) that robustness properties use:
///   (declare-const X_i Real) / (declare-const Y_j Real)
///   (assert (<= X_i v)) and (assert (>= X_i v)) for every input
///   one output assert: (or (and (>= Y_j Y_c)) …), or a single (>= Y_j Y_c) / (<= Y_c Y_j).
/// Anything else is an "unsupported property" error naming the file and line.
public enum VNNLIBFormat {
    indirect enum SExpr {
        case atom(String, line: Int)
        case list([SExpr], line: Int)

        var line: Int { switch self { case .atom(_, let l), .list(_, let l): l } }
        var atom: String? { if case .atom(let s, _) = self { s } else { nil } }
        var text: String {
            switch self {
            case .atom(let s, _): s
            case .list(let xs, _): "(" + xs.map(\.text).joined(separator: " ") + ")"
            }
        }
    }

    public static func load(path: String) throws -> VNNLIBProperty {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw InputError(file: path, expected: "a readable .vnnlib file", found: "no such file or it cannot be read")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw InputError(file: path, expected: "UTF-8 text", found: "bytes that are not UTF-8")
        }
        return try parse(text, file: path)
    }

    static func tokens(_ text: String, file: String) throws -> [SExpr] {
        var stack: [(items: [SExpr], line: Int)] = [([], 0)]
        var line = 1
        var atom = ""
        var atomLine = 1
        func flush() {
            if !atom.isEmpty { stack[stack.count - 1].items.append(.atom(atom, line: atomLine)); atom = "" }
        }
        var inComment = false
        for ch in text {
            if inComment {
                if ch.isNewline { inComment = false; line += 1 }
                continue
            }
            switch ch {
            case ";": flush(); inComment = true
            case "(": flush(); stack.append(([], line))
            case ")":
                flush()
                guard stack.count > 1 else {
                    throw InputError(file: file, location: "line \(line)", expected: "balanced parentheses", found: "an unmatched ')'")
                }
                let done = stack.removeLast()
                stack[stack.count - 1].items.append(.list(done.items, line: done.line))
            case _ where ch.isNewline: flush(); line += 1  // "\r\n" is one Character
            case _ where ch.isWhitespace: flush()
            default:
                if atom.isEmpty { atomLine = line }
                atom.append(ch)
            }
        }
        flush()
        guard stack.count == 1 else {
            throw InputError(file: file, location: "line \(stack.last!.line)", expected: "balanced parentheses", found: "a '(' that is never closed")
        }
        return stack[0].items
    }

    /// "X_12" → ("X", 12).
    static func variable(_ e: SExpr) -> (kind: Character, index: Int)? {
        guard let s = e.atom, let first = s.first, first == "X" || first == "Y", s.dropFirst().first == "_",
              let i = Int(s.dropFirst(2)), i >= 0 else { return nil }
        return (first, i)
    }

    public static func parse(_ text: String, file: String) throws -> VNNLIBProperty {
        func unsupported(_ e: SExpr, _ why: String) -> InputError {
            var shown = e.text
            if shown.count > 120 { shown = String(shown.prefix(117)) + "..." }
            return InputError(file: file, location: "line \(e.line)",
                              expected: "a robustness property (input box asserts and one output disjunction (or (and (>= Y_j Y_c)) …)); unsupported property: \(why)",
                              found: shown)
        }
        var inputs = 0, outputs = 0
        var declaredX = Set<Int>(), declaredY = Set<Int>()
        var lower: [Int: Double] = [:], upper: [Int: Double] = [:]
        var pairs: [(label: Int, other: Int)] = []
        var outputAssert: SExpr?

        /// A comparison of outputs as (label c, other j) for the violation Y_j ≥ Y_c.
        func outputPair(_ e: SExpr) -> (Int, Int)? {
            guard case .list(let xs, _) = e, xs.count == 3, let op = xs[0].atom,
                  let a = variable(xs[1]), let b = variable(xs[2]), a.kind == "Y", b.kind == "Y" else { return nil }
            switch op {
            case ">=", ">": return (b.index, a.index)  // Y_a ≥ Y_b: a beats b
            case "<=", "<": return (a.index, b.index)  // Y_a ≤ Y_b: b beats a
            default: return nil
            }
        }

        for top in try tokens(text, file: file) {
            guard case .list(let xs, let line) = top, let head = xs.first?.atom else {
                throw unsupported(top, "a top-level form that is not a command")
            }
            switch head {
            case "declare-const":
                guard xs.count == 3, let v = variable(xs[1]), xs[2].atom == "Real" else {
                    throw unsupported(top, "only (declare-const X_i Real) and (declare-const Y_j Real) are read")
                }
                if v.kind == "X" { declaredX.insert(v.index); inputs = max(inputs, v.index + 1) }
                else { declaredY.insert(v.index); outputs = max(outputs, v.index + 1) }
            case "assert":
                guard xs.count == 2 else { throw unsupported(top, "assert takes one formula") }
                let body = xs[1]
                guard case .list(let f, _) = body, let op = f.first?.atom else { throw unsupported(top, "not a formula") }
                if f.count == 3, op == "<=" || op == ">=", let v = variable(f[1]), v.kind == "X" {
                    guard declaredX.contains(v.index) else { throw unsupported(body, "X_\(v.index) is not declared") }
                    guard let value = f[2].atom.flatMap(Double.init), value.isFinite else {
                        throw InputError(file: file, location: "line \(f[2].line)", expected: "a finite number bounding X_\(v.index)", found: f[2].text)
                    }
                    if op == "<=" { upper[v.index] = min(upper[v.index] ?? .infinity, value) }
                    else { lower[v.index] = max(lower[v.index] ?? -.infinity, value) }
                    continue
                }
                if f.count == 3, op == "<=" || op == ">=", let v = variable(f[2]), v.kind == "X",
                   let value = f[1].atom.flatMap(Double.init), value.isFinite {
                    // (<= v X_i) is X_i ≥ v.
                    if op == "<=" { lower[v.index] = max(lower[v.index] ?? -.infinity, value) }
                    else { upper[v.index] = min(upper[v.index] ?? .infinity, value) }
                    continue
                }
                guard outputAssert == nil else {
                    throw unsupported(top, "a second output assert (a conjunction of output constraints; line \(outputAssert!.line) has the first)")
                }
                outputAssert = top
                if let p = outputPair(body) {
                    pairs = [p]
                } else if op == "or" {
                    for term in f.dropFirst() {
                        var t = term
                        if case .list(let g, _) = term, g.first?.atom == "and" {
                            guard g.count == 2 else { throw unsupported(term, "an (and …) of more than one constraint") }
                            t = g[1]
                        }
                        guard let p = outputPair(t) else { throw unsupported(term, "not a comparison of two outputs Y_j ≥ Y_c") }
                        pairs.append(p)
                    }
                } else {
                    throw unsupported(body, "neither an input bound nor an output comparison")
                }
                _ = line
            default:
                throw unsupported(top, "the command '\(head)'")
            }
        }
        guard inputs > 0, declaredX.count == inputs else {
            throw InputError(file: file, expected: "declarations X_0 … X_{n−1}", found: "\(declaredX.count) inputs declared, highest index \(inputs - 1)")
        }
        guard let outputAssert, !pairs.isEmpty else {
            throw InputError(file: file, expected: "an output assert stating the violation", found: "none")
        }
        let labels = Set(pairs.map(\.label))
        guard labels.count == 1, let label = labels.first else {
            throw unsupported(outputAssert, "the comparisons name different classes (\(labels.sorted().map { "Y_\($0)" }.joined(separator: ", "))) as the one to beat")
        }
        for (c, j) in pairs where c >= outputs || j >= outputs || c == j {
            throw unsupported(outputAssert, "Y_\(max(c, j)) is not a declared output or compares an output with itself")
        }
        var lo: [Double] = [], hi: [Double] = []
        for i in 0..<inputs {
            guard let l = lower[i], let u = upper[i] else {
                throw InputError(file: file, expected: "both (>= X_\(i) l) and (<= X_\(i) u)", found: "X_\(i) without a \(lower[i] == nil ? "lower" : "upper") bound")
            }
            lo.append(l); hi.append(u)
        }
        let region: InputRegion
        do { region = try InputRegion(lower: lo, upper: hi) } catch {
            throw InputError(file: file, expected: "an input box with lower ≤ upper", found: error.description)
        }
        var others: [Int] = []
        for p in pairs where !others.contains(p.other) { others.append(p.other) }
        return VNNLIBProperty(region: region, label: label, others: others, outputCount: outputs)
    }
}
