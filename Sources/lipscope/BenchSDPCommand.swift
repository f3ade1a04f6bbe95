import ArgumentParser
import Foundation
import LipscopeEngine
import LipscopeLinearAlgebra

/// `lipscope bench sdp`: LipSDP-Neuron end to end (load, SDP, certificate) on the MNIST nets and a
/// random net with 5 hidden layers of 100, with and without the chordal decomposition, DSDP vs csdp.
struct BenchSDPCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sdp",
        abstract: "Benchmark LipSDP-Neuron: MNIST nets, a 5×100 random net, ACAS Xu and deep narrow nets, chordal on/off, DSDP vs csdp.",
        discussion: """
        Networks: LipSDP mnist_weights.mat (784-50-10), monDEQ dnn_d3.npz (784-40-40-10), the \
        test suite's mnist_784 (784-100-100-10), a seeded random 10-100×5-10 ReLU net \
        (weights N(0, 1/fan_in)), ACAS Xu 1_1 (5-50×6-5) and two deep narrow random nets \
        (2-4×29-2, 2-6×59-2). Files are looked up under --data, then Tests/Fixtures, \
        ../shared and /work/shared. Times are wall clock on this machine; "total" = load + run \
        (the run includes building the SDP, the solve and the certificate); median of --repeats. \
        The "auto" column marks the row --chordal auto would run for that solver. \
        --grid instead runs random nets of --widths × --depths (hidden layers) and prints the \
        time of each of chordal off/on × DSDP/csdp, the data the auto rule was fitted to.
        """
    )

    @Option(name: .long, help: "Directory to look for the network files first.")
    var data: String?

    @Option(name: .long, help: "Runs per configuration; the median time is reported.")
    var repeats: Int = 1

    @Flag(name: .long, help: "Skip csdp.")
    var noCsdp = false

    @Flag(name: .long, help: "Skip DSDP.")
    var noDsdp = false

    @Option(name: .long, help: "Per-solve time limit in seconds.")
    var timeLimit: Double = 300

    @Flag(name: .long, help: "Also run LipSDP-Layer.")
    var layer = false

    @Option(name: .long, help: "Only networks whose name contains this.")
    var only: String?

    @Option(name: .long, help: "Set OMP_NUM_THREADS for the csdp subprocesses (csdp is built with OpenMP; on a loaded 2-core machine 1 thread was 5× faster on mnist_weights).")
    var csdpThreads: Int?

    @Flag(name: .long, help: "Instead of the named nets: random nets of --widths × --depths (hidden layers), seed --seed, chordal on/off × DSDP/csdp; one row per net.")
    var grid = false

    @Option(name: .long, help: "Grid: hidden-layer widths.")
    var widths: String = "4,8,16,32,64,100"

    @Option(name: .long, help: "Grid: numbers of hidden layers.")
    var depths: String = "2,4,9,19,39"

    @Option(name: .long, help: "Grid: input and output size of the random nets.")
    var io: Int = 2

    @Option(name: .long, help: "Grid: seed of the random nets.")
    var seed: UInt64 = 1234

    @Option(name: .long, help: "Grid: also write the measurements as CSV to this file.")
    var csv: String?

    func locate(_ candidates: [String]) -> String? {
        var roots: [String] = []
        if let data { roots.append(data) }
        roots += ["Tests/Fixtures", "../shared", "/work/shared", "../shared/data", "/work/shared/data"]
        for root in roots {
            for c in candidates where FileManager.default.fileExists(atPath: "\(root)/\(c)") { return "\(root)/\(c)" }
        }
        return nil
    }

    func run() throws {
        if let csdpThreads { setenv("OMP_NUM_THREADS", String(max(1, csdpThreads)), 1) }
        if grid { return try runGrid() }
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
        entries.append(Entry(name: "random 10-100x5-10") { .feedforward(FeedforwardNetwork.gaussian(widths: [10, 100, 100, 100, 100, 100, 10], seed: 7, name: "random_10-100x5-10")) })
        if let p = locate(["nnet/acasxu/ACASXU_run2a_1_1_batch_2000.nnet"]) {
            entries.append(Entry(name: "acas xu 1_1") { try NetworkLoader.load(path: p) })
        }
        // Deep and narrow, where the fitted rule picks the split for csdp (the grid's 29×4 and 59×6).
        entries.append(Entry(name: "random 2-4x29-2") {
            .feedforward(FeedforwardNetwork.gaussian(widths: [2] + Array(repeating: 4, count: 29) + [2], seed: 1234 &+ 29_004, name: "random_29x4"))
        })
        entries.append(Entry(name: "random 2-6x59-2") {
            .feedforward(FeedforwardNetwork.gaussian(widths: [2] + Array(repeating: 6, count: 59) + [2], seed: 1234 &+ 59_006, name: "random_59x6"))
        })
        if let only { entries = entries.filter { $0.name.contains(only) } }

        let methods = layer ? ["lipsdp-neuron", "lipsdp-layer"] : ["lipsdp-neuron"]
        let solvers = (noDsdp ? [] : ["dsdp"]) + (noCsdp ? [] : ["csdp"])
        var rows: [[String]] = []
        for entry in entries {
            let loadStart = ContinuousClock.now
            let net = try entry.load()
            let loadTime = (ContinuousClock.now - loadStart).seconds
            let sizes = Self.compact(NetworkSummary(net).sizes)
            let deep = net.hiddenNeuronCount > 0 && NetworkSummary(net).sizes.count >= 4
            var hiddenWidths: [Int] = []
            if case .feedforward(let ff) = net { hiddenWidths = ff.withLinearOutput.hiddenLayers.map(\.outputSize) }
            for method in methods {
                for solver in solvers {
                    let auto = SDPChordalRule.decide(hiddenWidths: hiddenWidths, solver: solver)
                    for chordal in deep ? ["off", "on"] : ["off"] {
                        let (r, t) = timed(method, net, ["solver": solver, "chordal": chordal, "time_limit": String(timeLimit)])
                        func detail(_ key: String) -> Double? { if case .number(let x)? = r.details[key] { x } else { nil } }
                        let status = r.status == .optimal ? (Presentation.certification(r) ?? "optimal") : Presentation.status(r.status)
                        let vars = detail("sdp_variables").map { String(Int($0)) } ?? "-"
                        let picked = (chordal == "on") == auto.chordal ? "←" : ""
                        rows.append([entry.name, sizes, method, solver, chordal, picked, vars, Presentation.number(r.value), status,
                                     "\(r.iterations)", Presentation.duration(loadTime),
                                     detail("solver_seconds").map(Presentation.duration) ?? "-",
                                     detail("certify_seconds").map(Presentation.duration) ?? "-",
                                     Presentation.duration(t), Presentation.duration(loadTime + t)])
                        FileHandle.standardError.write(Data("  \(entry.name) \(method) \(solver) chordal=\(chordal): \(status) \(Presentation.number(r.value)) in \(Presentation.duration(t))\n".utf8))
                    }
                }
            }
        }
        print(Display.table(["network", "sizes", "method", "solver", "chordal", "auto", "vars", "value", "status", "iter",
                             "load", "solve", "certify", "run", "total"], rows))
    }

    /// "2-4×29-2" for runs of equal widths.
    static func compact(_ sizes: [Int]) -> String {
        var parts: [String] = []
        var i = 0
        while i < sizes.count {
            var j = i
            while j + 1 < sizes.count && sizes[j + 1] == sizes[i] { j += 1 }
            parts.append(j > i ? "\(sizes[i])×\(j - i + 1)" : "\(sizes[i])")
            i = j + 1
        }
        return parts.joined(separator: "-")
    }

    /// Median wall time of `repeats` runs (the run's own `seconds`: build, solve, certificate).
    func timed(_ method: String, _ net: Network, _ options: [String: String]) -> (BoundResult, Double) {
        let m = MethodRegistry.method(named: method)!
        var results: [BoundResult] = []
        for _ in 0..<max(1, repeats) {
            let r = Job.run(m, BoundRequest(network: net, norm: .l2, options: options))
            results.append(r)
            if r.status != .optimal { break }
        }
        let times = results.map(\.seconds).sorted()
        return (results[0], times[times.count / 2])
    }

    func runGrid() throws {
        let ws = widths.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        let ds = depths.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        let solvers = (noDsdp ? [] : ["dsdp"]) + (noCsdp ? [] : ["csdp"])
        var rows: [[String]] = []
        var csvLines = ["hidden,width,solver,chordal,dimension,vars,blocks,seconds,status,value,iterations"]
        for h in ds {
            for w in ws {
                let sizes = [io] + Array(repeating: w, count: h) + [io]
                let net = Network.feedforward(FeedforwardNetwork.gaussian(widths: sizes, seed: seed &+ UInt64(1000 * h + w), name: "random_\(h)x\(w)"))
                var row = ["\(h)", "\(w)"]
                var values: [Double] = []
                for solver in solvers {
                    for chordal in ["off", "on"] {
                        let options = ["solver": solver, "chordal": chordal, "time_limit": String(timeLimit)]
                        let (r, t) = timed("lipsdp-neuron", net, options)
                        func detail(_ key: String) -> Double? { if case .number(let x)? = r.details[key] { x } else { nil } }
                        let status = r.status == .optimal ? (r.certified ? "certified" : "uncertified") : r.status.rawValue
                        if r.status == .optimal, let v = r.value { values.append(v) }
                        let vars = detail("sdp_variables").map { String(Int($0)) } ?? "-"
                        var blocks = "-"
                        if case .array(let b)? = r.details["sdp_blocks"] {
                            blocks = b.compactMap { if case .number(let x) = $0 { String(Int(x)) } else { nil } }.joined(separator: ";")
                        }
                        row.append(r.status == .optimal ? Presentation.duration(t) : r.status.rawValue)
                        if chordal == "on" { row.append(vars) }
                        csvLines.append("\(h),\(w),\(solver),\(chordal),\(io + h * w),\(vars),\(blocks),\(t),\(status),\(r.value.map { String($0) } ?? ""),\(r.iterations)")
                        FileHandle.standardError.write(Data("  \(h)x\(w) \(solver) chordal=\(chordal): \(status) \(Presentation.number(r.value)) in \(Presentation.duration(t)) (\(vars) vars)\n".utf8))
                    }
                }
                let spread = values.count > 1 ? (values.max()! / values.min()! - 1) : 0
                row.append(String(format: "%.1e", spread))
                row.append(solvers.map { SDPChordalRule.decide(hiddenWidths: Array(repeating: w, count: h), solver: $0).chordal ? "on" : "off" }
                    .joined(separator: "/"))
                rows.append(row)
            }
        }
        var header = ["hidden", "width"]
        for solver in solvers { header += ["\(solver) off", "\(solver) on", "vars on"] }
        header += ["Δvalue", "auto " + solvers.joined(separator: "/")]
        print(Display.table(header, rows))
        if let csv { try csvLines.joined(separator: "\n").appending("\n").write(toFile: csv, atomically: true, encoding: .utf8) }
    }
}
