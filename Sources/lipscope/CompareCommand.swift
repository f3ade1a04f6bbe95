import ArgumentParser
import Foundation
import LipscopeEngine

/// Every applicable method on one network, one table.
struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare", abstract: "Run every applicable method and compare the bounds.")

    @Argument(help: ArgumentHelp("Network file (\(NetworkLoader.extensions.map { "." + $0 }.joined(separator: ", "))).", valueName: "network"))
    var network: String

    @Option(name: .long, help: "Norm: 2 or inf (default: both).")
    var norm: Norm?

    @OptionGroup var options: RunOptions

    @Option(name: .long, help: ArgumentHelp("Time budget per method, seconds: a method predicted to take longer is listed as over_budget with its estimate instead of run (none: run everything).",
                                            valueName: "seconds|none"))
    var budget: TimeBudget = TimeBudget(seconds: Comparison.defaultBudget)

    @Option(name: .long, help: "Run this method even when its predicted time exceeds the budget (repeatable).")
    var include: [MethodArgument] = []

    /// Each option goes to the methods that declare it; one no method declares is an error.
    func validate() throws {
        try options.check(for: MethodRegistry.all)
    }

    func run() throws {
        let net = try NetworkLoader.load(path: network)
        let comparison = Comparison.run(net, norms: norm.map { [$0] } ?? Norm.allCases, request: try options.requests(for: net),
                                        budget: budget.seconds, include: Set(include.map(\.method.id)))
        if options.json {
            print(Display.json(comparison))
        } else {
            print(Self.render(comparison))
        }
    }

    /// The run's time, or "~estimate" for a row the budget kept from running.
    static func timeCell(_ r: BoundResult) -> String {
        if r.status == .overBudget, case .number(let p)? = r.details["predicted_seconds"] {
            return Presentation.estimate(p)
        }
        return Presentation.duration(r.seconds)
    }

    static func render(_ c: Comparison) -> String {
        // "÷ exact" only when some norm has an exact value (a closed `exact` run).
        let showExact = Norm.allCases.contains { c.exactValue($0) != nil }
        let header = ["method", "norm", "deg", "bound", "kind", "cert", "status", "time", "iter", "÷ lower"]
            + (showExact ? ["÷ exact"] : [])
        let rows = c.results.map { r -> [String] in
            [r.method, r.norm.symbol, r.degree.map(String.init) ?? "", Presentation.number(r.value), r.kind.rawValue,
             Presentation.certifiedCell(r), Presentation.status(r.status), timeCell(r),
             String(r.iterations), Presentation.ratio(c.ratioToBestLower(r))]
                + (showExact ? [Presentation.ratio(c.ratioToExact(r))] : [])
        }
        let skipped = c.results.filter { $0.status == .overBudget }.map(\.method)
        let note = skipped.isEmpty ? "" : "\nover budget (not run): \(Array(Set(skipped)).sorted().joined(separator: ", ")); ask with --include METHOD or raise --budget"
        return "\(c.network.name): \(c.network.kind), \(c.network.sizes.map(String.init).joined(separator: "-"))\n"
            + Display.table(header, rows) + note
    }
}
