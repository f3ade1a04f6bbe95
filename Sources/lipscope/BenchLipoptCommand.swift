import ArgumentParser
import Foundation
import LipscopeEngine
import LipscopeLinearAlgebra

/// LiPopt LP on banded (conv-like) networks at k = L and L + 1: build and solve time apart.
struct BenchLipoptCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lipopt",
        abstract: "Time the LiPopt LP (build vs solve) on banded networks, including a generated 80-80-1 net with fan-in 10.")

    @Argument(help: "Network files; default: the banded nets of Tests/Fixtures/testnets-lipopt/ under the current directory.")
    var networks: [String] = []

    @Option(name: .long, help: "Cliques: dense or sparse.")
    var cliques: String = "sparse"

    @Option(name: .long, help: "Largest LP built, in nonzeros.")
    var maxLpNonzeros: Int = 20_000_000

    @Flag(name: .long, help: "Skip the generated 80-80-1 network.")
    var noGenerated = false

    @Option(name: .long, help: "Degrees to run, comma-separated (default: L and L + 1 per network).")
    var degrees: String?

    @Option(name: .long, help: "Write each LP as MPS into this directory (NAME_kK.mps).")
    var writeMps: String?

    @Flag(name: .long, help: "Print the results as JSON.")
    var json = false

    /// A banded 80-80-1 ReLU net: hidden neuron i reads inputs i−5 … i+4 (fan-in 10 inside),
    /// weights U(±1/√10) from a fixed seed; a dense output row.
    static func generated(width: Int = 80, fanIn: Int = 10, seed: UInt64 = 80) -> FeedforwardNetwork {
        var rng = SeededGenerator(seed: seed)
        let scale = 1 / Double(fanIn).squareRoot()
        var w1 = Matrix(rows: width, columns: width)
        for i in 0..<width {
            for j in max(0, i - fanIn / 2)..<min(width, i - fanIn / 2 + fanIn) {
                w1[i, j] = rng.uniform(-scale, scale)
            }
        }
        let w2 = Matrix(rowArrays: [(0..<width).map { _ in rng.uniform(-1 / Double(width).squareRoot(), 1 / Double(width).squareRoot()) }])
        return FeedforwardNetwork(name: "banded_\(width)x\(width)x1_fanin\(fanIn)", inputSize: width, layers: [
            Layer(weight: w1, bias: nil, activation: .relu),
            Layer(weight: w2, bias: nil, activation: .identity),
        ])
    }

    struct Row: Encodable {
        var network: String
        var sizes: String
        var degree: Int
        var status: String
        var value: Double?
        var certified: Bool
        var rows: Int?, columns: Int?, nonzeros: Int?
        var buildSeconds: Double?, solveSeconds: Double?, totalSeconds: Double
        var algorithm: String?
    }

    func run() throws {
        var nets: [(String, Network)] = []
        var paths = networks
        if paths.isEmpty {
            let dir = "Tests/Fixtures/testnets-lipopt"
            let files = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
            paths = files.filter { $0.hasPrefix("banded") && $0.hasSuffix(".json") }.sorted().map { "\(dir)/\($0)" }
        }
        for p in paths { nets.append((URL(fileURLWithPath: p).lastPathComponent, try NetworkLoader.load(path: p))) }
        if !noGenerated {
            let g = Self.generated()
            nets.append((g.name, .feedforward(g)))
        }
        let method = LiPoptLPBound()
        var rows: [Row] = []
        for (name, net) in nets {
            guard let L = method.minimumDegree(for: net) else { continue }
            let ks = degrees.map { $0.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) } } ?? [L, L + 1]
            for k in ks {
                var options = ["cliques": cliques, "max_lp_nonzeros": String(maxLpNonzeros)]
                if let dir = writeMps { options["write_mps"] = "\(dir)/\(name.replacingOccurrences(of: ".json", with: ""))_k\(k).mps" }
                let request = BoundRequest(network: net, norm: .linf, degree: k, options: options)
                let r = Job.run(method, request)
                func num(_ key: String) -> Double? { if case .number(let x)? = r.details[key] { return x }; return nil }
                var algorithm: String? = nil
                if case .string(let a)? = r.details["algorithm"] { algorithm = a }
                let row = Row(network: name, sizes: NetworkSummary(net).sizes.map(String.init).joined(separator: "-"),
                              degree: k, status: r.status.rawValue, value: r.value, certified: r.certified,
                              rows: num("rows").map { Int($0) }, columns: num("columns").map { Int($0) },
                              nonzeros: num("nonzeros").map { Int($0) }, buildSeconds: num("build_seconds"),
                              solveSeconds: num("solve_seconds"), totalSeconds: r.seconds, algorithm: algorithm)
                rows.append(row)
                if !json {
                    FileHandle.standardError.write(Data("\(name) k=\(k): \(r.status.rawValue) \(Presentation.duration(r.seconds))\n".utf8))
                }
            }
        }
        if json {
            print(Display.json(rows))
            return
        }
        let table = rows.map { r -> [String] in
            [r.network, r.sizes, String(r.degree), r.status, Presentation.number(r.value),
             r.rows.map { "\($0)×\(r.columns ?? 0)" } ?? "—", r.nonzeros.map(String.init) ?? "—",
             r.buildSeconds.map(Presentation.duration) ?? "—", r.solveSeconds.map(Presentation.duration) ?? "—", Presentation.duration(r.totalSeconds), r.algorithm ?? "—"]
        }
        print("LiPopt LP, \(cliques) cliques, ℓ∞ (k = L and L + 1); solver: CLP")
        print(Display.table(["network", "sizes", "k", "status", "bound", "LP rows×cols", "nnz", "build", "solve", "total", "algorithm"], table))
    }
}
