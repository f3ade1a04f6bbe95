import ArgumentParser
import Foundation
import LipscopeEngine

/// `lipscope sessions`: the session logs in the sessions directory, newest first.
struct SessionsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sessions", abstract: "List saved and automatic workbench session logs.")

    @Option(name: .long, help: "Directory of session logs (default: $\(SessionStore.environmentVariable) or ./sessions).")
    var dir: String?

    @Flag(name: .long, help: "Print one JSON array on stdout.")
    var json = false

    func run() throws {
        let directory = dir ?? SessionStore.defaultDirectory()
        let list = SessionStore.list(directory: directory)
        if json { print(Display.json(list)); return }
        guard !list.isEmpty else {
            print("no session logs in \(directory)")
            return
        }
        let rows = list.map { s -> [String] in
            [s.name, s.saved ? "saved" : "auto", s.started.map { String($0.prefix(19)).replacingOccurrences(of: "T", with: " ") } ?? "?",
             s.networks.joined(separator: ", "), "\(s.finished)/\(s.runs)",
             s.complete ? "ok" : "recovered", s.report.map { URL(fileURLWithPath: $0).lastPathComponent } ?? ""]
        }
        print(Display.table(["session", "kind", "started (UTC)", "networks", "runs", "log", "report"], rows))
        for s in list where !s.complete {
            print("\(s.name): \(s.problem ?? "malformed")")
        }
    }
}
