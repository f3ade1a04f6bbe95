import LipscopeSolvers

/// The chordal setting of the SDP methods (`--chordal`).
public enum ChordalSetting: String, Sendable, CaseIterable {
    case auto, on, off
}

/// The typed settings every SDP method reads, built once from its `ParsedOptions`
/// (declared in `StandardOptions.sdp`).
struct SDPMethodOptions: Sendable {
    typealias Chordal = ChordalSetting

    var solver: SDPBackend
    /// Whether the solver was chosen explicitly (no fallback to the other one then).
    var solverExplicit: Bool
    var chordal: ChordalSetting
    /// Explicit chunk size (weight matrices per chunk); nil = the whole network in one LMI.
    var split: Int?
    /// Input reduction (exact) and power-of-two layer balancing (exact); on unless turned off.
    var reduceInput: Bool
    var balanceLayers: Bool
    var gapTolerance: Double?
    /// Wall-clock limit per SDP solve, seconds.
    var timeLimit: Double?

    /// The default backend when the declarations give none (they always do: dsdp).
    static let defaultSolver = SDPBackend.all[0]

    init(_ options: ParsedOptions) {
        solver = options.backend(solving: SDPKind.self) ?? Self.defaultSolver
        solverExplicit = options.isSet("solver")
        chordal = options.choice("chordal") ?? .auto
        split = options.int("split")
        reduceInput = options.flag("reduce") ?? true
        balanceLayers = options.flag("scale") ?? true
        gapTolerance = options.double("gap")
        timeLimit = options.double("time_limit")
        // The chordal split is a formulation for the general solvers: asking for it without
        // naming a solver means DSDP rather than the structured method (whole LMI only).
        if chordal == .on, !solverExplicit, solver.backend == .structured, let dsdp = SDPBackend(.dsdp) { solver = dsdp }
    }

    /// The settings of `method` for `request` (throws `OptionError` on an undeclared key or a bad value).
    init(_ method: some BoundMethod, _ request: BoundRequest) throws {
        self.init(try method.parseOptions(request))
    }

    /// Chordal decomposition on a feedforward net with these hidden widths: `on` forces it (from
    /// 2 hidden layers: with one there is a single clique), `off` forbids it, `auto` asks
    /// `SDPChordalRule` for the configured solver.
    func chordalDecision(hiddenWidths: [Int]) -> SDPChordalRule.Decision {
        switch chordal {
        case .on:
            return hiddenWidths.count >= 2
                ? .init(chordal: true, reason: "--chordal on", predictedRatio: nil)
                : .init(chordal: false, reason: "--chordal on, but one hidden layer gives a single clique", predictedRatio: nil)
        case .off:
            return .init(chordal: false, reason: "--chordal off", predictedRatio: nil)
        case .auto:
            return SDPChordalRule.decide(hiddenWidths: hiddenWidths, solver: solver.name)
        }
    }
}
