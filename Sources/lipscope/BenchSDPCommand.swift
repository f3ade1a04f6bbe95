import ArgumentParser
import Foundation
import LipscopeEngine
import LipscopeLinearAlgebra

/// `lipscope bench sdp`: LipSDP-Neuron end to end (load, SDP, certificate) on the MNIST nets and a
/// random net with 5 hidden layers of 100, with and without the chordal decomposition, DSDP vs csdp.
struct BenchSDPCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sdp",
        abstract: "Benchmark LipSDP-Neuron: MNIST nets and a 5×100 random net, chordal on/off, DSDP vs csdp.",
        discussion: """
        Networks: LipSDP mnist_weights.mat (784-50-10), monDEQ dnn_d3.npz (784-40-40-10), the \
        test suite's mnist_784 (784-100-100-10), and a seeded random 10-100×5-10 ReLU net \
        (weights N(0, 1/fan_in)). Files are looked up under --data, then Tests/Fixtures, \
        ../shared and /work/shared. Times are wall clock on this machine; "total" = load + run \
        (the run includes building the SDP, the solve and the certificate); best of --repeats.
        """
    )

    @Option(name: .long, help: "Directory to look for the network files first.")
    var data: String?

    @Option(name: .long, help: "Runs per configuration; the best time is reported.")
    var repeats: Int = 1

    @Flag(name: .long, help: "Skip csdp.")
    var noCsdp = false

    @Option(name: .long, help: "Per-solve time limit in seconds.")
    var timeLimit: Double = 300

    @Flag(name: .long, help: "Also run LipSDP-Layer.")
    var layer = false

    @Option(name: .long, help: "Only networks whose name contains this.")
    var only: String?

    func locate(_ candidates: [String]) -> String? {
        var roots: [String] = []
        if let data { roots.append(data) }
        roots += ["Tests/Fixtures", "../shared", "/work/shared", "../shared/data", "/work/shared/data"]
        for root in roots {
            for c in candidates where FileManager.default.fileExists(atPath: "\(root)/\(c)") { return "\(root)/\(c)" }
        }
        return nil
    }

    static func randomNetwork(widths: [Int], seed: UInt64) -> FeedforwardNetwork {
        var rng = SeededGenerator(seed: seed)
        var layers: [Layer] = []
        for k in 1..<widths.count {
            let scale = 1 / Double(widths[k - 1]).squareRoot()
            let w = Matrix(rows: widths[k], columns: widths[k - 1],
                           storage: (0..<(widths[k] * widths[k - 1])).map { _ in rng.gaussian() * scale })
            layers.append(Layer(weight: w, activation: k == widths.count - 1 ? .identity : .relu))
        }
        return FeedforwardNetwork(name: "random_5x100", inputSize: widths[0], layers: layers)
    }

    func run() throws {
        struct Entry { let name: String; let load: () throws -> Network }
        var entries: [Entry] = []
        if let p = locate(["testnets-real/mnist_weights.mat", "networks/other/lipsdp_examples/mnist_weights.mat", "lipsdp_examples/mnist_weights.mat"]) {
            entries.append(Entry(name: "lipsdp mnist_weights.mat") { try NetworkLoader.load(path: p) })
        }
        if let p = locate(["networks/npz/dnn_d3.npz", "networks/other/mondeq_lipschitz/dnn_d3.npz", "mondeq_lipschitz/dnn_d3.npz"]) {
            entries.append(Entry(name: "mondeq dnn_d3.npz") { try NetworkLoader.load(path: p) })
        }
        if let p = locate(["testnets/mnist_784.json"]) {
            entries.append(Entry(name: "testnets mnist_784.json") { try NetworkLoader.load(path: p) })
        }
        entries.append(Entry(name: "random 10-100x5-10") { .feedforward(Self.randomNetwork(widths: [10, 100, 100, 100, 100, 100, 10], seed: 7)) })
        if let only { entries = entries.filter { $0.name.contains(only) } }

        let methods = layer ? ["lipsdp-neuron", "lipsdp-layer"] : ["lipsdp-neuron"]
        let solvers = noCsdp ? ["dsdp"] : ["dsdp", "csdp"]
        var rows: [[String]] = []
        for entry in entries {
            let loadStart = ContinuousClock.now
            let net = try entry.load()
            let loadTime = (ContinuousClock.now - loadStart).seconds
            let sizes = NetworkSummary(net).sizes.map(String.init).joined(separator: "-")
            let deep = net.hiddenNeuronCount > 0 && NetworkSummary(net).sizes.count >= 4
            for method in methods {
                for solver in solvers {
                    for chordal in deep ? ["off", "on"] : ["off"] {
                        let m = MethodRegistry.method(named: method)!
                        var best: BoundResult? = nil
                        for _ in 0..<max(1, repeats) {
                            let r = Job.run(m, BoundRequest(network: net, norm: .l2, options: [
                                "solver": solver, "chordal": chordal, "time_limit": String(timeLimit)]))
                            if best == nil || r.seconds < best!.seconds { best = r }
                        }
                        let r = best!
                        func detail(_ key: String) -> Double? { if case .number(let x)? = r.details[key] { x } else { nil } }
                        let status = r.status == .optimal ? (r.certified ? "certified" : "UNCERTIFIED") : r.status.rawValue
                        let vars = detail("sdp_variables").map { String(Int($0)) } ?? "-"
                        rows.append([entry.name, sizes, method, solver, chordal, vars, Display.number(r.value), status,
                                     "\(r.iterations)", Display.seconds(loadTime),
                                     detail("solver_seconds").map(Display.seconds) ?? "-",
                                     detail("certify_seconds").map(Display.seconds) ?? "-",
                                     Display.seconds(r.seconds), Display.seconds(loadTime + r.seconds)])
                        FileHandle.standardError.write(Data("  \(entry.name) \(method) \(solver) chordal=\(chordal): \(status) \(Display.number(r.value)) in \(Display.seconds(r.seconds))\n".utf8))
                    }
                }
            }
        }
        print(Display.table(["network", "sizes", "method", "solver", "chordal", "vars", "value", "status", "iter",
                             "load", "solve", "certify", "run", "total"], rows))
    }
}
