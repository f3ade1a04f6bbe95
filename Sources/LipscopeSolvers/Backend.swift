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

    /// The name users type (`--solver csdp`), also the backend's `Solver.name`.
    public var name: String { rawValue }

    public var problemKinds: Set<ProblemKind> {
        switch self {
        case .dsdp, .csdp: [.sdp]
        case .clp, .clpBarrier: [.lp]
        }
    }

    /// The backends that solve problems of `kind`, in preference order (the first is the default).
    public static func solving(_ kind: ProblemKind) -> [SolverBackend] {
        allCases.filter { $0.problemKinds.contains(kind) }
    }

    public init?(name: String) { self.init(rawValue: name.lowercased()) }
}
