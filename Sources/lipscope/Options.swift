import ArgumentParser
import Foundation
import LipscopeEngine
import LipscopeSolvers

extension Norm: ExpressibleByArgument {
    public init?(argument: String) { self.init(name: argument) }
    public static var allValueStrings: [String] { ["2", "inf"] }
}

extension SolverBackend: ExpressibleByArgument {
    public init?(argument: String) { self.init(name: argument) }
    public static var allValueStrings: [String] { allCases.map(\.name) }
}

/// `--method`: a registered method, parsed by id (the choices are `MethodRegistry.names`).
struct MethodArgument: ExpressibleByArgument, Sendable {
    let method: any BoundMethod

    init(_ method: any BoundMethod) { self.method = method }

    init?(argument: String) {
        guard let method = MethodRegistry.method(named: argument.lowercased()) else { return nil }
        self.method = method
    }

    static var allValueStrings: [String] { MethodRegistry.names }
    var defaultValueDescription: String { method.id }
}

/// `--output J|all`: one output (0-based) or the whole output vector (the default).
enum OutputSelection: ExpressibleByArgument, Sendable, Equatable {
    case all
    case index(Int)

    init?(argument: String) {
        if argument.lowercased() == "all" { self = .all; return }
        // Any integer: an index the network does not have is the run's `failed` status, which
        // names the network's output count.
        guard let j = Int(argument) else { return nil }
        self = .index(j)
    }

    var index: Int? {
        if case .index(let j) = self { return j }
        return nil
    }

    var defaultValueDescription: String { "all" }
}

/// `--budget S|none`: a time budget in seconds, or none.
struct TimeBudget: ExpressibleByArgument, Sendable, Equatable {
    let seconds: Double?

    init(seconds: Double?) { self.seconds = seconds }

    init?(argument: String) {
        if ["none", "inf", "off"].contains(argument.lowercased()) { self.seconds = nil; return }
        guard let s = Double(argument), s > 0, s.isFinite else { return nil }
        self.seconds = s
    }

    var defaultValueDescription: String { seconds.map { Presentation.number($0) } ?? "none" }
}

/// `--option key=value`: any option a method declares, by its key.
struct OptionAssignment: Sendable, Equatable {
    let key: String
    let value: String

    static func parse(_ text: String) throws -> OptionAssignment {
        guard let eq = text.firstIndex(of: "="), eq != text.startIndex else {
            throw ValidationError("--option: expected key=value (e.g. --option gap=1e-7), found '\(text)'")
        }
        return OptionAssignment(key: String(text[..<eq]).replacingOccurrences(of: "-", with: "_"),
                                value: String(text[text.index(after: eq)...]))
    }
}

/// Options shared by the commands that run methods. The method options' help and choices come
/// from the methods' declarations (`OptionHelp`); their values are checked against the chosen
/// method(s) before anything runs.
struct RunOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Restrict to output J (0-based); all (the default) bounds the whole output vector.",
                                            valueName: "J|all"))
    var output: OutputSelection?

    @Option(name: .long, help: "Relaxation degree for hierarchy methods.")
    var degree: Int?

    @Option(name: .long, help: "Seed for sampled methods.")
    var seed: UInt64 = 1

    @Flag(name: .long, help: "Print one JSON object on stdout.")
    var json = false

    // Choice flags parse into their engine types; the words they list are the declarations'
    // (a method offers only the backends of its problem kind: no method here takes clp).
    @Option(name: .long, help: OptionHelp.flag("solver"), transform: OptionHelp.parser("solver", SolverBackend.init(name:)))
    var solver: SolverBackend?

    @Option(name: .long, help: OptionHelp.flag("chordal"), transform: OptionHelp.parser("chordal", ChordalSetting.init(rawValue:)))
    var chordal: ChordalSetting?

    @Option(name: .long, help: OptionHelp.flag("split", valueName: "K"))
    var split: Int?

    @Option(name: .long, help: OptionHelp.flag("cliques"), transform: OptionHelp.parser("cliques", LiPoptCliques.init(rawValue:)))
    var cliques: LiPoptCliques?

    @Option(name: .long, help: OptionHelp.flag("max_lp_nonzeros", valueName: "N"))
    var maxLpNonzeros: Int?

    @Option(name: .long, help: OptionHelp.flag("max_sdp_moments", valueName: "N"))
    var maxSdpMoments: Int?

    @Option(name: .customLong("option"), parsing: .singleValue, help: OptionHelp.generic(), transform: OptionAssignment.parse)
    var option: [OptionAssignment] = []

    @OptionGroup var region: RegionFlags

    /// The keys that have a flag of their own (the rest are reached through `--option`).
    static let dedicatedKeys = ["solver", "chordal", "split", "cliques", "max_lp_nonzeros", "max_sdp_moments", "center", "radius", "margin"]

    /// The method options as the engine reads them (`BoundRequest.options`), from the flags and
    /// every `--option`. The same key twice with different values is a usage error.
    func rawOptions() throws -> [String: String] {
        var raw: [String: String] = [:]
        if let solver { raw["solver"] = solver.name }
        if let chordal { raw["chordal"] = chordal.rawValue }
        if let split { raw["split"] = String(split) }
        if let cliques { raw["cliques"] = cliques.rawValue }
        if let maxLpNonzeros { raw["max_lp_nonzeros"] = String(maxLpNonzeros) }
        if let maxSdpMoments { raw["max_sdp_moments"] = String(maxSdpMoments) }
        for assignment in option {
            if let earlier = raw[assignment.key], earlier != assignment.value {
                throw ValidationError("option '\(assignment.key)' is set twice: '\(earlier)' and '\(assignment.value)'")
            }
            raw[assignment.key] = assignment.value
        }
        return raw
    }

    /// Checks the options against `methods` (one for bound/sweep, every method for compare):
    /// an unknown key or a bad value is a usage error naming the option, what was expected and
    /// what was found.
    func check(for methods: [any BoundMethod]) throws {
        do {
            var raw = try rawOptions()
            for (key, value) in region.placeholderOptions {
                if raw[key] != nil { throw ValidationError("option '\(key)' is set twice: by its flag and by --option") }
                raw[key] = value
            }
            try SharedOptions.check(raw, for: methods)
        } catch let error as OptionError {
            throw ValidationError(error.description)
        }
    }

    /// Requests with these settings for `network` (check the options first with `check`); the
    /// region flags' files are read here, against the network's input and output counts.
    func requests(for network: Network) throws -> @Sendable (Network, Norm) -> BoundRequest {
        let raw = try rawOptions().merging(try region.options(for: network)) { _, flag in flag }
        let (degree, output, seed) = (degree, output?.index, seed)
        return { network, norm in
            BoundRequest(network: network, norm: norm, degree: degree, output: output, seed: seed, options: raw)
        }
    }
}
