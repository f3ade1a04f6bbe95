import ArgumentParser
import Foundation
import LipscopeEngine

/// Real network graphs (conv nets, MaxPool, residual nets, the VNN-COMP 2021 files): load time,
/// naive ℓ2 and ℓ∞, sampling (ℓ2) with its time, and the check sampling ≤ naive. A file that
/// does not load is a row "refused: <reason>", not a failure.
struct BenchGraphsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "graphs", abstract: "Load + naive + sampling on every ONNX file of the shared conv and VNN-COMP 2021 folders.")

    @Argument(help: "Network files or folders (searched for .onnx); default: ../shared/data/networks/onnx/conv and ../shared/data/vnncomp2021.")
    var paths: [String] = []

    @Flag(name: .long, help: "Print JSON Lines, one object per file.")
    var json = false

    func run() throws {
        let roots = paths.isEmpty ? ["../shared/data/networks/onnx/conv", "../shared/data/vnncomp2021"] : paths
        var files: [String] = []
        for root in roots {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: root, isDirectory: &isDirectory) else {
                throw ValidationError("\(root): no such file or folder")
            }
            if isDirectory.boolValue {
                let found = (FileManager.default.enumerator(atPath: root)?.compactMap { $0 as? String } ?? [])
                    .filter { $0.hasSuffix(".onnx") }.sorted()
                files += found.map { "\(root)/\($0)" }
            } else {
                files.append(root)
            }
        }
        var rows: [[String]] = []
        for file in files {
            let name = URL(fileURLWithPath: file).lastPathComponent
            let start = Date()
            let net: Network
            do {
                net = try NetworkLoader.load(path: file)
            } catch {
                let reason = "refused: \(error)"
                if json { print(Self.jsonLine(["file": .string(name), "status": .string(reason)])) }
                rows.append([name, reason, "", "", "", "", "", "", ""])
                continue
            }
            let load = Date().timeIntervalSince(start)
            let naive2 = Job.run(NaiveBound(), BoundRequest(network: net, norm: .l2))
            let naiveInf = Job.run(NaiveBound(), BoundRequest(network: net, norm: .linf))
            let sampling = Job.run(SamplingBound(), BoundRequest(network: net, norm: .l2))
            let total = load + naive2.seconds + naiveInf.seconds + sampling.seconds
            let below: String
            if let s = sampling.value, let u = naive2.value, naive2.certified { below = s <= u ? "yes" : "NO" } else { below = "—" }
            let sizes = NetworkSummary(net).sizes.map(String.init).joined(separator: "-")
            if json {
                print(Self.jsonLine([
                    "file": .string(name), "status": .string("loaded"), "sizes": .string(sizes), "load_seconds": .number(load),
                    "naive_l2": naive2.value.map(JSONValue.number) ?? .null, "naive_l2_seconds": .number(naive2.seconds),
                    "naive_linf": naiveInf.value.map(JSONValue.number) ?? .null, "naive_linf_seconds": .number(naiveInf.seconds),
                    "sampling_l2": sampling.value.map(JSONValue.number) ?? .null, "sampling_seconds": .number(sampling.seconds),
                    "sampling_below_naive": below == "yes" ? .bool(true) : below == "NO" ? .bool(false) : .null,
                    "total_seconds": .number(total)]))
            }
            rows.append([name, sizes.count > 40 ? String(sizes.prefix(37)) + "…" : sizes, Presentation.duration(load),
                         Presentation.number(naive2.value) + " (\(Presentation.duration(naive2.seconds)))",
                         Presentation.number(naiveInf.value) + " (\(Presentation.duration(naiveInf.seconds)))",
                         Presentation.number(sampling.value), Presentation.duration(sampling.seconds), below, Presentation.duration(total)])
        }
        if !json {
            print(Display.table(["file", "sizes", "load", "naive ℓ2 (time)", "naive ℓ∞ (time)", "sampling ℓ2", "time", "s ≤ naive", "total"], rows))
        }
    }

    static func jsonLine(_ fields: [String: JSONValue]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(JSONValue.object(fields))).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}
