import Foundation

/// The parameters a run was started with: everything needed to repeat it.
public struct RunParameters: Codable, Sendable, Equatable {
    public var method: String
    public var label: String
    public var norm: Norm
    public var degree: Int?
    public var output: Int?
    public var seed: UInt64
    public var options: [String: String]
    /// The name of the network the run is on.
    public var network: String
    /// Part of a degree sweep.
    public var sweep: Bool
    /// Set when the run was copied from another session log (replay).
    public var replayedFrom: String?

    public init(method: String, label: String, norm: Norm, degree: Int? = nil, output: Int? = nil, seed: UInt64 = 1,
                options: [String: String] = [:], network: String, sweep: Bool = false, replayedFrom: String? = nil) {
        self.method = method; self.label = label; self.norm = norm; self.degree = degree; self.output = output
        self.seed = seed; self.options = options; self.network = network; self.sweep = sweep
        self.replayedFrom = replayedFrom
    }

    enum CodingKeys: String, CodingKey {
        case method, label, norm, degree, output, seed, options, network, sweep, replayedFrom = "replayed_from"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        method = try c.decode(String.self, forKey: .method)
        label = try c.decodeIfPresent(String.self, forKey: .label) ?? method
        norm = try c.decode(Norm.self, forKey: .norm)
        degree = try c.decodeIfPresent(Int.self, forKey: .degree)
        output = try c.decodeIfPresent(Int.self, forKey: .output)
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? 1
        options = try c.decodeIfPresent([String: String].self, forKey: .options) ?? [:]
        network = try c.decodeIfPresent(String.self, forKey: .network) ?? ""
        sweep = try c.decodeIfPresent(Bool.self, forKey: .sweep) ?? false
        replayedFrom = try c.decodeIfPresent(String.self, forKey: .replayedFrom)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(method, forKey: .method)
        try c.encode(label, forKey: .label)
        try c.encode(norm, forKey: .norm)
        try c.encode(degree, forKey: .degree)
        try c.encode(output, forKey: .output)
        try c.encode(seed, forKey: .seed)
        try c.encode(options, forKey: .options)
        try c.encode(network, forKey: .network)
        try c.encode(sweep, forKey: .sweep)
        try c.encodeIfPresent(replayedFrom, forKey: .replayedFrom)
    }
}

/// One line of a session log (JSON Lines, one event per line, `"type"` names the event).
public enum SessionEvent: Sendable, Equatable {
    case sessionStart(version: String, time: String)
    case networkLoaded(time: String, path: String, sha256: String?, summary: NetworkSummary)
    case runStarted(time: String, run: Int, parameters: RunParameters)
    case progress(run: Int, phase: String, done: Int, total: Int)
    case log(run: Int, message: String)
    case iteration(run: Int, record: IterationRecord)
    case runFinished(time: String, run: Int, result: BoundResult)
    case note(time: String, text: String)
    /// A training run (`t` in the workbench); its `log` lines use the same run number.
    case trainingStarted(time: String, run: Int, parameters: TrainingParameters)
    case trainingEpoch(run: Int, record: EpochRecord)
    case trainingFinished(time: String, run: Int, summary: TrainingSummary)
    /// A certification run (`v` in the workbench), written once when it ends (also when
    /// cancelled). A new event type: logs written before it existed load unchanged.
    case certifyFinished(time: String, run: Int, record: CertifyRecord)
    case sessionEnd(time: String)

    public var typeName: String {
        switch self {
        case .sessionStart: "session_start"
        case .networkLoaded: "network_loaded"
        case .runStarted: "run_started"
        case .progress: "progress"
        case .log: "log"
        case .iteration: "iteration"
        case .runFinished: "run_finished"
        case .note: "note"
        case .trainingStarted: "training_started"
        case .trainingEpoch: "training_epoch"
        case .trainingFinished: "training_finished"
        case .certifyFinished: "certify_finished"
        case .sessionEnd: "session_end"
        }
    }

    /// The run an event belongs to, if any.
    public var run: Int? {
        switch self {
        case .runStarted(_, let r, _), .progress(let r, _, _, _), .log(let r, _), .iteration(let r, _),
             .runFinished(_, let r, _), .trainingStarted(_, let r, _), .trainingEpoch(let r, _), .trainingFinished(_, let r, _),
             .certifyFinished(_, let r, _): r
        default: nil
        }
    }

    /// ISO 8601 with milliseconds, UTC: the `time` field of events.
    public static func timestamp(_ date: Date = Date()) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.string(from: date)
    }
}

