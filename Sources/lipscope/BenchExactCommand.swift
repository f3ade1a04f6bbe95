import ArgumentParser
import Foundation
import LipscopeEngine

/// `exact` on networks, globally and on ℓ∞ balls around the origin: value, kind, remaining gap,
/// nodes and time, the numbers the README quotes.
struct BenchExactCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exact", abstract: "Time the exact constant (global and on ℓ∞ balls) on piecewise linear networks.")

    @Argument(help: "Network files; default: the tiny ReLU/leaky test nets, small_relu_20 and the GLipSDP fnn2 net under Tests/Fixtures.")
    var networks: [String] = []

    @Option(name: .long, help: "Comma-separated ℓ∞ radii of balls around the origin (besides the global constant).")
    var radii: String = "0.1,1"

    @Option(name: .long, help: "Time limit per run, seconds.")
    var timeLimit: Double = 60

    @Option(name: .long, help: "Comma-separated engines to compare: auto, pattern, milp (milp runs in ℓ∞ only).")
    var engines: String = "auto"

    @Option(name: .long, help: "Comma-separated norms: 2, inf.")
    var norms: String = "2,inf"

    func run() throws {
        var paths = networks
        if paths.isEmpty {
            paths = ["tiny_relu_1", "tiny_relu_2", "tiny_relu_3", "tiny_relu_4", "tiny_relu_5", "tiny_relu_6", "tiny_relu_deep",
                     "tiny_leaky", "small_relu_20"].map { "Tests/Fixtures/testnets/\($0).json" }
                + ["Tests/Fixtures/testnets-real/glipsdp_fnn2_seed0.json"]
        }
        let balls = try radii.split(separator: ",").map { word -> Double in
            guard let r = Double(word.trimmingCharacters(in: .whitespaces)), r >= 0 else {
                throw ValidationError("--radii: expected numbers ≥ 0 separated by commas, found '\(word)'")
            }
            return r
        }
        let engineList = engines.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        for e in engineList where ExactBound.Engine(rawValue: e) == nil {
            throw ValidationError("--engines: expected auto, pattern or milp, found '\(e)'")
        }
        let normList = try norms.split(separator: ",").map { word -> Norm in
            guard let n = Norm(name: String(word).trimmingCharacters(in: .whitespaces)) else { throw ValidationError("--norms: expected 2 or inf, found '\(word)'") }
            return n
        }
        var rows: [[String]] = []
        for path in paths {
            let net = try NetworkLoader.load(path: path)
            for norm in normList {
                for radius in [nil] + balls.map(Optional.some) {
                  for engine in engineList where !(engine == "milp" && norm != .linf) {
                    var options = ["time_limit": String(timeLimit), "engine": engine]
                    if let radius {
                        options["center"] = Array(repeating: "0", count: net.inputSize).joined(separator: ",")
                        options["radius"] = String(radius)
                    }
                    let r = Job.run(ExactBound(), BoundRequest(network: net, norm: norm, options: options))
                    func detail(_ key: String) -> Double? { if case .number(let v)? = r.details[key] { v } else { nil } }
                    var engineUsed = engine
                    if case .string(let e)? = r.details["engine"] { engineUsed = e }
                    rows.append([URL(fileURLWithPath: path).lastPathComponent, norm.symbol, radius.map { "r=\($0)" } ?? "global", engineUsed,
                                 Presentation.number(r.value), r.kind.rawValue, r.certified ? "yes" : "NO",
                                 Presentation.number(detail("lower")), detail("gap").map { String(format: "%.1e", $0) } ?? "—",
                                 String(r.iterations), Presentation.duration(r.seconds)])
                  }
                }
            }
        }
        print(Display.table(["network", "norm", "region", "engine", "value", "kind", "cert", "lower", "gap", "nodes", "time"], rows))
    }
}
