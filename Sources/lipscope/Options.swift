import ArgumentParser
import LipscopeEngine

extension Norm: ExpressibleByArgument {
    public init?(argument: String) { self.init(name: argument) }
    public static var allValueStrings: [String] { ["2", "inf"] }
}

/// Options shared by the commands that run methods.
struct RunOptions: ParsableArguments {
    @Option(name: .long, help: "Restrict to output J (0-based).")
    var output: Int?

    @Option(name: .long, help: "Relaxation degree for hierarchy methods.")
    var degree: Int?

    @Option(name: .long, help: "Seed for sampled methods.")
    var seed: UInt64 = 1

    @Flag(name: .long, help: "Print one JSON object on stdout.")
    var json = false

    func request(_ network: Network, norm: Norm) -> BoundRequest {
        BoundRequest(network: network, norm: norm, degree: degree, output: output, seed: seed)
    }
}
