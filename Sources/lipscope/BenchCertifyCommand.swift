import ArgumentParser
import Foundation
import LipscopeEngine

/// `certify` on a folder of VNN-COMP networks and properties against the competition's verdicts:
/// per network and method, how many `holds` / `violated` / `unknown`, the contradictions (must be
/// 0) and the time — the numbers the README quotes.
struct BenchCertifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "certify", abstract: "Run certify on VNN-COMP instances and compare with their verdicts.csv.")

    @Argument(help: "Folder of .onnx networks and .vnnlib properties.")
    var folder: String = "../shared/data/vnncomp2021/mnistfc"

    @Option(name: .long, help: "verdicts.csv (category,network,property,verdict,…); default: the folder's parent's verdicts.csv.")
    var verdicts: String?

    @Option(name: .long, help: "Comma-separated methods.")
    var methods: String = Certifier.Method.allCases.filter { !$0.usesLipschitz }.map(\.rawValue).joined(separator: ",")

    @Option(name: .long, help: "Only networks whose file name contains this.")
    var network: String?

    @Option(name: .long, help: "Projected-gradient steps of alpha-crown's slope search.")
    var slopeIterations: Int = PreActivationBounds.SlopeSearch().iterations

    @Option(name: .long, help: "bab: seconds per property.")
    var timeLimit: Double = 6

    @Flag(name: .long, help: "Also print one line per instance.")
    var instances = false

    func run() throws {
        let chosen = try methods.split(separator: ",").map { word -> Certifier.Method in
            guard let m = Certifier.Method(rawValue: String(word)) else {
                throw ValidationError("--methods: expected names from \(Certifier.Method.allCases.map(\.rawValue).joined(separator: ", ")), found '\(word)'")
            }
            return m
        }
        let csv = verdicts ?? URL(fileURLWithPath: folder).deletingLastPathComponent().appendingPathComponent("verdicts.csv").path
        guard let text = try? String(contentsOfFile: csv, encoding: .utf8) else {
            throw InputError(file: csv, expected: "a readable verdicts.csv", found: "no such file")
        }
        var cases: [(net: String, property: String, verdict: String)] = []
        for line in text.split(whereSeparator: \.isNewline).dropFirst() {
            let f = line.split(separator: ",").map(String.init)
            guard f.count >= 4 else { continue }
            let netPath = folder + "/" + f[1], propPath = folder + "/" + f[2]
            guard FileManager.default.fileExists(atPath: netPath), FileManager.default.fileExists(atPath: propPath) else { continue }
            if let network, !f[1].contains(network) { continue }
            cases.append((f[1], f[2], f[3]))
        }
        guard !cases.isEmpty else { throw InputError(file: csv, expected: "rows naming files of \(folder)", found: "none") }
        let search = PreActivationBounds.SlopeSearch(iterations: slopeIterations)
        var nets: [String: FeedforwardNetwork] = [:]
        var rows: [[String]] = []
        let names = cases.map(\.net).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        for name in names {
            if nets[name] == nil {
                guard case .feedforward(let net) = try NetworkLoader.load(path: folder + "/" + name) else {
                    throw InputError(file: name, expected: "a feedforward network", found: "an implicit network")
                }
                nets[name] = net
            }
            let net = nets[name]!
            for method in chosen {
                var holds = 0, violated = 0, unknown = 0, wrong = 0, unchecked = 0, total = 0.0, slowest = 0.0
                let mine = cases.filter { $0.net == name }
                for c in mine {
                    let property = try VNNLIBFormat.load(path: folder + "/" + c.property)
                    let problem = Certifier.Problem(network: net, region: property.region, label: property.label, others: property.others)
                    let o = try Certifier.certify(problem, method: method, search: search, timeLimit: timeLimit)
                    switch o.verdict {
                    case .holds: holds += 1; if c.verdict == "violated" { wrong += 1 }
                    case .violated:
                        violated += 1
                        if c.verdict == "holds" { wrong += 1 }
                        // The counterexample re-checked here: inside the box, and the forward pass agrees.
                        if let ce = o.counterexample, property.region.contains(ce.input) {
                            let y = net.forward(ce.input)
                            if !(y[ce.winner] >= y[property.label]) { unchecked += 1 }
                        } else { unchecked += 1 }
                    case .unknown: unknown += 1
                    }
                    total += o.seconds; slowest = max(slowest, o.seconds)
                    if instances {
                        let worst = o.lowerMargins.min() ?? .nan
                        print("\(name) \(c.property) [\(c.verdict)] \(method.rawValue): \(o.verdict.rawValue), min lower margin \(Presentation.number(worst)), \(o.unstableNeurons) unstable, \(o.domains) domains, \(Presentation.duration(o.seconds))")
                    }
                }
                rows.append([name, method.rawValue, "\(mine.count)", "\(holds)", "\(violated)", "\(unknown)", "\(wrong)", "\(unchecked)",
                             Presentation.duration(total), Presentation.duration(total / Double(mine.count)), Presentation.duration(slowest)])
            }
        }
        print(Display.table(["network", "method", "instances", "holds", "violated", "unknown", "contradicting", "unchecked",
                             "total", "mean", "max"], rows))
    }
}
