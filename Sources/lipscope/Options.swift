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

    @Option(name: .long, help: "SDP solver for the SDP methods: dsdp (default) or csdp.")
    var solver: String?

    @Option(name: .long, help: "SDP methods: chordal decomposition auto (default), on or off; same value. auto splits only when the fitted cost model predicts it is faster for the solver (deep nets of width ≲ 6-8 with csdp; practically never with DSDP).")
    var chordal: String?

    @Option(name: .long, help: "LipSDP: split into chunks of K layers and multiply the chunk bounds (looser).")
    var split: Int?

    @Option(name: .long, help: "LiPopt: cliques dense or sparse (default sparse).")
    var cliques: String?

    @Option(name: .long, help: "LiPopt LP: largest LP built, in nonzeros (default 5000000).")
    var maxLpNonzeros: Int?

    @Option(name: .long, help: "LiPopt SDP: largest moment SDP solved, in moments (default 5000).")
    var maxSdpMoments: Int?

    func request(_ network: Network, norm: Norm) -> BoundRequest {
        var options: [String: String] = [:]
        if let solver { options["solver"] = solver }
        if let chordal { options["chordal"] = chordal }
        if let split { options["split"] = String(split) }
        if let cliques { options["cliques"] = cliques }
        if let maxLpNonzeros { options["max_lp_nonzeros"] = String(maxLpNonzeros) }
        if let maxSdpMoments { options["max_sdp_moments"] = String(maxSdpMoments) }
        return BoundRequest(network: network, norm: norm, degree: degree, output: output, seed: seed, options: options)
    }
}
