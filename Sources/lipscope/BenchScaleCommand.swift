import ArgumentParser
import Foundation
import LipscopeEngine

/// `lipscope bench scale`: the scalable ℓ2 methods (ECLipsE, ECLipsE-Fast) against LipSDP-Neuron
/// and the naive product on MNIST MLPs, CIFAR/MNIST conv nets, deep random nets and the
/// testnets-deep nets. Each method runs under a wall-clock budget (cancelled at its end).
struct BenchScaleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scale",
        abstract: "Benchmark ECLipsE / ECLipsE-Fast against LipSDP-Neuron and the naive product, methods × nets.",
        discussion: """
        Networks: VNN-COMP MNIST MLPs (256x2, 256x4, ERAN 9×200), the oval21 CIFAR conv nets \
        (base_kw, deep_kw), the verivital MNIST avg-pool net, seeded random ReLU nets 2-80×L-2 \
        (FeedforwardNetwork.gaussian, L hidden layers, --depths) and testnets-deep (deep_8x30, \
        deep_6x60). Files are looked up under --data, then Tests/Fixtures, ../shared/data and \
        /work/shared/data. "÷ neuron" is the value over LipSDP-Neuron's when that finished within \
        the budget. Times are the run's wall clock (build, solves, certificate), single runs.
        """
    )

    @Option(name: .long, help: "Directory to look for the network files first.")
    var data: String?

    @Option(name: .long, help: "Methods, comma-separated.")
    var methods: String = "lipsdp-neuron,eclipse,eclipse-fast,naive"

    @Option(name: .long, help: "Wall-clock budget per method and net, seconds (the run is cancelled at its end).")
    var budget: Double = 120

    @Option(name: .long, help: "Hidden-layer counts L of the random 2-80×L-2 nets.")
    var depths: String = "10,50,100"

    @Option(name: .long, help: "Only networks whose name contains this.")
    var only: String?

    @Option(name: .long, help: "Extra method option key=value (repeatable), passed to every method that declares the key.")
    var set: [String] = []

    func locate(_ candidates: [String]) -> String? {
        var roots: [String] = []
        if let data { roots.append(data) }
        roots += ["Tests/Fixtures", "../shared/data", "/work/shared/data", "../shared", "/work/shared"]
        for root in roots {
            for c in candidates where FileManager.default.fileExists(atPath: "\(root)/\(c)") { return "\(root)/\(c)" }
        }
        return nil
    }

    /// Runs `method` with a wall-clock budget: cancelled when the budget ends.
    func budgeted(_ method: any BoundMethod, _ request: BoundRequest) -> BoundResult {
        let done = DispatchSemaphore(value: 0)
        let job = Job.start(method, request) { event in if case .finished = event { done.signal() } }
        if done.wait(timeout: .now() + budget) == .timedOut { job.cancel() }
        return job.wait()
    }

    func run() throws {
        struct Entry { let name: String; let load: () throws -> Network }
        var entries: [Entry] = []
        for (name, file) in [("mnist 256x2", "networks/onnx/mnist_fc/vnncomp21_mnist-net_256x2.onnx"),
                             ("mnist 256x4", "networks/onnx/mnist_fc/vnncomp21_mnist-net_256x4.onnx"),
                             ("eran mnist 9×200", "networks/onnx/mnist_fc/vnncomp21_eran_mnist_relu_9_200.onnx"),
                             ("cifar base_kw", "networks/onnx/conv/vnncomp21_oval21_cifar_base_kw.onnx"),
                             ("cifar deep_kw", "networks/onnx/conv/vnncomp21_oval21_cifar_deep_kw.onnx"),
                             ("verivital avgpool", "networks/onnx/conv/vnncomp21_verivital_Convnet_avgpool.onnx"),
                             ("deep_8x30", "testnets-deep/deep_8x30.json"),
                             ("deep_6x60", "testnets-deep/deep_6x60.json")] {
            if let p = locate([file]) { entries.append(Entry(name: name) { try NetworkLoader.load(path: p) }) }
            else { FileHandle.standardError.write(Data("bench scale: \(file) not found, skipped\n".utf8)) }
        }
        for l in depths.split(separator: ",").compactMap({ Int($0.trimmingCharacters(in: .whitespaces)) }) {
            let widths = [2] + Array(repeating: 80, count: l) + [2]
            entries.append(Entry(name: "random 2-80×\(l)-2") {
                .feedforward(FeedforwardNetwork.gaussian(widths: widths, seed: 1234, name: "random_2-80x\(l)-2"))
            })
        }
        var extra: [String: String] = [:]
        for kv in set {
            let parts = kv.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw ValidationError("--set expects key=value, found '\(kv)'") }
            extra[parts[0]] = parts[1]
        }
        let ids = methods.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        for id in ids where MethodRegistry.method(named: id) == nil {
            throw ValidationError("unknown method '\(id)'; expected one of \(MethodRegistry.names.joined(separator: ", "))")
        }
        var rows: [[String]] = []
        for entry in entries where only.map({ entry.name.contains($0) }) ?? true {
            let net = try entry.load()
            var neuron: Double?
            var results: [(String, BoundResult)] = []
            for id in ids {
                let method = MethodRegistry.method(named: id)!
                let declared = Set(method.options.map(\.key))
                var options = extra.filter { declared.contains($0.key) }
                if id == "lipsdp-neuron", declared.contains("time_limit") { options["time_limit"] = String(budget) }
                let r = budgeted(method, BoundRequest(network: net, norm: .l2, options: options))
                if id == "lipsdp-neuron", r.status == .optimal { neuron = r.value }
                results.append((id, r))
                FileHandle.standardError.write(Data("\(entry.name) \(id): \(r.status.rawValue) \(r.value.map { String($0) } ?? "—") \(String(format: "%.2f s", r.seconds))\n".utf8))
            }
            for (id, r) in results {
                let ratio = (r.value != nil && neuron != nil) ? String(format: "%.4f", r.value! / neuron!) : "—"
                rows.append([entry.name, BenchSDPCommand.compact(NetworkSummary(net).sizes), id,
                             String(format: "%.3f", r.seconds), r.value.map { String(format: "%.6g", $0) } ?? "—",
                             ratio, r.certified ? "yes" : "no", r.status.rawValue])
            }
        }
        print(Display.table(["network", "sizes", "method", "seconds", "value", "÷ neuron", "cert", "status"], rows))
    }
}
