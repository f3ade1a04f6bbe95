import ArgumentParser
import Foundation
import LipscopeEngine

struct BoundCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bound", abstract: "Run one method on a network.",
        discussion: OptionHelp.methodCatalogue())

    @Argument(help: ArgumentHelp("Network file (\(NetworkLoader.extensions.map { "." + $0 }.joined(separator: ", "))).", valueName: "network"))
    var network: String

    @Option(name: .long, help: "Method (its options: see below).")
    var method: MethodArgument

    @Option(name: .long, help: "Norm: 2 or inf.")
    var norm: Norm = .l2

    @OptionGroup var options: RunOptions

    func validate() throws {
        try options.check(for: [method.method])
    }

    func run() throws {
        let net = try NetworkLoader.load(path: network)
        let method = method.method
        let progress = ProgressLine(label: method.id)
        let result = Job.run(method, try options.requests(for: net)(net, norm), sink: { progress.handle($0) })
        if options.json {
            print(Display.json(result))
        } else {
            print(Self.describe(result))
        }
        if result.status == .failed { throw ExitCode(ExitStatus.solverFailure) }
    }

    static func describe(_ r: BoundResult) -> String {
        // Strings, numbers and flags of the details; arrays and objects (multipliers, η,
        // witnesses) are for --json.
        let shown = r.details.sorted(by: { $0.key < $1.key }).filter { key, value in
            switch value {
            case .string, .number, .bool: key != "reason"
            default: false
            }
        }
        let width = max(6, shown.map(\.key.count).max() ?? 0)
        var lines = ["\(r.method) (\(r.norm.symbol)\(r.degree.map { ", degree \($0)" } ?? "")\(r.output.map { ", output \($0)" } ?? "")): \(Presentation.status(r.status))"]
        func line(_ name: String, _ text: String) {
            lines.append("  \(name.padding(toLength: width, withPad: " ", startingAt: 0))  \(text)")
        }
        if let v = r.value { line("value", "\(Presentation.number(v))  (\(Presentation.meaning(r)))") }
        if case .string(let reason)? = r.details["reason"] { line("reason", reason) }
        line("time", "\(Presentation.duration(r.seconds)), \(r.iterations) iterations")
        for (key, value) in shown { line(key, Presentation.detail(value)) }
        return lines.joined(separator: "\n")
    }
}
