import ArgumentParser
import Foundation
import LipscopeEngine

/// `lipscope report FILE`: the Markdown report of a session log.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report", abstract: "Render the Markdown report of a session log.")

    @Argument(help: "Session log (.jsonl).")
    var file: String

    @Option(name: [.short, .long], help: "Write the report to this file instead of stdout.")
    var output: String?

    func run() throws {
        let contents = try SessionLogReader.read(path: file)
        let record = SessionRecord(contents: contents)
        let title = URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
        let markdown = SessionReport.markdown(record, title: title, logPath: file)
        if let problem = contents.problem {
            Display.writeError("lipscope: \(file): \(problem)\n")
        }
        if let output {
            do {
                try markdown.write(toFile: output, atomically: true, encoding: .utf8)
            } catch {
                throw InputError(file: output, expected: "a writable file", found: error.localizedDescription)
            }
        } else {
            print(markdown, terminator: markdown.hasSuffix("\n") ? "" : "\n")
        }
    }
}
