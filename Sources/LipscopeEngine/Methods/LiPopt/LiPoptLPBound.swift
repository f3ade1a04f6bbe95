import Foundation
import LipscopeSolvers

/// LiPopt, LP hierarchy (Latorre, Rolland, Cevher 2020): the ℓ∞ Lipschitz bound θ_k = min τ
/// with τ − P a non-negative combination of degree-k Handelman products on the box, per output
/// and the maximum over outputs. Solved with CLP's interior-point method (dual simplex as the
/// fallback); the reported value is certified from the solver's λ (see `HandelmanLP.certify`).
public struct LiPoptLPBound: BoundMethod {
    public let id = "lipopt-lp"
    public var options: [MethodOption] {
        [StandardOptions.cliques,
         MethodOption("max_lp_nonzeros", .int(min: 1, max: nil), default: String(Self.defaultMaximumNonzeros),
                      help: "largest LP built, in constraint-matrix nonzeros (larger ones are too_large)"),
         MethodOption("write_mps", .path, default: nil, help: "also write each LP to this MPS file (for other solvers)")] + LocalScope.options
    }
    public let label = "LiPopt-LP"
    public let kind = BoundKind.upper
    public let norms: [Norm] = [.linf]
    /// Largest LP (nonzeros of the equality matrix, before merging shared products) built
    /// without `max_lp_nonzeros`.
    public static let defaultMaximumNonzeros = 5_000_000

    public init() {}

    public func minimumDegree(for network: Network) -> Int? {
        guard let net = network.layerChain else { return nil }
        return net.withLinearOutput.layers.count
    }

    /// The options of one request, parsed once (`options` declares them).
    struct Settings: Sendable {
        var cliques: LiPoptCliques
        var maximumNonzeros: Int
        /// Where to write each LP in MPS, or nil.
        var mpsPath: String?

        /// Set for a local run (Regions/LocalScope.swift).
        var scope: LocalScope? = nil

        init(_ options: ParsedOptions) {
            cliques = options.choice("cliques") ?? .sparse
            maximumNonzeros = options.int("max_lp_nonzeros") ?? LiPoptLPBound.defaultMaximumNonzeros
            mpsPath = options.text("write_mps")
        }
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
        var degree: Int
        var mode: LiPoptCliques
        var outputs: [Int]
        var cliques: [[[Int]]]
    }

    func plan(_ request: BoundRequest, _ settings: Settings) -> Result<Plan, LiPoptRefusal> {
        let setup: LiPoptSetup
        switch LiPoptSetup.make(request, mode: settings.cliques, maximumVariables: PackedIndices.maximumIndex / 2, scope: settings.scope) {
        case .failure(let refusal): return .failure(refusal)
        case .success(let s): setup = s
        }
        let L = setup.network.depth
        let k = request.degree ?? L
        if k < L { return .failure(.notApplicable("degree \(k) is below the polynomial's degree L = \(L); use k ≥ \(L)")) }
        if k > HandelmanLP.maximumDegree {
            return .failure(.tooLarge("degree \(k) (this implementation goes up to \(HandelmanLP.maximumDegree))"))
        }
        return .success(Plan(network: setup.network, degree: k, mode: setup.mode, outputs: setup.outputs,
                             cliques: setup.cliquesPerOutput()))
    }

    public func applicability(_ request: BoundRequest) -> Applicability {
        // Bad options are reported by the run (Job.run checks them before applicability).
        guard let settings = try? settings(request) else { return .applicable }
        switch plan(request, settings) {
        case .failure(let refusal): return refusal.applicability
        case .success(let plan):
            let limit = settings.maximumNonzeros
            for c in plan.cliques {
                let size = HandelmanLP.estimate(cliques: c, degree: plan.degree)
                if size.nonzeros > Double(limit) {
                    return .tooLarge(String(format: "LP of up to %.0f columns and %.0f nonzeros at degree %d, %@ cliques (limit %d nonzeros; raise it with --max-lp-nonzeros)",
                                            size.columns, size.nonzeros, plan.degree, plan.mode.rawValue, limit))
                }
            }
            return .applicable
        }
    }

