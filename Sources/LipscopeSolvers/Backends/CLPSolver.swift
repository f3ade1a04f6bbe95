import CClpExt
import Foundation

/// COIN-OR CLP, in-process: dual simplex with presolve (default), or CLP's primal-dual
/// interior-point method without presolve and crossover (`.barrier`: the point is optimal to the
/// barrier's tolerances, not a vertex; suited to large degenerate LPs whose answer is certified
/// afterwards). CLP's own output is sent to /dev/null; progress and stopping go through the
/// CClpExt event handler.
public struct CLPSolver: Solver {
    public enum Algorithm: String, Sendable {
        case dualSimplex = "dual simplex"
        case barrier = "barrier"
    }

    /// "clp" (dual simplex) or "clp-barrier", the names of `SolverBackend.clp` and `.clpBarrier`.
    public var name: String { Self.name(algorithm) }
    static func name(_ algorithm: Algorithm) -> String { algorithm == .barrier ? "clp-barrier" : "clp" }
    public let algorithm: Algorithm

    public init(algorithm: Algorithm = .dualSimplex) { self.algorithm = algorithm }

    public func supports(_ problem: ConicProblem) -> Bool {
        if case .lp = problem { return true }
        return false
    }

    public func solve(_ problem: ConicProblem, options: SolverOptions, control: SolverControl) throws(SolverError) -> SolverResult {
        guard case .lp(let lp) = problem else { throw SolverError(solver: name, message: "CLP solves LPs only") }
        if lp.columnCount == 0 { throw SolverError(solver: name, message: "the problem has no columns") }
        return SolveRun.run(solverName: name, options: options, control: control) { run in
            CLPSolver.solveNow(lp, algorithm: algorithm, run: run)
        }
    }

    private static func solveNow(_ p: LPProblem, algorithm: Algorithm, run: SolveRun) -> SolverResult {
        guard let model = Clp_newModel() else {
            return SolverResult(status: .numericalTrouble, solver: name(algorithm), message: "Clp_newModel failed")
        }
        defer { Clp_deleteModel(model) }
        clpx_set_log_file(model, nil)
        let n = p.columnCount, m = p.rowCount
        // CLP takes infinities as ±COIN_DBL_MAX; ±.infinity works as well.
        p.matrix.columnStart.withUnsafeBufferPointer { start in
            p.matrix.rowIndex.withUnsafeBufferPointer { idx in
                p.matrix.values.withUnsafeBufferPointer { val in
                    Clp_loadProblem(model, Int32(n), Int32(m), start.baseAddress, idx.baseAddress, val.baseAddress,
                                    p.columnLower, p.columnUpper, p.objective, p.rowLower, p.rowUpper)
                }
            }
        }
        Clp_setOptimizationDirection(model, p.maximize ? -1 : 1)
        if let tol = run.options.feasibilityTolerance {
            Clp_setPrimalTolerance(model, tol)
            Clp_setDualTolerance(model, tol)
        }
        if let it = run.options.maxIterations { Clp_setMaximumIterations(model, Int32(it)) }
        if let t = run.options.timeLimit { Clp_setMaximumSeconds(model, t) }

        let stop = StopToken(clpx_stop_new()!)
        defer {
            run.clearStopAction()
            clpx_stop_free(stop.pointer)
        }
        let ctx = CLPProgressContext(run: run, maxIterations: run.options.maxIterations)
        let progress: clpx_progress_fn = { raw, event, iteration, objective, pinf, dinf, algorithm in
            guard let raw else { return 0 }
            let ctx = Unmanaged<CLPProgressContext>.fromOpaque(raw).takeUnretainedValue()
            return ctx.report(event: Int(event), iteration: Int(iteration), objective: objective,
                              pinf: pinf, dinf: dinf, dualAlgorithm: algorithm < 0)
        }
        let barrierProgress: clpx_barrier_fn = { raw, iteration, primal, dual, gap, pinf, dinf in
            guard let raw else { return 0 }
            let ctx = Unmanaged<CLPProgressContext>.fromOpaque(raw).takeUnretainedValue()
            return ctx.reportBarrier(iteration: Int(iteration), primal: primal, dual: dual, gap: gap, pinf: pinf, dinf: dinf)
        }
        clpx_attach(model, stop.pointer, progress, Unmanaged.passUnretained(ctx).toOpaque())
        clpx_attach_barrier_progress(stop.pointer, barrierProgress)
        run.onStop { clpx_stop_request(stop.pointer) }

        switch algorithm {
        case .dualSimplex: _ = clpx_initial_dual_solve(model)
        case .barrier: _ = clpx_barrier_solve(model, stop.pointer)
        }
        withExtendedLifetime(ctx) {}
        let clpStatus = Clp_status(model)
        let secondary = Clp_secondaryStatus(model)
        let iterations = Int(Clp_numberIterations(model))

        var status: SolverStatus
        var message: String
        switch clpStatus {
        case 0: status = .optimal; message = "optimal"
        case 1: status = .primalInfeasible; message = "primal infeasible"
        case 2: status = .dualInfeasible; message = "dual infeasible (primal unbounded if feasible)"
        case 3:
            if let limit = run.options.timeLimit, run.elapsed >= limit * 0.99 { status = .timeLimit; message = "time limit" }
            else { status = .iterationLimit; message = "iteration limit" }
        case 5:
            status = run.stopRequested ? run.stopReason : (ctx.hitIterationLimit ? .iterationLimit : .cancelled)
            message = "stopped by event handler (secondary status \(secondary))"
        default: status = .numericalTrouble; message = "CLP status \(clpStatus), secondary \(secondary)"
        }
        if clpStatus == 5 {
            return SolverResult(status: status, iterations: iterations, seconds: run.elapsed, solver: name(algorithm), message: message)
        }

        let x = Array(UnsafeBufferPointer(start: Clp_getColSolution(model), count: n))
        let rowDuals = Array(UnsafeBufferPointer(start: Clp_getRowPrice(model), count: m))
        let reduced = Array(UnsafeBufferPointer(start: Clp_getReducedCost(model), count: n))
        let activity = Array(UnsafeBufferPointer(start: Clp_getRowActivity(model), count: m))
        let primal = Clp_getObjValue(model) + p.objectiveConstant
        // Dual bound: Σ πᵢ·(active row bound) + Σ dⱼ·(active column bound) + constant, taking
        // the bound on the side the multiplier's sign points to (min form; flipped for max).
        let sense = p.maximize ? -1.0 : 1.0
        var dual = p.objectiveConstant
        for i in 0..<m {
            let y = rowDuals[i]
            if y == 0 { continue }
            let bound = sense * y > 0 ? p.rowLower[i] : p.rowUpper[i]
            dual += y * (bound.isFinite ? bound : activity[i])
        }
        for j in 0..<n {
            let d = reduced[j]
            if d == 0 { continue }
            let bound = sense * d > 0 ? p.columnLower[j] : p.columnUpper[j]
            dual += d * (bound.isFinite ? bound : x[j])
        }
        if algorithm == .barrier && status == .optimal {
            // ClpInterior reports "optimal" also at points that are not (e.g. on an infeasible
            // LP): accept only a point that is primal feasible and closes the gap, to 1e-6.
            let check = barrierCheck(p, x: x, activity: activity, primal: primal, dual: dual)
            if check.violation > 1e-6 || check.gap > 1e-6 {
                status = .numericalTrouble
                message = String(format: "barrier point not optimal: primal violation %.2e, relative gap %.2e (the LP may be infeasible or unbounded; simplex can tell)", check.violation, check.gap)
            }
        }
        let haveSolution = status == .optimal || status == .iterationLimit || status == .timeLimit
        return SolverResult(status: status, primalObjective: haveSolution ? primal : nil,
                            dualObjective: status == .optimal ? dual : nil,
                            x: x, rowDuals: rowDuals, reducedCosts: reduced, iterations: iterations,
                            seconds: run.elapsed, solver: name(algorithm), message: message)
    }
}

