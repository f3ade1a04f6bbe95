import Foundation
import LipscopeEngine

/// Plain-text rendering for the CLI: aligned tables, JSON (Codable only), a live progress line.
/// Numbers, durations and result wording come from the engine's `Presentation`.
enum Display {
    /// Left-aligned first column, right-aligned others; widths from content.
    static func table(_ header: [String], _ rows: [[String]]) -> String {
        let all = [header] + rows
        let widths = header.indices.map { c in all.map { $0[c].count }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { c, cell in
                let pad = String(repeating: " ", count: widths[c] - cell.count)
                return c == 0 ? cell + pad : pad + cell
            }.joined(separator: "  ")
        }
        let rule = widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")
        return ([line(header), rule] + rows.map(line)).joined(separator: "\n")
    }

    static func json<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    static var stderrIsTerminal: Bool { isatty(STDERR_FILENO) == 1 }

    static func writeError(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}

/// A one-line live status on stderr (only when it is a terminal), refreshed at most 20×/s.
final class ProgressLine: @unchecked Sendable {
    private let lock = NSLock()
    private var lastDraw = ContinuousClock.now - .seconds(1)
    private let enabled: Bool
    private let label: String

    init(label: String, enabled: Bool = Display.stderrIsTerminal) {
        self.label = label
        self.enabled = enabled
    }

    func handle(_ event: JobEvent) {
        guard enabled else { return }
        lock.lock(); defer { lock.unlock() }
        let text: String
        switch event {
        case .progress(let phase, let done, let total): text = "\(phase) \(done)/\(total)"
        case .iteration(let it):
            let cols = it.metrics.prefix(5).map { "\($0.name)=\(Presentation.number($0.value))" }.joined(separator: " ")
            text = "it \(it.index) \(cols) \(Presentation.duration(it.elapsed))"
        case .log(let message): text = message
        case .finished:
            Display.writeError("\r\u{1B}[K")
            return
        }
        let now = ContinuousClock.now
        guard now - lastDraw > .milliseconds(50) else { return }
        lastDraw = now
        Display.writeError("\r\u{1B}[K[\(label)] \(text.prefix(100))")
    }
}
