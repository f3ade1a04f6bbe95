import Foundation

/// One line of a results file: the `lipscope bound --json` object (same fields, same encoding)
/// plus `"job"` (the job line as given, with its 0-based `index`) and `"batch"`
/// (`{"jobs": total job count, "shard": "I/N"}`, so a merge can name the jobs no file holds).
public struct BatchRecord: Sendable {
    public let result: BoundResult
    /// The job as recorded, without `index`.
    public let job: [String: JSONValue]
    public let index: Int
    /// The batch's job count when the line was written.
    public let jobs: Int?
    public let shard: String?
    /// The whole line as a JSON object (every field, for `--merge --json`).
    public let object: [String: JSONValue]
    /// 1-based line number in its file.
    public let line: Int

    /// The text of a result line (without the newline): keys sorted, as `Display.json`.
    public static func encode(_ result: BoundResult, job: BatchJob, jobs: Int, shard: Shard) -> String {
        let line = Line(result: result, job: job.record, batch: ["jobs": .number(Double(jobs)), "shard": .string(shard.description)])
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        // Encoding a BoundResult cannot fail (every field is a plain value; JSONValue maps
        // non-finite numbers to null).
        return String(decoding: try! encoder.encode(line), as: UTF8.self)
    }

    /// The bound object's own fields, then ours, in one JSON object.
    private struct Line: Encodable {
        let result: BoundResult
        let job: [String: JSONValue]
        let batch: [String: JSONValue]
        enum Keys: String, CodingKey { case job, batch }
        func encode(to encoder: Encoder) throws {
            try result.encode(to: encoder)
            var c = encoder.container(keyedBy: Keys.self)
            try c.encode(job, forKey: .job)
            try c.encode(batch, forKey: .batch)
        }
    }

    /// Parses one complete line; the error names the file, line and what is wrong.
    public static func parse(_ text: Substring, line: Int, file: String) throws(BatchLineError) -> BatchRecord {
        func bad(_ field: String?, _ found: String) -> BatchLineError {
            BatchLineError(file: file, line: line, field: field,
                           expected: field == nil ? "a result line written by lipscope batch" : "a result line with a valid \"\(field!)\"",
                           found: found)
        }
        let data = Data(text.utf8)
        guard let value = try? JSONDecoder().decode(JSONValue.self, from: data) else {
            throw bad(nil, "text that is not JSON: \(JSONText.excerpt(String(text)))")
        }
        guard case .object(let object) = value else { throw bad(nil, JSONText.describe(value)) }
        guard case .object(var job)? = object["job"] else { throw bad("job", object["job"].map(JSONText.describe) ?? "no such field") }
        guard case .number(let x)? = job["index"], x >= 0, x == x.rounded(), x < 9.0e15 else {
            throw bad("job.index", job["index"].map(JSONText.describe) ?? "no such field")
        }
        job["index"] = nil
        let result: BoundResult
        do { result = try JSONDecoder().decode(BoundResult.self, from: data) } catch {
            throw bad(nil, "a line without the bound fields (\(Self.decodingProblem(error)))")
        }
        var jobs: Int?, shard: String?
        if case .object(let batch)? = object["batch"] {
            if case .number(let n)? = batch["jobs"], n >= 1, n == n.rounded(), n < 9.0e15 { jobs = Int(n) }
            if case .string(let s)? = batch["shard"] { shard = s }
        }
        return BatchRecord(result: result, job: job, index: Int(x), jobs: jobs, shard: shard, object: object, line: line)
    }

    static func decodingProblem(_ error: Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, _): "field \"\(key.stringValue)\" missing"
        case DecodingError.typeMismatch(_, let c), DecodingError.valueNotFound(_, let c), DecodingError.dataCorrupted(let c):
            "field \"\(c.codingPath.map(\.stringValue).joined(separator: "."))\": \(c.debugDescription)"
        default: "\(error)"
        }
    }
}

/// The contents of a results file: its complete lines and, after the last newline, the piece
/// of a line a kill cut short (ignored, and cut off before a resume appends).
public struct ResultsContents: Sendable {
    public let records: [BatchRecord]
    /// Bytes up to and including the last newline.
    public let completeLength: Int
    /// Bytes after it (a line cut short by a kill); 0 for a cleanly written file.
    public let truncatedBytes: Int
    /// Whether those bytes are the start of a line lipscope batch writes (every line begins
    /// `{"batch":{`, keys being sorted). Anything else is not cut off: the file may not be a
    /// results file at all (e.g. `--out` naming a network by mistake).
    public let fragmentIsOurs: Bool

    /// How every result line begins (keys sorted: "batch" comes first).
    static let linePrefix = Array(#"{"batch":{"#.utf8)

    /// Parses `data`; every bad complete line is reported (`BatchInputErrors`).
    public static func parse(_ data: Data, file: String) throws(BatchInputErrors) -> ResultsContents {
        let bytes = [UInt8](data)
        let end = (bytes.lastIndex(of: 0x0A)).map { $0 + 1 } ?? 0
        var records: [BatchRecord] = []
        var errors: [BatchLineError] = []
        var start = 0, number = 0
        while start < end {
            let stop = bytes[start..<end].firstIndex(of: 0x0A)!
            number += 1
            let text = String(decoding: bytes[start..<stop], as: UTF8.self)
            start = stop + 1
            if text.trimmingCharacters(in: .whitespaces).isEmpty { continue }
            do { records.append(try BatchRecord.parse(Substring(text), line: number, file: file)) } catch { errors.append(error) }
        }
        if !errors.isEmpty { throw BatchInputErrors(errors) }
        let fragment = bytes[end...]
        let ours = fragment.starts(with: linePrefix) || linePrefix.starts(with: fragment)
        return ResultsContents(records: records, completeLength: end, truncatedBytes: bytes.count - end, fragmentIsOurs: ours)
    }
}
