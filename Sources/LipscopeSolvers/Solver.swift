import Foundation
import LipscopeLinearAlgebra
import Synchronization

/// A problem any backend may be asked to solve.
public enum ConicProblem: Sendable, Equatable {
    case sdp(SDPProblem)
    case lp(LPProblem)
}

/// How a solve ended.
public enum SolverStatus: String, Sendable, Equatable, CaseIterable {
    /// Converged to the requested tolerances.
    case optimal
    /// The problem as posed has no feasible point (SDP: no y with Σ yᵢFᵢ − F₀ ⪰ 0).
    case primalInfeasible = "primal_infeasible"
    /// The dual has no feasible point, so the problem, if feasible, is unbounded
    /// (SDP: no X ⪰ 0 with ⟨Fᵢ, X⟩ = cᵢ; LP: CLP's "dual infeasible").
    case dualInfeasible = "dual_infeasible"
    /// The objective was shown to be unbounded (feasible and improving without limit).
    case unbounded
    case iterationLimit = "iteration_limit"
    case timeLimit = "time_limit"
    /// The backend stopped on numerical difficulties; the point returned may be inaccurate.
    case numericalTrouble = "numerical_trouble"
    case cancelled

    /// Whether the solver reached a verdict about the problem (not a limit or a failure).
    public var isTerminalVerdict: Bool {
        switch self {
        case .optimal, .primalInfeasible, .dualInfeasible, .unbounded: return true
        default: return false
        }
    }
}

/// One progress report. Fields a backend does not report are nil.
/// For SDPs, objectives are in the SDPA convention: primal = cᵀy (minimized),
/// dual = ⟨F₀, X⟩. For LPs, both are in the problem's own sense without the constant.
public struct SolverIteration: Sendable, Equatable {
    public var iteration: Int
    /// Seconds since the solve started.
    public var elapsed: Double
    public var primalObjective: Double?
    public var dualObjective: Double?
    public var relativeGap: Double?
    public var primalInfeasibility: Double?
    public var dualInfeasibility: Double?
    public var mu: Double?
    public var primalStep: Double?
    public var dualStep: Double?

    public init(iteration: Int, elapsed: Double, primalObjective: Double? = nil, dualObjective: Double? = nil,
                relativeGap: Double? = nil, primalInfeasibility: Double? = nil, dualInfeasibility: Double? = nil,
                mu: Double? = nil, primalStep: Double? = nil, dualStep: Double? = nil) {
        self.iteration = iteration
        self.elapsed = elapsed
        self.primalObjective = primalObjective
        self.dualObjective = dualObjective
        self.relativeGap = relativeGap
        self.primalInfeasibility = primalInfeasibility
        self.dualInfeasibility = dualInfeasibility
        self.mu = mu
        self.primalStep = primalStep
        self.dualStep = dualStep
    }
}

/// Tolerances and limits. nil means the backend's default.
public struct SolverOptions: Sendable, Equatable {
    /// Relative duality gap at which an interior-point method stops (DSDP gaptol, csdp objtol).
    public var relativeGapTolerance: Double?
    /// Primal/dual feasibility tolerance (DSDP r/p tolerances, csdp axtol/atytol, CLP tolerances).
    public var feasibilityTolerance: Double?
    public var maxIterations: Int?
    /// Wall-clock limit in seconds.
    public var timeLimit: Double?

    public init(relativeGapTolerance: Double? = nil, feasibilityTolerance: Double? = nil,
                maxIterations: Int? = nil, timeLimit: Double? = nil) {
        self.relativeGapTolerance = relativeGapTolerance
        self.feasibilityTolerance = feasibilityTolerance
        self.maxIterations = maxIterations
        self.timeLimit = timeLimit
    }

    public static let `default` = SolverOptions()
}

/// The caller's side of a running solve: a cancellation poll and a progress sink.
/// `isCancelled` is polled about every 10 ms from the thread that called `solve`;
/// `onIteration` is called from the solver's worker thread, in order, never after `solve`
/// has returned.
public struct SolverControl: Sendable {
    public var isCancelled: @Sendable () -> Bool
    public var onIteration: @Sendable (SolverIteration) -> Void

    public init(isCancelled: @escaping @Sendable () -> Bool = { false },
                onIteration: @escaping @Sendable (SolverIteration) -> Void = { _ in }) {
        self.isCancelled = isCancelled
        self.onIteration = onIteration
    }

    /// No cancellation, progress discarded.
    public static let silent = SolverControl()
}