/// Largest bound violation of x and its row activities (relative to 1 + |bound|), and the
/// relative primal–dual gap.
private func barrierCheck(_ p: LPProblem, x: [Double], activity: [Double], primal: Double, dual: Double) -> (violation: Double, gap: Double) {
    var worst = 0.0
    func check(_ v: Double, _ lo: Double, _ hi: Double) {
        if !v.isFinite { worst = .infinity; return }
        if lo.isFinite { worst = max(worst, (lo - v) / (1 + abs(lo))) }
        if hi.isFinite { worst = max(worst, (v - hi) / (1 + abs(hi))) }
    }
    for i in 0..<p.rowCount { check(activity[i], p.rowLower[i], p.rowUpper[i]) }
    for j in 0..<p.columnCount { check(x[j], p.columnLower[j], p.columnUpper[j]) }
    let gap = primal.isFinite && dual.isFinite ? abs(primal - dual) / (1 + abs(primal)) : .infinity
    return (worst, gap)
}

/// The C stop token; `clpx_stop_request` is thread-safe.
private struct StopToken: @unchecked Sendable {
    let pointer: OpaquePointer
    init(_ p: OpaquePointer) { pointer = p }
}

/// Throttles CLP's per-iteration callback to one event per 20 ms (plus factorizations).
private final class CLPProgressContext {
    let run: SolveRun
    let maxIterations: Int?
    var lastEmit = -1.0
    var lastIteration = -1
    var hitIterationLimit = false

    init(run: SolveRun, maxIterations: Int?) {
        self.run = run
        self.maxIterations = maxIterations
    }

    /// Every interior-point iteration is reported (they are few and each takes a factorization).
    func reportBarrier(iteration: Int, primal: Double, dual: Double, gap: Double, pinf: Double, dinf: Double) -> Int32 {
        if run.stopRequested { return 1 }
        if let limit = maxIterations, iteration >= limit { hitIterationLimit = true; return 1 }
        lastIteration = iteration
        run.emit(SolverIteration(iteration: iteration, elapsed: run.elapsed, primalObjective: primal, dualObjective: dual,
                                 relativeGap: abs(primal - dual) / max(1, abs(primal), abs(dual)),
                                 primalInfeasibility: pinf, dualInfeasibility: dinf))
        return 0
    }

    func report(event: Int, iteration: Int, objective: Double, pinf: Double, dinf: Double, dualAlgorithm: Bool) -> Int32 {
        if run.stopRequested { return 1 }
        let now = run.elapsed
        if iteration > lastIteration && (lastEmit < 0 || now - lastEmit >= 0.02) {
            lastEmit = now
            lastIteration = iteration
            run.emit(SolverIteration(iteration: iteration, elapsed: now,
                                     primalObjective: dualAlgorithm ? nil : objective,
                                     dualObjective: dualAlgorithm ? objective : nil,
                                     primalInfeasibility: pinf, dualInfeasibility: dinf))
        }
        return 0
    }
}
