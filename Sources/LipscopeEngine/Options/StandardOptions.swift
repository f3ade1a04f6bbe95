import LipscopeSolvers

/// The option declarations methods share, so every method that reads "solver" or "cliques"
/// declares it the same way.
public enum StandardOptions {
    /// The backend choice of a method that builds problems of `kind`.
    public static func solver(for kind: ProblemKind, help: String? = nil) -> MethodOption {
        let backends = SolverBackend.solving(kind)
        return MethodOption("solver", .choice(backends.map(\.name)), default: backends.first?.name,
                            help: help ?? "\(kind.rawValue.uppercased()) solver backend")
    }

    /// What every LMI method (LipSDP, implicit SDP, ℓ∞ SDP) reads.
    public static let sdp: [MethodOption] = [
        solver(for: .sdp, help: "SDP solver: dsdp (default; csdp is the independent cross-check, and the fallback when dsdp fails and no solver was chosen)"),
        MethodOption("chordal", .choice(["auto", "on", "off"]), default: "auto",
                     help: "chordal split of the block-tridiagonal LMI into one block per pair of layers (same value); auto splits only when the fitted cost model predicts it is faster for the solver"),
        MethodOption("split", .int(min: 1, max: nil), default: nil,
                     help: "split into chunks of K weight matrices and multiply the chunk bounds (looser; for nets too large for one LMI)"),
        MethodOption("reduce", .flag, default: "on", help: "exact input reduction of the n₀ block to rank(W₁)"),
        MethodOption("scale", .flag, default: "on", help: "exact power-of-two layer balancing before the solve"),
        MethodOption("gap", .double(min: 0, max: 1, open: true), default: nil, help: "relative duality-gap tolerance of the solver"),
        MethodOption("time_limit", .double(min: 0, max: nil, open: true), default: nil, help: "wall-clock limit per SDP solve, seconds"),
    ]

    /// LipSDP-Neuron: the SDP options with the structured backend first (the default) and the
    /// factored dual last (it needs one multiplier per neuron, so LipSDP-Layer does not offer it).
    public static let lipsdpNeuron: [MethodOption] = [
        MethodOption("solver", .choice(["structured"] + SolverBackend.solving(.sdp).map(\.name) + ["factored"]), default: "structured",
                     help: "SDP solver: structured (default: the primal-dual interior-point method for this LMI, started from ECLipsE-Fast's point; falls back to dsdp, then csdp; LMIs of size ≥ 512 try factored first, and above LMI size 3000 only factored runs), dsdp or csdp (cross-checks), factored (the dual in rank-16 factored form with the primal point recovered from it, to LMI size 12000; reports the LMI's lower bound and gap)"),
    ] + sdp.dropFirst()

    /// LipSDP-Layer: the SDP options with the structured backend first (the default) and the
    /// descent on ρ*(λ) last (it needs few multipliers, so LipSDP-Neuron does not offer it).
    public static let lipsdpLayer: [MethodOption] = [
        MethodOption("solver", .choice(["structured"] + SolverBackend.solving(.sdp).map(\.name) + ["descent"]), default: "structured",
                     help: "SDP solver: structured (default: the primal-dual interior-point method for this LMI, started from ECLipsE-Fast's point; falls back to dsdp, then csdp; LMIs of size ≥ 512 on nets under 16 hidden layers try descent first, deeper nets only when the interior points certify nothing, and above LMI size 3000 only descent runs), dsdp or csdp (cross-checks), descent (quasi-Newton descent on the exact ρ*(λ) over the layer multipliers, from ECLipsE-Fast's point, to LMI size 12000; ReLU-like first layers)"),
    ] + sdp.dropFirst()

    public static let cliques = MethodOption("cliques", .choice(["sparse", "dense"]), default: "sparse",
                                             help: "LiPopt: sparse cliques (one per output path structure) or one dense clique")
}
