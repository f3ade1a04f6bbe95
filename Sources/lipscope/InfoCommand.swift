import ArgumentParser
import LipscopeEngine

struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info", abstract: "Describe a network: kind, sizes, activations, parameters, sparsity, well-posedness.")

    @Argument(help: ArgumentHelp("Network file (\(NetworkLoader.extensions.map { "." + $0 }.joined(separator: ", "))).", valueName: "network"))
    var network: String

    @Flag(name: .long, help: "Print one JSON object on stdout.")
    var json = false

    func run() throws {
        let net = try NetworkLoader.load(path: network)
        let summary = NetworkSummary(net)
        if json { print(Display.json(summary)); return }
        var lines = [
            "network     \(summary.name)  (\(network))",
            "kind        \(summary.kind)",
            "sizes       \(summary.sizes.map(String.init).joined(separator: " → "))\(summary.kind == "implicit" ? "  (inputs → states → outputs)" : "")",
            "activations \(summary.activations.joined(separator: ", "))",
            "parameters  \(summary.parameters)  (nonzero \(summary.nonzeros), \(summary.sparseLayers) sparse layers)",
            "hidden      \(summary.hiddenNeurons) neurons",
        ]
        if let mu = summary.muInf { lines.append("μ∞(A)       \(Presentation.number(mu))") }
        if let best = summary.bestWeightedMu {
            lines.append("best μ_η(A) \(Presentation.number(best))  (spectral abscissa of the Metzler majorant)")
            lines.append("well-posed  \(best < 1 ? "yes (weighted ℓ∞ contraction)" : "not shown by contraction")")
        }
        lines += summary.notes.map { "note        \($0)" }
        if let nodes = summary.graph {
            lines.append("nodes       #  name  size  activation  ← inputs")
            for (k, node) in nodes.enumerated() {
                let inputs = node.inputs.map { $0 == "input" ? "input" : "#\($0)" }.joined(separator: " + ")
                lines.append("            #\(k)  \(node.name)  \(node.size)  \(node.activation)  ← \(inputs)")
            }
        }
        print(lines.joined(separator: "\n"))
    }
}