/// The outcome of a solve.
public struct SolverResult: Sendable {
    public var status: SolverStatus
    /// SDP: cᵀy (SDPA primal, minimized). LP: cᵀx + constant in the problem's own sense.
    public var primalObjective: Double?
    /// SDP: ⟨F₀, X⟩. LP: the dual bound bᵀπ + bound terms + constant.
    public var dualObjective: Double?
    /// SDP: y (length m). LP: x (length columns).
    public var x: [Double]
    /// SDP only: the dual matrix X per block (dense symmetric n×n; for a diagonal block an
    /// n×1 column of its diagonal), when the backend provides it.
    public var dualMatrices: [Matrix]?
    /// LP only: row duals (shadow prices) and reduced costs.
    public var rowDuals: [Double]?
    public var reducedCosts: [Double]?
    public var iterations: Int
    public var seconds: Double
    /// "dsdp", "csdp" or "clp".
    public var solver: String
    /// Backend-specific detail (termination reason, exit code …).
    public var message: String

    public init(status: SolverStatus, primalObjective: Double? = nil, dualObjective: Double? = nil, x: [Double] = [],
                dualMatrices: [Matrix]? = nil, rowDuals: [Double]? = nil, reducedCosts: [Double]? = nil,
                iterations: Int = 0, seconds: Double = 0, solver: String, message: String = "") {
        self.status = status
        self.primalObjective = primalObjective
        self.dualObjective = dualObjective
        self.x = x
        self.dualMatrices = dualMatrices
        self.rowDuals = rowDuals
        self.reducedCosts = reducedCosts
        self.iterations = iterations
        self.seconds = seconds
        self.solver = solver
        self.message = message
    }

    /// |primal − dual| / max(1, |primal|, |dual|), when both are known.
    public var relativeGap: Double? {
        guard let p = primalObjective, let d = dualObjective else { return nil }
        return abs(p - d) / max(1, abs(p), abs(d))
    }
}

/// A solve could not be started or the backend failed outright (as opposed to reporting a
/// status): unsupported problem kind, invalid data, missing binary, I/O failure.
public struct SolverError: Error, CustomStringConvertible, Sendable {
    public let solver: String
    public let message: String
    public init(solver: String, message: String) { self.solver = solver; self.message = message }
    public var description: String { "\(solver): \(message)" }
}

/// One interface over the backends.
public protocol Solver: Sendable {
    /// "dsdp", "csdp", "clp".
    var name: String { get }
    func supports(_ problem: ConicProblem) -> Bool
    /// Blocks until the solve ends. Cancellation (`control.isCancelled`) and the time limit
    /// take effect within 200 ms: the call then returns with `.cancelled` / `.timeLimit` even
    /// if the backend needs longer to wind down (it does so in the background).
    func solve(_ problem: ConicProblem, options: SolverOptions, control: SolverControl) throws(SolverError) -> SolverResult
}

/// A progress event of `Solver.events`: zero or more iterations, then exactly one of
/// `finished` or `failed`.
public enum SolverEvent: Sendable {
    case iteration(SolverIteration)
    case finished(SolverResult)
    case failed(SolverError)
}

extension Solver {
    public func solve(_ problem: ConicProblem, options: SolverOptions = .default) throws(SolverError) -> SolverResult {
        try solve(problem, options: options, control: .silent)
    }

    /// Runs the solve on a background thread and streams its events. Terminating the
    /// stream (e.g. cancelling the consuming task) cancels the solve.
    public func events(_ problem: ConicProblem, options: SolverOptions = .default) -> AsyncStream<SolverEvent> {
        let (stream, continuation) = AsyncStream<SolverEvent>.makeStream(bufferingPolicy: .unbounded)
        let flag = StopFlag()
        continuation.onTermination = { _ in flag.set() }
        let solver = self
        let thread = Thread {
            let control = SolverControl(isCancelled: { flag.isSet },
                                        onIteration: { continuation.yield(.iteration($0)) })
            do throws(SolverError) {
                let r = try solver.solve(problem, options: options, control: control)
                continuation.yield(.finished(r))
            } catch {
                continuation.yield(.failed(error))
            }
            continuation.finish()
        }
        thread.stackSize = 16 << 20
        thread.start()
        return stream
    }
}

/// A shareable one-way flag (cancellation tokens, stop requests).
public final class StopFlag: Sendable {
    private let value = Atomic<Bool>(false)
    public init() {}
    public func set() { value.store(true, ordering: .sequentiallyConsistent) }
    public var isSet: Bool { value.load(ordering: .sequentiallyConsistent) }
}

/// Standard backends by name.
public enum Solvers {
    /// Every backend name (`SolverBackend.name`); prefer `SolverBackend` itself.
    public static var names: [String] { SolverBackend.allCases.map(\.name) }

    /// The backend called `name`, or nil; prefer `SolverBackend(name:)?.makeSolver()`.
    public static func named(_ name: String) -> (any Solver)? {
        SolverBackend(name: name)?.makeSolver()
    }

    /// The default backend for a problem kind: DSDP for SDPs, CLP for LPs.
    public static func defaultSolver(for problem: ConicProblem) -> any Solver {
        defaultBackend(for: problem).makeSolver()
    }

    public static func defaultBackend(for problem: ConicProblem) -> SolverBackend {
        switch problem {
        case .sdp: .dsdp
        case .lp: .clp
        }
    }
}