    public func run(_ request: BoundRequest, context: JobContext) throws -> BoundResult {
        let settings = try settings(request)
        let plan: Plan
        switch self.plan(request, settings) {
        case .failure(let refusal): throw MethodFailure(refusal.message)
        case .success(let p): plan = p
        }
        var cache: [[[Int]]: HandelmanLP] = [:]
        var values: [Double] = [], taus: [Double] = [], residuals: [Double] = []
        var buildSeconds = 0.0, solveSeconds = 0.0, iterations = 0
        var last: HandelmanLP? = nil
        var algorithms: [String] = []
        for (index, j) in plan.outputs.enumerated() {
            try context.checkCancelled()
            let cliques = plan.cliques[index]
            let lp: HandelmanLP
            if let cached = cache[cliques] { lp = cached } else {
                lp = try HandelmanLP.build(cliques: cliques, degree: plan.degree, context: context)
                buildSeconds += lp.buildSeconds
                cache[cliques] = lp
                context.log("LP (degree \(plan.degree), \(plan.mode.rawValue) cliques: \(lp.cliqueCount), largest \(lp.maxClique)): \(lp.rows) rows, \(lp.columns) columns, \(lp.nonzeros) nonzeros, built in \(String(format: "%.3f", lp.buildSeconds)) s")
            }
            last = lp
            let clock = ContinuousClock.now
            let poly = plan.network.polynomial(output: j)
            let (rhs, rhsError) = try lp.rightHandSide(poly)
            buildSeconds += (ContinuousClock.now - clock).seconds
            if plan.outputs.count > 1 { context.log("output \(j): solving") }
            let problem = lp.problem(rhs: rhs)
            if let path = settings.mpsPath {
                let file = plan.outputs.count > 1 ? path.replacingOccurrences(of: ".mps", with: "_out\(j).mps") : path
                do { try MPSFormat.write(problem, to: file) } catch { throw MethodFailure("writing \(file): \(error)") }
                context.log("LP written to \(file)")
            }
            let solved = try Self.solveCertified(lp, problem, rhs: rhs, rhsError: rhsError, context: context)
            solveSeconds += solved.seconds
            iterations += solved.iterations
            let used = solved.algorithm
            let cert = solved.certificate
            algorithms.append(used.rawValue)
            values.append(cert.value); taus.append(cert.tau); residuals.append(cert.residual)
        }
        let best = values.max() ?? 0
        var details: [String: JSONValue] = [
            "cliques": .string(plan.mode.rawValue),
            "tau": .number(taus.max() ?? 0),
            "certificate": .string("Handelman certificate from CLP's λ (clipped ≥ 0): τ − R₀ + Σ positive parts of −R_m, with rounding bounds"),
            "algorithm": .string(Self.algorithmSummary(algorithms)),
            "build_seconds": .number(buildSeconds),
            "solve_seconds": .number(solveSeconds),
        ]
        if let lp = last {
            details["rows"] = .number(Double(lp.rows))
            details["columns"] = .number(Double(lp.columns))
            details["nonzeros"] = .number(Double(lp.nonzeros))
            details["products"] = .number(Double(lp.products))
            details["products_unmerged"] = .number(Double(lp.productsUnmerged))
            details["n_cliques"] = .number(Double(lp.cliqueCount))
            details["max_clique"] = .number(Double(lp.maxClique))
        }
        details["residual"] = .number(residuals.max() ?? 0)
        if plan.outputs.count > 1 {
            details["per_output"] = .numbers(values)
            details["tau_per_output"] = .numbers(taus)
        }
        var answered = request
        answered.degree = plan.degree
        if let scope = settings.scope { details.merge(scope.details) { a, _ in a } }
        return result(answered, value: best, certified: true, iterations: iterations, details: details)
    }
}

