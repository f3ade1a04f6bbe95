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
        let result = Job.run(method, options.request(net, norm: norm), sink: { progress.handle($0) })
        if options.json {
            print(Display.json(result))
        } else {
            print(Self.describe(result))
        }
        if result.status == .failed { throw ExitCode(ExitStatus.solverFailure) }
    }

    static func describe(_ r: BoundResult) -> String {
        var lines = ["\(r.method) (\(r.norm.symbol)\(r.degree.map { ", degree \($0)" } ?? "")\(r.output.map { ", output \($0)" } ?? "")): \(Presentation.status(r.status))"]
        if let v = r.value {
            lines.append("  value       \(Presentation.number(v))  (\(Presentation.meaning(r)))")
        }
        if case .string(let reason)? = r.details["reason"] { lines.append("  reason      \(reason)") }
        lines.append("  time        \(Presentation.duration(r.seconds)), \(r.iterations) iterations")
        for key in r.details.keys.sorted() where key != "reason" {
            if case .string(let s) = r.details[key]! { lines.append("  \(key.padding(toLength: 11, withPad: " ", startingAt: 0)) \(s)") }
            if case .number(let x) = r.details[key]! { lines.append("  \(key.padding(toLength: 11, withPad: " ", startingAt: 0)) \(Presentation.number(x))") }
        }
        return lines.joined(separator: "\n")
    }
}
