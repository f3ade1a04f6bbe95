import Foundation
import Synchronization

/// Which iterations of a run go into the log: all of the first 128, then 16 per doubling
/// (so a million iterations write about 340 lines). A skipped iteration is held back and
/// written before the run's `run_finished`, so the last one is always kept.
public struct IterationThinning: Sendable {
    public static let keepAll = 128
    public static let perOctave = 16

    public static func keeps(_ count: Int) -> Bool {
        if count <= keepAll { return true }
        let octave = Int.bitWidth - 1 - count.leadingZeroBitCount
        let stride = max(1, (1 << octave) / perOctave)
        return count % stride == 0
    }
}

/// Appends session events to a JSON Lines file: one `write(2)` per line straight to the
/// kernel (no user-space buffer), so a crash or kill loses nothing already written.
/// Opened with O_APPEND; never truncates an existing file.
public final class SessionLogWriter: Sendable {
    public let path: String

    private struct RunState {
        var seen = 0
        var held: IterationRecord?
        var phase: String?
        var progressDecile = -1
    }

    private struct State {
        var fd: Int32
        var runs: [Int: RunState] = [:]
        var lines = 0
        var failure: String?
    }

    private let state: Mutex<State>

    /// Opens (creating directories and the file as needed) for appending.
    public init(path: String) throws {
        let dir = URL(fileURLWithPath: path).deletingLastPathComponent().path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw InputError(file: path, expected: "a writable session log", found: String(cString: strerror(errno)))
        }
        self.path = path
        state = Mutex(State(fd: fd))
    }

    deinit { close() }

    /// Lines written so far by this writer.
    public var linesWritten: Int { state.withLock { $0.lines } }

    /// The first write error, if any (the log keeps what was written before it).
    public var failure: String? { state.withLock { $0.failure } }

    /// Appends one event, thinning iterations and progress of long runs (see `IterationThinning`).
    /// Returns false when the event was thinned out or could not be written.
    @discardableResult
    public func append(_ event: SessionEvent) -> Bool {
        state.withLock { s in
            guard s.fd >= 0 else { return false }
            switch event {
            case .runStarted(_, let run, _):
                s.runs[run] = RunState()
            case .iteration(let run, let record):
                var r = s.runs[run] ?? RunState()
                r.seen += 1
                let keep = IterationThinning.keeps(r.seen)
                r.held = keep ? nil : record
                s.runs[run] = r
                if !keep { return false }
            case .progress(let run, let phase, let done, let total):
                var r = s.runs[run] ?? RunState()
                let decile = total > 0 ? min(10, max(0, done * 10 / total)) : 0
                let keep = r.phase != phase || decile > r.progressDecile || done >= total
                r.phase = phase; r.progressDecile = decile
                s.runs[run] = r
                if !keep { return false }
            case .runFinished(_, let run, _):
                if let held = s.runs[run]?.held {
                    _ = Self.write(SessionEvent.iteration(run: run, record: held), to: &s)
                }
                s.runs[run] = nil
            default:
                break
            }
            return Self.write(event, to: &s)
        }
    }

    private static func write(_ event: SessionEvent, to s: inout State) -> Bool {
        let bytes = Array((event.jsonLine() + "\n").utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Foundation.write(s.fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                if s.failure == nil { s.failure = "cannot write the session log: \(String(cString: strerror(errno)))" }
                return false
            }
            offset += n
        }
        s.lines += 1
        return true
    }

    public func close() {
        state.withLock { s in
            if s.fd >= 0 { Foundation.close(s.fd); s.fd = -1 }
        }
    }
}

/// A session log as read back: every event up to the last good line.
public struct SessionLogContents: Sendable {
    public var events: [SessionEvent]
    /// Lines that parsed (blank lines are not counted).
    public var goodLines: Int
    /// Set when the log is malformed or truncated: which line and why; the events before it are kept.
    public var problem: String?

    public var isComplete: Bool { problem == nil }
}

public enum SessionLogReader {
    /// Reads a log; throws only when the file cannot be read at all.
    public static func read(path: String) throws -> SessionLogContents {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw InputError(file: path, expected: "a session log (.jsonl)", found: isDirectory.boolValue ? "a directory" : "no such file")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw InputError(file: path, expected: "a readable session log", found: "permission denied or unreadable")
        }
        return parse(data)
    }

    /// Parses JSON Lines, stopping at the first line that is not a valid event.
    public static func parse(_ data: Data) -> SessionLogContents {
        var events: [SessionEvent] = []
        var good = 0
        let bytes = [UInt8](data)
        var lineNumber = 0
        var start = 0
        while start < bytes.count {
            var end = start
            while end < bytes.count && bytes[end] != 0x0A { end += 1 }
            lineNumber += 1
            let slice = bytes[start..<end]
            let complete = end < bytes.count
            start = end + 1
            guard let line = String(bytes: slice, encoding: .utf8) else {
                return SessionLogContents(events: events, goodLines: good,
                                          problem: "line \(lineNumber) is not UTF-8 text; recovered the \(good) lines before it")
            }
            if line.allSatisfy(\.isWhitespace) { continue }
            do {
                events.append(try SessionEvent.decode(line: line))
                good += 1
            } catch {
                let what = complete ? "is malformed (\(Self.reason(error)))" : "is truncated (the log ends mid-line)"
                return SessionLogContents(events: events, goodLines: good,
                                          problem: "line \(lineNumber) \(what); recovered the \(good) lines before it")
            }
        }
        if good == 0 {
            return SessionLogContents(events: [], goodLines: 0, problem: "the log holds no events")
        }
        return SessionLogContents(events: events, goodLines: good, problem: nil)
    }

    static func reason(_ error: Error) -> String {
        switch error {
        case DecodingError.dataCorrupted(let c): return c.debugDescription.isEmpty ? "not JSON" : Self.short(c.debugDescription)
        case DecodingError.keyNotFound(let key, _): return "missing field '\(key.stringValue)'"
        case DecodingError.typeMismatch(_, let c): return "wrong type at '\(c.codingPath.map(\.stringValue).joined(separator: "."))'"
        case DecodingError.valueNotFound(_, let c): return "missing value at '\(c.codingPath.map(\.stringValue).joined(separator: "."))'"
        default: return "not a session event"
        }
    }

    private static func short(_ s: String) -> String {
        s.hasPrefix("The given data was not valid JSON") ? "not JSON" : String(s.prefix(80))
    }
}
