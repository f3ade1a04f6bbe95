import Foundation

/// A jobs file: JSON Lines, one job object per line,
/// `{"network": PATH, "method": M, "norm": "2"|"inf", "degree"?: k, "output"?: j, "seed"?: s, "options"?: {…}}`.
/// Blank lines are skipped (they take no index). Every line is checked before anything runs:
/// JSON syntax, known fields, the method, the norm, integer fields, the options against the
/// method's declarations (`ParsedOptions`) and that the network file exists; all bad lines are
/// reported together.
public struct JobsFile: Sendable {
    public let path: String
    public let jobs: [BatchJob]

    public init(path: String, jobs: [BatchJob]) { self.path = path; self.jobs = jobs }

    /// Reads and validates `path`. Throws `InputError` when the file itself is unusable and
    /// `BatchInputErrors` listing every bad line.
    public static func read(path: String) throws -> JobsFile {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw InputError(file: path, expected: "a jobs file (JSON Lines, one job object per line)",
                             found: isDirectory.boolValue ? "a directory" : "no such file")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw InputError(file: path, expected: "a readable jobs file", found: "permission denied or unreadable")
        }
        return try parse(data, path: path)
    }

    /// Parses jobs-file contents; relative network paths resolve against `path`'s directory.
    public static func parse(_ data: Data, path: String) throws -> JobsFile {
        guard var text = String(data: data, encoding: .utf8), !data.contains(0) else {
            throw InputError(file: path, expected: "a jobs file in UTF-8 text (JSON Lines)", found: "binary data")
        }
        if text.hasPrefix("\u{FEFF}") { text.removeFirst() }  // a byte-order mark from some editors
        let directory = (path as NSString).deletingLastPathComponent
        var jobs: [BatchJob] = []
        var errors: [BatchLineError] = []
        // Split on the scalar: in Swift "\r\n" is one Character, which a Character split would miss.
        for (offset, rawLine) in text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = String(String.UnicodeScalarView(rawLine)).trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty { continue }
            do {
                jobs.append(try parseLine(line, index: jobs.count, line: offset + 1, file: path, directory: directory))
            } catch let error as BatchLineError {
                errors.append(error)
                jobs.append(BatchJob.placeholder(index: jobs.count, line: offset + 1))
            }
        }
        if !errors.isEmpty { throw BatchInputErrors(errors) }
        if jobs.isEmpty { throw InputError(file: path, expected: "at least one job line", found: "no jobs (the file is empty)") }
        return JobsFile(path: path, jobs: jobs)
    }

    static func parseLine(_ line: String, index: Int, line number: Int, file: String, directory: String) throws -> BatchJob {
        func bad(_ field: String?, _ expected: String, _ found: String) -> BatchLineError {
            BatchLineError(file: file, line: number, field: field, expected: expected, found: found)
        }
        let value: JSONValue
        do {
            value = try JSONDecoder().decode(JSONValue.self, from: Data(line.utf8))
        } catch {
            throw bad(nil, "a JSON object (one job per line)", "text that is not JSON: \(JSONText.excerpt(line))")
        }
        guard case .object(let object) = value else {
            throw bad(nil, "a JSON object (one job per line)", JSONText.describe(value))
        }
        for key in object.keys.sorted() where !BatchJob.fields.contains(key) {
            throw bad(key, "only the fields \(BatchJob.fields.joined(separator: ", "))", "an unknown field")
        }

        func string(_ key: String, expected: String) throws -> String {
            guard let v = object[key] else { throw bad(key, expected, "nothing (the field is missing)") }
            guard case .string(let s) = v, !s.isEmpty else { throw bad(key, expected, JSONText.describe(v)) }
            return s
        }
        func integer(_ key: String, minimum: Int, expected: String) throws -> Int? {
            guard let v = object[key], v != .null else { return nil }
            guard case .number(let x) = v, x == x.rounded(), x >= Double(minimum), x < 9.0e15 else {
                throw bad(key, expected, JSONText.describe(v))
            }
            return Int(x)
        }

        let network = try string("network", expected: "a network file path (a string)")
        let methodName = try string("method", expected: "a method name (a string)")
        guard let method = MethodRegistry.method(named: methodName) else {
            throw bad("method", "one of \(MethodRegistry.names.joined(separator: ", "))", "\"\(methodName)\"")
        }
        let norm: Norm
        switch object["norm"] {
        case .string(let s)? where Norm(name: s) != nil: norm = Norm(name: s)!
        case .number(2)?: norm = .l2
        case let v?: throw bad("norm", "\"2\" or \"inf\"", JSONText.describe(v))
        case nil: throw bad("norm", "\"2\" or \"inf\"", "nothing (the field is missing)")
        }
        let degree = try integer("degree", minimum: 1, expected: "a relaxation degree (an integer ≥ 1) or null")
        let output = try integer("output", minimum: 0, expected: "an output index (an integer ≥ 0) or null")
        let seed = try integer("seed", minimum: 0, expected: "a seed (an integer ≥ 0)")

        var options: [String: String] = [:]
        switch object["options"] {
        case nil, .null?: break
        case .object(let given)?:
            for key in given.keys.sorted() {
                switch given[key]! {
                case .string(let s): options[key] = s
                case .number(let x): options[key] = x == x.rounded() && abs(x) < 9.0e15 ? String(Int(x)) : String(x)
                case .bool(let b): options[key] = b ? "on" : "off"
                case let v: throw bad("options.\(key)", "a string, number or boolean", JSONText.describe(v))
                }
            }
        case let v?: throw bad("options", "an object of method options", JSONText.describe(v))
        }
        do {
            _ = try ParsedOptions(method: method.id, declarations: method.options, raw: options)
        } catch let error as OptionError {
            let declared = method.options.contains { $0.key == error.key }
            throw bad("options.\(error.key)", declared ? "\(error.expected) for \(method.id)" : error.expected,
                      declared ? "\"\(error.found)\"" : "an option \(method.id) does not declare")
        }

        let networkPath = network.hasPrefix("/") || directory.isEmpty ? network : (directory as NSString).appendingPathComponent(network)
        var isDirectory: ObjCBool = false
        if !FileManager.default.fileExists(atPath: networkPath, isDirectory: &isDirectory) {
            throw bad("network", "an existing network file", "no such file: \(networkPath)")
        }
        if isDirectory.boolValue { throw bad("network", "a network file", "a directory: \(networkPath)") }

        return BatchJob(index: index, line: number, given: object, network: network, networkPath: networkPath,
                        method: method.id, norm: norm, degree: degree, output: output, seed: UInt64(seed ?? 1),
                        options: options)
    }
}

extension BatchJob {
    /// Stands in for a bad line while the rest of the file is checked (never run).
    static func placeholder(index: Int, line: Int) -> BatchJob {
        BatchJob(index: index, line: line, given: [:], network: "", networkPath: "", method: "", norm: .l2,
                 degree: nil, output: nil, seed: 1, options: [:])
    }
}

/// Short descriptions of JSON values and text for error messages.
enum JSONText {
    static func describe(_ value: JSONValue) -> String {
        switch value {
        case .null: "null"
        case .bool(let b): "\(b)"
        case .number(let x): x == x.rounded() && abs(x) < 1e15 ? "\(Int(x))" : "\(x)"
        case .string(let s): s.isEmpty ? "an empty string" : "\"\(excerpt(s))\""
        case .array: "an array"
        case .object: "an object"
        }
    }

    /// Compact JSON, keys sorted (a job object in a message).
    static func json(_ value: JSONValue) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? describe(value)
    }

    static func excerpt(_ text: String, limit: Int = 60) -> String {
        text.count <= limit ? text : String(text.prefix(limit)) + "…"
    }
}
