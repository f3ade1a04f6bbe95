/// The kinds of problem a backend solves.
public enum ProblemKind: String, Sendable, Hashable, CaseIterable {
    case lp, sdp, milp
}

/// Every solver backend lipscope can run, as a type (MathOptInterface's "optimizer" attribute):
/// a method offers exactly the backends whose `problemKinds` contain the problem it builds.
public enum SolverBackend: String, Sendable, Hashable, CaseIterable {
    case dsdp
    case csdp
    case clp
    case clpBarrier = "clp-barrier"
    /// The primal–dual interior-point method written for the LipSDP LMI family (`RankTwoLMI`); it refuses general
    /// SDPs, so `solving(_:)` does not offer it — LipSDP's own option list does.
    case structured
    /// LipSDP-Neuron's LMI through its factored dual (`FactoredLMISolver`); like `structured`, not offered for general SDPs.
    case factored
    /// LipSDP-Layer's LMI by quasi-Newton descent on ρ*(λ) over its layer multipliers (`DescentLMISolver`); not offered for general SDPs.
    case descent

    /// The name users type (`--solver csdp`), also the backend's `Solver.name`.
    public var name: String { rawValue }

    public var problemKinds: Set<ProblemKind> {
        switch self {
        case .dsdp, .csdp, .structured, .factored, .descent: [.sdp]
        case .clp, .clpBarrier: [.lp]
        }
    }

    /// The backends that solve problems of `kind`, in preference order (the first is the default).
    public static func solving(_ kind: ProblemKind) -> [SolverBackend] {
        allCases.filter { $0.problemKinds.contains(kind) && $0.solvesGeneralProblems }
    }

    /// Whether the backend solves every problem of its kinds (not only one structured family).
    public var solvesGeneralProblems: Bool { ![.structured, .factored, .descent].contains(self) }

    public init?(name: String) { self.init(rawValue: name.lowercased()) }
}

extension SolverBackend {
    /// A fresh backend instance (backends hold no state between solves).
    public func makeSolver() -> any Solver {
        switch self {
        case .dsdp: DSDPSolver()
        case .csdp: CSDPSolver()
        case .clp: CLPSolver()
        case .clpBarrier: CLPSolver(algorithm: .barrier)
        case .structured: StructuredLMISolver()
        case .factored: FactoredLMISolver()
        case .descent: DescentLMISolver()
        }
    }

    /// Whether this backend solves `problem`.
    public func solves(_ problem: ConicProblem) -> Bool { problemKinds.contains(problem.kind) }
}

extension ConicProblem {
    public var kind: ProblemKind {
        switch self {
        case .sdp: .sdp
        case .lp: .lp
        }
    }
}

/// A problem kind at the type level, so a method's settings can say "an SDP backend" and
/// no value of that type can be CLP.
public protocol ProblemKindMarker: Sendable {
    static var kind: ProblemKind { get }
}

public enum SDPKind: ProblemKindMarker { public static let kind = ProblemKind.sdp }
public enum LPKind: ProblemKindMarker { public static let kind = ProblemKind.lp }

/// A `SolverBackend` known to solve problems of `Kind`: the only way to make one checks
/// `problemKinds`, so a method holding a `Backend<SDPKind>` cannot be handed clp.
public struct Backend<Kind: ProblemKindMarker>: Sendable, Hashable {
    public let backend: SolverBackend

    public init?(_ backend: SolverBackend) {
        guard backend.problemKinds.contains(Kind.kind) else { return nil }
        self.backend = backend
    }

    public init?(name: String) {
        guard let b = SolverBackend(name: name) else { return nil }
        self.init(b)
    }

    /// Every backend of this kind, in preference order (the first is the default).
    public static var all: [Backend<Kind>] { SolverBackend.solving(Kind.kind).compactMap(Backend.init) }

    public var name: String { backend.name }
    public func makeSolver() -> any Solver { backend.makeSolver() }
}

public typealias SDPBackend = Backend<SDPKind>
public typealias LPBackend = Backend<LPKind>
