import ArgumentParser
import Foundation
import LipscopeEngine
import LipscopeTUI

/// `lipscope [NET] [--replay FILE]`: the terminal workbench (the default subcommand).
struct WorkbenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "workbench",
        abstract: "Open the terminal workbench (the default: `lipscope` or `lipscope NET`).",
        discussion: """
        Load a network, pick a method, norm and degree, watch the solver's iterations live, \
        compare the bounds side by side. Every session is logged to \(SessionStore.environmentVariable) \
        or ./sessions (JSON Lines); `w` saves a named copy with a Markdown report. Press ? for the keys.
        """)

    @Argument(help: "Network file to open (.json, .nnet, …).")
    var network: String?

    @Option(name: .long, help: "Reopen a session log: its comparison rows and convergence plots come back.")
    var replay: String?

    @Option(name: .long, help: "Directory of session logs (default: $\(SessionStore.environmentVariable) or ./sessions).")
    var sessionsDir: String?

    @Option(name: .long, help: ArgumentHelp("A method predicted to take longer than this many seconds asks for a second ⏎ (none: never asks).",
                                            valueName: "seconds|none"))
    var budget: TimeBudget = TimeBudget(seconds: Comparison.defaultBudget)

    func run() throws {
        var options = WorkbenchOptions(sessionsDirectory: sessionsDir ?? SessionStore.defaultDirectory(), budget: budget.seconds)
        if let network {
            options.network = (network, try NetworkLoader.load(path: network))
        }
        if let replay {
            options.replay = (replay, try SessionRecord.read(path: replay))
        }
        guard isatty(STDIN_FILENO) == 1, isatty(STDOUT_FILENO) == 1 else {
            throw ValidationError("the workbench needs a terminal; for scripts use `lipscope bound`, `compare`, `report` (see `lipscope --help`)")
        }
        let status = Workbench.run(options)
        if status != 0 { throw ExitCode(status) }
    }
}
