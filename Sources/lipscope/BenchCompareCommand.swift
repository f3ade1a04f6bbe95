import ArgumentParser
import Foundation
import LipscopeEngine

/// Times `compare` (all methods, both norms) per network: the number the README quotes.
struct BenchCompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare", abstract: "Time `lipscope compare` on networks (default: the bundled examples and test networks).")

    @Argument(help: "Network files; default: examples/ and Tests/Fixtures/testnets/ under the current directory.")
    var networks: [String] = []

    @Option(name: .long, help: "Runs per network; the best time is reported.")
    var repeats: Int = 3

    func run() throws {
        var paths = networks
        if paths.isEmpty {
            for dir in ["examples", "Tests/Fixtures/testnets"] {
                let files = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
                paths += files.filter { NetworkLoader.extensions.contains(URL(fileURLWithPath: $0).pathExtension) && $0 != "expected.json" }
                    .sorted().map { "\(dir)/\($0)" }
            }
        }
        guard !paths.isEmpty else { throw ValidationError("no networks given and none found under examples/") }
        var rows: [[String]] = []
        for path in paths {
            let load = ContinuousClock.now
            let net = try NetworkLoader.load(path: path)
            let loadTime = (ContinuousClock.now - load).seconds
            var best = Double.infinity
            var comparison: Comparison? = nil
            for _ in 0..<max(1, repeats) {
                let c = Comparison.run(net, norms: Norm.allCases) { BoundRequest(network: $0, norm: $1) }
                best = min(best, c.seconds)
                comparison = c
            }
            let slowest = comparison!.results.max { $0.seconds < $1.seconds }!
            rows.append([URL(fileURLWithPath: path).lastPathComponent, NetworkSummary(net).sizes.map(String.init).joined(separator: "-"),
                         Presentation.duration(loadTime), Presentation.duration(best), "\(slowest.method)/\(slowest.norm.rawValue) \(Presentation.duration(slowest.seconds))"])
        }
        print(Display.table(["network", "sizes", "load", "compare (best)", "slowest method"], rows))
    }
}