extension LiPoptLPBound {
    /// "barrier", or "barrier → dual simplex" when the barrier's point was not accepted (with
    /// the count when several outputs were solved).
    /// Solves one output's LP and certifies its λ. CLP's interior-point method (no presolve, no
    /// crossover) goes first: on these degenerate LPs it is one to two orders of magnitude faster
    /// than simplex. Every point it returns (optimal, stalled or at its iteration limit) is
    /// certified like any other λ — any λ ≥ 0 gives a sound bound — but a point is *accepted*
    /// only when its certified value is within 1e-7 (relative) of the dual objective of an
    /// `optimal` barrier run (a near-feasible dual, so about a lower bound on θ_k); the barrier
    /// runs at tolerance 1e-9, then at CLP's default; the better certificate is still taken
    /// within 5e-7. Otherwise the LP is solved again by dual simplex, and if that fails too the
    /// best barrier certificate (sound, maybe looser) is reported with a log line.
    static func solveCertified(_ lp: HandelmanLP, _ problem: LPProblem, rhs: [Double], rhsError: [Double],
                               context: JobContext) throws
        -> (certificate: HandelmanLP.Certificate, algorithm: CLPSolver.Algorithm, seconds: Double, iterations: Int) {
        var seconds = 0.0, iterations = 0
        func run(_ algorithm: CLPSolver.Algorithm, tolerance: Double?) throws -> SolverResult {
            let result: SolverResult
            do {
                result = try CLPSolver(algorithm: algorithm).solve(.lp(problem), options: SolverOptions(feasibilityTolerance: tolerance),
                                                                   control: context.solverControl)
            } catch {
                throw MethodFailure("CLP: \(error.message)")
            }
            seconds += result.seconds
            iterations += result.iterations
            if result.status == .cancelled { throw CancelledError() }
            return result
        }
        func withinOfDual(_ c: HandelmanLP.Certificate, _ dual: Double, _ tolerance: Double) -> Bool {
            c.value - dual <= tolerance * max(1, abs(c.value))
        }
        var best: HandelmanLP.Certificate? = nil
        var bestDual = -Double.infinity
        for tolerance in [1e-9, nil] as [Double?] {
            let barrier = try run(.barrier, tolerance: tolerance)
            let usable: Set<SolverStatus> = [.optimal, .numericalTrouble, .iterationLimit]
            guard usable.contains(barrier.status), barrier.x.count == lp.columns else {
                context.log("barrier: \(barrier.status.rawValue) (\(barrier.message))")
                continue
            }
            let c = lp.certify(x: barrier.x, rhs: rhs, rhsError: rhsError)
            guard c.value.isFinite else { continue }
            if best == nil || c.value < best!.value { best = c }
            // Only an optimal run's duals say how tight a certificate is.
            if barrier.status == .optimal, let y = barrier.rowDuals, y.count == lp.rows {
                let dual = barrier.dualObjective ?? zip(y, rhs).reduce(0) { $0 + $1.0 * $1.1 }
                if dual.isFinite { bestDual = max(bestDual, dual) }
            }
            if withinOfDual(best!, bestDual, 1e-7) { return (best!, .barrier, seconds, iterations) }
            context.log(String(format: "barrier (%@, tolerance %@): certified %.10g vs dual %.10g", barrier.status.rawValue,
                               tolerance.map { String($0) } ?? "default", c.value, bestDual))
        }
        if let b = best, withinOfDual(b, bestDual, 5e-7) { return (b, .barrier, seconds, iterations) }
        context.log("barrier point not accepted, re-solving by dual simplex")
        let simplex = try run(.dualSimplex, tolerance: 1e-9)
        if simplex.status == .optimal, simplex.x.count == lp.columns {
            let c = lp.certify(x: simplex.x, rhs: rhs, rhsError: rhsError)
            if c.value.isFinite {
                return (best.map { $0.value < c.value ? $0 : c } ?? c, .dualSimplex, seconds, iterations)
            }
        }
        guard let b = best else { throw MethodFailure("CLP: \(simplex.status.rawValue) (\(simplex.message))") }
        context.log("dual simplex: \(simplex.status.rawValue); reporting the barrier's certified value (sound, possibly looser than θ_k)")
        return (b, .barrier, seconds, iterations)
    }

    static func algorithmSummary(_ used: [String]) -> String {
        let fallbacks = used.filter { $0 != CLPSolver.Algorithm.barrier.rawValue }.count
        if fallbacks == 0 { return "barrier" }
        return used.count == 1 ? "barrier → dual simplex" : "barrier → dual simplex (\(fallbacks) of \(used.count) outputs)"
    }
}
