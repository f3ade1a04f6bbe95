import Foundation
import LipscopeSolvers

/// LiPopt, SDP hierarchy: the Lasserre moment relaxation of max P over the box at order
/// r ≥ ⌈L/2⌉ (r = 1 is Shor's relaxation for one hidden layer), dense or per clique, per output
/// and the maximum over outputs. Solved with `MomentIPM` (or DSDP / csdp with option "solver");
/// the value is certified from the dual (SOS) matrices (see `MomentSDP.certify`).
public struct LiPoptSDPBound: BoundMethod {
    public let id = "lipopt-sdp"
    public var options: [MethodOption] {
        [StandardOptions.cliques,
         MethodOption("solver", .choice(["ipm"] + SDPBackend.all.map(\.name)), default: "ipm",
                      help: "SDP solver for the moment SDP: ipm (default; the interior point written for its block-arrow Schur complement), dsdp or csdp (cross-checks)"),
         MethodOption("max_sdp_moments", .int(min: 1, max: nil), default: String(Self.defaultMaximumMoments),
                      help: "largest moment SDP solved, in moments (larger ones are too_large)")] + LocalScope.options
    }
    public let label = "LiPopt-SDP"
    public let kind = BoundKind.upper
    public let norms: [Norm] = [.linf]
    /// Largest number of moments (Σ over cliques, before sharing: `MomentSDP.estimate`) solved
    /// without option "max_sdp_moments". Every SDP entry of testnets-lipopt fits (the largest,
    /// small_relu_3 sparse r = 2, has 8 184); a dense SDP of 10 000 moments already has a
    /// 0.8 GB Schur complement and minutes per factorization on 2 cores.
    public static let defaultMaximumMoments = 10000

    public init() {}

    public func minimumDegree(for network: Network) -> Int? {
        guard let net = network.layerChain else { return nil }
        return max(1, (net.withLinearOutput.layers.count + 1) / 2)
    }

    /// The options of one request, parsed once (`options` declares them). The solver is an
    /// SDP backend by type: the declaration offers only dsdp and csdp, and no `SDPBackend` is CLP.
    struct Settings: Sendable {
        var cliques: LiPoptCliques
        /// nil = `MomentIPM`.
        var solver: SDPBackend?
        var maximumMoments: Int

        /// Set for a local run (Regions/LocalScope.swift).
        var scope: LocalScope? = nil

        init(_ options: ParsedOptions) {
            cliques = options.choice("cliques") ?? .sparse
            solver = options.backend(solving: SDPKind.self)
            maximumMoments = options.int("max_sdp_moments") ?? LiPoptSDPBound.defaultMaximumMoments
        }

        var solverName: String { solver?.name ?? "ipm" }
    }

    /// The settings, with the local scope when the request sets a region or a margin.
    func settings(_ request: BoundRequest) throws -> Settings {
        let parsed = try parseOptions(request)
        var settings = Settings(parsed)
        settings.scope = try LocalScope.ifLocal(request, parsed: parsed)
        return settings
    }

    struct Plan {
        var network: LiPoptNetwork
        var order: Int
        var mode: LiPoptCliques
        var outputs: [Int]
        var cliques: [[[Int]]]
    }

    func plan(_ request: BoundRequest, _ settings: Settings) -> Result<Plan, LiPoptRefusal> {
        let setup: LiPoptSetup
        switch LiPoptSetup.make(request, mode: settings.cliques, maximumVariables: PackedIndices.maximumIndex, scope: settings.scope) {
        case .failure(let refusal): return .failure(refusal)
        case .success(let s): setup = s
        }
        let L = setup.network.depth
        let minimum = max(1, (L + 1) / 2)
        let r = request.degree ?? minimum
        if r < minimum { return .failure(.notApplicable("order \(r) is below ⌈L/2⌉ = \(minimum) for L = \(L)")) }
        if r > MomentSDP.maximumOrder {
            return .failure(.tooLarge("order \(r) (this implementation goes up to \(MomentSDP.maximumOrder))"))
        }
        return .success(Plan(network: setup.network, order: r, mode: setup.mode, outputs: setup.outputs,
                             cliques: setup.cliquesPerOutput()))
    }

    public func applicability(_ request: BoundRequest) -> Applicability {
        // Bad options are reported by the run (Job.run checks them before applicability).
        guard let settings = try? settings(request) else { return .applicable }
        switch plan(request, settings) {
        case .failure(let refusal): return refusal.applicability
        case .success(let plan):
            let maxMoments = settings.maximumMoments
            for c in plan.cliques {
                let size = MomentSDP.estimate(cliques: c, order: plan.order)
                if size.moments > Double(maxMoments) {
                    return .tooLarge(String(format: "moment SDP with %.0f moments (largest block %.0f×%.0f) at order %d, %@ cliques: its Schur complement alone needs %@ (limit %d moments; raise it with --max-sdp-moments)",
                                            size.moments, size.largestBlock, size.largestBlock, plan.order, plan.mode.rawValue,
                                            Self.bytes(size.moments * size.moments * 8), maxMoments))
                }
            }
            return .applicable
        }
    }

    static func bytes(_ b: Double) -> String {
        b >= 1e9 ? String(format: "%.1f GB", b / 1e9) : String(format: "%.0f MB", b / 1e6)
    }

