import Foundation

/// One session log in a sessions directory, as `lipscope sessions` lists it.
public struct SessionListing: Sendable, Codable, Equatable {
    public var file: String
    public var name: String
    /// Saved with `w` (a named copy) rather than the automatic per-session log.
    public var saved: Bool
    public var bytes: Int
    public var started: String?
    public var networks: [String]
    public var runs: Int
    public var finished: Int
    public var complete: Bool
    public var problem: String?
    /// The Markdown report next to it, if there is one.
    public var report: String?
}

/// Where session logs live and how they are named, listed and saved.
public enum SessionStore {
    public static let environmentVariable = "LIPSCOPE_SESSIONS_DIR"
    public static let autoPrefix = "session-"

    /// `$LIPSCOPE_SESSIONS_DIR`, else `sessions` under the current directory.
    public static func defaultDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let dir = environment[environmentVariable], !dir.isEmpty { return dir }
        return FileManager.default.currentDirectoryPath + "/sessions"
    }

    /// `session-YYYYMMDD-HHMMSS-PID.jsonl` (local time), never an existing file.
    public static func newLogPath(in directory: String, date: Date = Date(),
                                  pid: Int32 = ProcessInfo.processInfo.processIdentifier) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.dateFormat = "yyyyMMdd-HHmmss"
        return uniquePath(directory, "\(autoPrefix)\(f.string(from: date))-\(pid)", "jsonl")
    }

    /// A file name from what the user typed: letters, digits, `.`, `_`, `-`; others become `-`.
    public static func sanitize(_ name: String) -> String {
        var s = String(name.unicodeScalars.map { c -> Character in
            (c.properties.isAlphabetic && c.isASCII) || ("0"..."9").contains(c) || c == "." || c == "_" || c == "-" ? Character(c) : "-"
        })
        if s.hasSuffix(".jsonl") { s.removeLast(6) }
        while s.hasPrefix(".") || s.hasPrefix("-") { s.removeFirst() }
        return String(s.prefix(80))
    }

    /// `path` when no file is there, else `STEM-2.EXT`, `STEM-3.EXT` … (never overwrites).
    public static func unusedPath(_ path: String) -> String {
        let url = URL(fileURLWithPath: path)
        guard FileManager.default.fileExists(atPath: path) else { return path }
        return uniquePath(url.deletingLastPathComponent().path, url.deletingPathExtension().lastPathComponent,
                          url.pathExtension.isEmpty ? "json" : url.pathExtension)
    }

    static func uniquePath(_ directory: String, _ base: String, _ ext: String) -> String {
        var candidate = "\(directory)/\(base).\(ext)"
        var n = 2
        while FileManager.default.fileExists(atPath: candidate) {
            candidate = "\(directory)/\(base)-\(n).\(ext)"
            n += 1
        }
        return candidate
    }

    /// Copies a log to `NAME.jsonl` in `directory` (never overwriting: `NAME-2.jsonl` …) and writes
    /// the Markdown report `NAME.md` next to it. Returns both paths.
    public static func save(log path: String, as name: String, in directory: String) throws -> (log: String, report: String) {
        let base = sanitize(name)
        guard !base.isEmpty else {
            throw InputError(file: name, expected: "a session name (letters, digits, . _ -)", found: "an empty name")
        }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        guard let data = FileManager.default.contents(atPath: path) else {
            throw InputError(file: path, expected: "a readable session log", found: "no such file")
        }
        var logPath = uniquePath(directory, base, "jsonl")
        var reportPath = String(logPath.dropLast(6)) + ".md"
        while FileManager.default.fileExists(atPath: reportPath) {
            logPath = uniquePath(directory, URL(fileURLWithPath: reportPath).deletingPathExtension().lastPathComponent + "-x", "jsonl")
            reportPath = String(logPath.dropLast(6)) + ".md"
        }
        guard FileManager.default.createFile(atPath: logPath, contents: data) else {
            throw InputError(file: logPath, expected: "a writable file", found: "cannot create it")
        }
        let record = SessionRecord(contents: SessionLogReader.parse(data))
        let title = URL(fileURLWithPath: logPath).deletingPathExtension().lastPathComponent
        let report = SessionReport.markdown(record, title: title, logPath: URL(fileURLWithPath: logPath).lastPathComponent)
        guard FileManager.default.createFile(atPath: reportPath, contents: Data(report.utf8)) else {
            throw InputError(file: reportPath, expected: "a writable file", found: "cannot create it")
        }
        return (logPath, reportPath)
    }

    /// Every `.jsonl` log in the directory, newest first.
    public static func list(directory: String) -> [SessionListing] {
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".jsonl") }
        var listings: [(Date, SessionListing)] = []
        for file in files {
            let path = "\(directory)/\(file)"
            let attributes = try? FileManager.default.attributesOfItem(atPath: path)
            let modified = attributes?[.modificationDate] as? Date ?? .distantPast
            let bytes = (attributes?[.size] as? NSNumber)?.intValue ?? 0
            let contents = (try? SessionLogReader.read(path: path)) ?? SessionLogContents(events: [], goodLines: 0, problem: "unreadable")
            let record = SessionRecord(contents: contents)
            let name = String(file.dropLast(6))
            let reportPath = "\(directory)/\(name).md"
            listings.append((modified, SessionListing(
                file: path, name: name, saved: !name.hasPrefix(autoPrefix), bytes: bytes, started: record.started,
                networks: record.networkNames, runs: record.runs.count, finished: record.finishedRuns.count,
                complete: contents.isComplete, problem: contents.problem,
                report: FileManager.default.fileExists(atPath: reportPath) ? reportPath : nil)))
        }
        return listings.sorted { $0.0 != $1.0 ? $0.0 > $1.0 : $0.1.name < $1.1.name }.map(\.1)
    }
}