extension SessionEvent: Codable {
    enum CodingKeys: String, CodingKey {
        case type, version, time, path, sha256, summary, run, parameters, phase, done, total, message
        case index, elapsed, metrics, result, text, record
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let type = try c.decode(String.self, forKey: .type)
        func time() throws -> String { try c.decodeIfPresent(String.self, forKey: .time) ?? "" }
        switch type {
        case "session_start":
            self = .sessionStart(version: try c.decode(String.self, forKey: .version), time: try time())
        case "network_loaded":
            self = .networkLoaded(time: try time(), path: try c.decode(String.self, forKey: .path),
                                  sha256: try c.decodeIfPresent(String.self, forKey: .sha256),
                                  summary: try c.decode(NetworkSummary.self, forKey: .summary))
        case "run_started":
            self = .runStarted(time: try time(), run: try c.decode(Int.self, forKey: .run),
                               parameters: try c.decode(RunParameters.self, forKey: .parameters))
        case "progress":
            self = .progress(run: try c.decode(Int.self, forKey: .run), phase: try c.decode(String.self, forKey: .phase),
                             done: try c.decode(Int.self, forKey: .done), total: try c.decode(Int.self, forKey: .total))
        case "log":
            self = .log(run: try c.decode(Int.self, forKey: .run), message: try c.decode(String.self, forKey: .message))
        case "iteration":
            self = .iteration(run: try c.decode(Int.self, forKey: .run),
                              record: IterationRecord(index: try c.decode(Int.self, forKey: .index),
                                                      elapsed: try c.decode(Double.self, forKey: .elapsed),
                                                      metrics: try c.decode([Metric].self, forKey: .metrics)))
        case "run_finished":
            self = .runFinished(time: try time(), run: try c.decode(Int.self, forKey: .run),
                                result: try c.decode(BoundResult.self, forKey: .result))
        case "note":
            self = .note(time: try time(), text: try c.decode(String.self, forKey: .text))
        case "training_started":
            self = .trainingStarted(time: try time(), run: try c.decode(Int.self, forKey: .run),
                                    parameters: try c.decode(TrainingParameters.self, forKey: .parameters))
        case "training_epoch":
            self = .trainingEpoch(run: try c.decode(Int.self, forKey: .run), record: try c.decode(EpochRecord.self, forKey: .record))
        case "training_finished":
            self = .trainingFinished(time: try time(), run: try c.decode(Int.self, forKey: .run),
                                     summary: try c.decode(TrainingSummary.self, forKey: .summary))
        case "certify_finished":
            self = .certifyFinished(time: try time(), run: try c.decode(Int.self, forKey: .run),
                                    record: try c.decode(CertifyRecord.self, forKey: .record))
        case "session_end":
            self = .sessionEnd(time: try time())
        default:
            throw DecodingError.dataCorruptedError(forKey: .type, in: c, debugDescription: "unknown event type '\(type)'")
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(typeName, forKey: .type)
        switch self {
        case .sessionStart(let version, let time):
            try c.encode(version, forKey: .version); try c.encode(time, forKey: .time)
        case .networkLoaded(let time, let path, let sha, let summary):
            try c.encode(time, forKey: .time); try c.encode(path, forKey: .path)
            try c.encode(sha, forKey: .sha256); try c.encode(summary, forKey: .summary)
        case .runStarted(let time, let run, let parameters):
            try c.encode(time, forKey: .time); try c.encode(run, forKey: .run); try c.encode(parameters, forKey: .parameters)
        case .progress(let run, let phase, let done, let total):
            try c.encode(run, forKey: .run); try c.encode(phase, forKey: .phase)
            try c.encode(done, forKey: .done); try c.encode(total, forKey: .total)
        case .log(let run, let message):
            try c.encode(run, forKey: .run); try c.encode(message, forKey: .message)
        case .iteration(let run, let record):
            try c.encode(run, forKey: .run); try c.encode(record.index, forKey: .index)
            try c.encode(record.elapsed, forKey: .elapsed); try c.encode(record.metrics, forKey: .metrics)
        case .runFinished(let time, let run, let result):
            try c.encode(time, forKey: .time); try c.encode(run, forKey: .run); try c.encode(result, forKey: .result)
        case .note(let time, let text):
            try c.encode(time, forKey: .time); try c.encode(text, forKey: .text)
        case .trainingStarted(let time, let run, let parameters):
            try c.encode(time, forKey: .time); try c.encode(run, forKey: .run); try c.encode(parameters, forKey: .parameters)
        case .trainingEpoch(let run, let record):
            try c.encode(run, forKey: .run); try c.encode(record, forKey: .record)
        case .trainingFinished(let time, let run, let summary):
            try c.encode(time, forKey: .time); try c.encode(run, forKey: .run); try c.encode(summary, forKey: .summary)
        case .certifyFinished(let time, let run, let record):
            try c.encode(time, forKey: .time); try c.encode(run, forKey: .run); try c.encode(record, forKey: .record)
        case .sessionEnd(let time):
            try c.encode(time, forKey: .time)
        }
    }

    /// One JSON line (no newline). Non-finite numbers are written as the strings "inf", "-inf", "nan".
    public func jsonLine() -> String {
        let data = (try? SessionEvent.encoder.encode(self)) ?? Data("{\"type\":\"note\",\"text\":\"unencodable event\"}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    public static func decode(line: String) throws -> SessionEvent {
        try decoder.decode(SessionEvent.self, from: Data(line.utf8))
    }

    static var encoder: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        e.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return e
    }

    static var decoder: JSONDecoder {
        let d = JSONDecoder()
        d.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return d
    }
}

extension SessionEvent {
    /// The same event with its `time` field set (events without one are unchanged).
    public func withTime(_ time: String) -> SessionEvent {
        switch self {
        case .sessionStart(let v, _): .sessionStart(version: v, time: time)
        case .networkLoaded(_, let p, let s, let sum): .networkLoaded(time: time, path: p, sha256: s, summary: sum)
        case .runStarted(_, let r, let p): .runStarted(time: time, run: r, parameters: p)
        case .runFinished(_, let r, let res): .runFinished(time: time, run: r, result: res)
        case .note(_, let t): .note(time: time, text: t)
        case .trainingStarted(_, let r, let p): .trainingStarted(time: time, run: r, parameters: p)
        case .trainingFinished(_, let r, let sum): .trainingFinished(time: time, run: r, summary: sum)
        case .certifyFinished(_, let r, let rec): .certifyFinished(time: time, run: r, record: rec)
        case .sessionEnd: .sessionEnd(time: time)
        case .progress, .log, .iteration, .trainingEpoch: self
        }
    }
}