    public func run(_ request: BoundRequest, context: JobContext) throws -> BoundResult {
        let settings = try settings(request)
        let plan: Plan
        switch self.plan(request, settings) {
        case .failure(let refusal): throw MethodFailure(refusal.message)
        case .success(let p): plan = p
        }
        var cache: [[[Int]]: MomentSDP] = [:]
        var ipmCache: [[[Int]]: MomentIPM] = [:]
        var values: [Double] = [], relaxation: [Double] = []
        var certifiedAll = true
        var reasons: [String] = []
        var buildSeconds = 0.0, solveSeconds = 0.0, iterations = 0
        var last: MomentSDP? = nil
        for (index, j) in plan.outputs.enumerated() {
            try context.checkCancelled()
            let cliques = plan.cliques[index]
            let sdp: MomentSDP
            if let cached = cache[cliques] { sdp = cached } else {
                sdp = try MomentSDP.build(cliques: cliques, order: plan.order, context: context)
                cache[cliques] = sdp
                buildSeconds += sdp.buildSeconds
                context.log("SDP (order \(plan.order), \(plan.mode.rawValue) cliques: \(sdp.cliqueCount), largest \(sdp.maxClique)): \(sdp.moments) moments, \(sdp.blocks.count) blocks (largest \(sdp.largestBlock)), \(sdp.rows) rows")
            }
            last = sdp
            let clock = ContinuousClock.now
            let poly = plan.network.polynomial(output: j)
            if sdp.moments == 0 {
                // No clique holds a variable (sparse cliques of an output whose last-layer row is
                // zero): P is its constant term, its own maximum on the box; no solve to do.
                guard poly.coefficients.keys.allSatisfy(\.isEmpty) else {
                    throw MethodFailure("output \(j): the polynomial has monomials but the cliques hold no variable")
                }
                relaxation.append(poly.constant)
                values.append(poly.constant + (poly.errors[PackedIndices()] ?? 0))
                continue
            }
            if plan.outputs.count > 1 { context.log("output \(j): solving") }
            let solved: SolverResult
            if let backend = settings.solver {
                let problem = try sdp.problem(poly)
                buildSeconds += (ContinuousClock.now - clock).seconds
                do {
                    solved = try backend.makeSolver().solve(.sdp(problem), options: SolverOptions(relativeGapTolerance: 1e-9),
                                                            control: context.solverControl)
                } catch {
                    throw MethodFailure("\(error.solver): \(error.message)")
                }
            } else {
                let objective = try sdp.objective(poly)
                let ipm: MomentIPM
                if let cached = ipmCache[cliques] { ipm = cached } else { ipm = MomentIPM(sdp); ipmCache[cliques] = ipm }
                buildSeconds += (ContinuousClock.now - clock).seconds
                let out = ipm.solve(objective: objective, blockCount: sdp.blocks.count, control: context.solverControl)
                solved = SolverResult(status: out.status, primalObjective: out.primalObjective, dualObjective: out.dualObjective,
                                      x: out.y, dualMatrices: out.dual, iterations: out.iterations, seconds: out.seconds,
                                      solver: "ipm", message: out.message)
            }
            solveSeconds += solved.seconds
            iterations += solved.iterations
            if solved.status == .cancelled { throw CancelledError() }
            guard solved.status == .optimal, let primal = solved.primalObjective else {
                throw MethodFailure("\(solved.solver): \(solved.status.rawValue) (\(solved.message))")
            }
            let moment = poly.constant - primal
            relaxation.append(moment)
            let cert = sdp.certify(poly, dual: solved.dualMatrices)
            if let v = cert.value, v.isFinite {
                values.append(v)
            } else {
                certifiedAll = false
                reasons.append("output \(j): \(cert.reason)")
                values.append(moment)
            }
        }
        var details: [String: JSONValue] = [
            "cliques": .string(plan.mode.rawValue),
            "relaxation_value": .number(relaxation.max() ?? 0),
            "build_seconds": .number(buildSeconds),
            "solve_seconds": .number(solveSeconds),
            "solver": .string(settings.solverName),
            "certificate": .string(certifiedAll
                ? "SOS side: solver's dual matrices projected onto the PSD cone and shifted by a rounding bound; P₀ + q₀ + Σ positive residuals"
                : "uncertified: " + reasons.joined(separator: "; ")),
        ]
        if let sdp = last {
            details["moments"] = .number(Double(sdp.moments))
            details["rows"] = .number(Double(sdp.rows))
            details["blocks"] = .number(Double(sdp.blocks.count))
            details["largest_block"] = .number(Double(sdp.largestBlock))
            details["n_cliques"] = .number(Double(sdp.cliqueCount))
            details["max_clique"] = .number(Double(sdp.maxClique))
        }
        if plan.outputs.count > 1 {
            details["per_output"] = .numbers(values)
            details["relaxation_per_output"] = .numbers(relaxation)
        }
        var answered = request
        answered.degree = plan.order
        if let scope = settings.scope { details.merge(scope.details) { a, _ in a } }
        return result(answered, value: values.max() ?? 0, certified: certifiedAll, iterations: iterations, details: details)
    }
}
