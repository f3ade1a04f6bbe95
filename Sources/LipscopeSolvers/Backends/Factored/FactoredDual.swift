import Foundation
import LipscopeLinearAlgebra

/// LipSDP-Neuron's LMI solved through its dual: the rank-k ascent of `DualFactorAscent` gives
/// rising lower bounds; at checkpoints `MultiplierRecovery` turns the current factor into
/// multipliers λ and their exact ρ*(λ), a feasible point of the LMI (upper bound). The run
/// stops when the two meet within the tolerance, when the ascent stalls, or at the iteration
/// limit, and returns the best primal point (x = [ρ*, λ]; dual objective = the lower bound).
/// Every step is a product with the layer weights (k columns), so the cost grows with the
/// weights' size rather than with d³ as an interior point's does; one checkpoint costs a
/// Cholesky of the neuron block.
final class FactoredDual {
    let lmi: RankTwoLMI
    let run: SolveRun
    let settings: FactoredSettings
    /// A strictly feasible λ (e.g. ECLipsE-Fast's), for `blend`.
    let feasible: [Double]?

    init(lmi: RankTwoLMI, run: SolveRun, settings: FactoredSettings = FactoredSettings(), feasible: [Double]? = nil) {
        self.lmi = lmi
        self.run = run
        self.settings = settings
        self.feasible = feasible?.count == lmi.neuronCount ? feasible : nil
    }

    /// The best point on the segment from the feasible λ₀ to a recovered λ that is not feasible
    /// itself (H not positive definite: on deep chains the backward least squares lets small errors
    /// grow layer by layer). Along λ(t) = (1 − t)λ₀ + tλ the feasible set is an interval [0, t_max)
    /// (it is convex and holds λ₀) and ρ*(λ(t)) is convex, so on the grid t = 1 − 2⁻ʲ
    /// (j = 1 … `blendSteps`) a bisection finds the last feasible point and a walk back takes the
    /// lowest ρ*. The recovered λ is often just outside the set while ρ*(λ₀) is 10⁵× the optimum
    /// (random 2-80×50-2), so the point must get within 2⁻⁵⁰ of it: ≈ 8 factorizations instead
    /// of 50 in sequence.
    private func blend(_ lambda: [Double], rhoOf: ([Double]) -> Double?) -> (rho: Double, lambda: [Double])? {
        guard let start = feasible else { return nil }
        var tried: [Int: (rho: Double, lambda: [Double])?] = [:]
        func at(_ j: Int) -> (rho: Double, lambda: [Double])? {
            if let known = tried[j] { return known }
            let t = 1 - scalbn(1.0, -j)
            let mixed = (0..<lambda.count).map { (1 - t) * start[$0] + t * lambda[$0] }
            let point = rhoOf(mixed).map { ($0, mixed) }
            tried[j] = point
            return point
        }
        // Each point costs a factorization of the neuron block: stop on cancel.
        var feasibleJ = 0, infeasibleJ = settings.blendSteps + 1
        while infeasibleJ - feasibleJ > 1, !run.stopRequested {
            let mid = (feasibleJ + infeasibleJ) / 2
            if at(mid) != nil { feasibleJ = mid } else { infeasibleJ = mid }
        }
        guard feasibleJ >= 1, var best = at(feasibleJ) else { return nil }
        var j = feasibleJ - 1
        while j >= 1, !run.stopRequested, let lower = at(j), lower.rho < best.rho {
            best = lower
            j -= 1
        }
        return best
    }

    func solve() -> SolverResult {
        let tolerance = run.options.relativeGapTolerance ?? settings.tolerance
        let maxIterations = run.options.maxIterations ?? settings.maxIterations
        // ρ*(λ) on the first layer's Schur complement when the input block carries ρ only (ReLU
        // nets); the general route assembles S(0, λ) (d × d).
        let inputSide = MultiplierRecovery.InputSide(lmi)
        let order = inputSide.map { _ in MultiplierRecovery.ReversedLayers(lmi) }
        let ops = inputSide == nil ? RankTwoOperators(lmi: lmi) : nil
        var ascent = DualFactorAscent(lmi: lmi, k: settings.rank, seed: settings.seed, relaxation: settings.relaxation)
        var lower = 0.0
        var best: (rho: Double, lambda: [Double])? = nil
        var history: [Double] = []
        var nextCheck = settings.firstCheckpoint
        var checkpoints = 0
        func gap() -> Double? { best.map { $0.rho > 0 ? max(0, $0.rho - lower) / $0.rho : 0 } }
        func finish(_ status: SolverStatus, _ iteration: Int, _ why: String) -> SolverResult {
            guard let best else {
                return SolverResult(status: status == .optimal ? .numericalTrouble : status, dualObjective: lower, iterations: iteration,
                                    seconds: run.elapsed, solver: "factored", message: why + String(format: "; no primal point recovered (%d recoveries; dual lower bound %.6g)", checkpoints, lower))
            }
            return SolverResult(status: status, primalObjective: best.rho, dualObjective: lower, x: [best.rho] + best.lambda,
                                iterations: iteration, seconds: run.elapsed, solver: "factored",
                                message: why + String(format: " (relative gap %.3g, %d primal recoveries in %.2f s; step: gap %@)", gap() ?? .nan, checkpoints, recoverySeconds, trace.joined(separator: ", ")))
        }
        var recoverySeconds = 0.0
        var trace: [String] = []   // "step: relative gap of that recovery"
        func checkpoint() {
            let started = run.elapsed
            defer { recoverySeconds += run.elapsed - started }
            checkpoints += 1
            let (lambda, _) = MultiplierRecovery.multipliers(ascent)
            let threads = lmi.dimension >= 512 ? ProcessInfo.processInfo.activeProcessorCount : 1
            func rhoOf(_ lambda: [Double]) -> Double? {
                LinearAlgebra.withThreads(threads) {
                    if let inputSide { MultiplierRecovery.optimalRho(lmi, input: inputSide, lambda: lambda, margin: settings.pivotMargin, order: order) }
                    else { MultiplierRecovery.optimalRho(ops!, lambda: lambda) }
                }
            }
            guard let (rho, lambda) = rhoOf(lambda).map({ ($0, lambda) }) ?? blend(lambda, rhoOf: rhoOf) else { return }
            if best == nil || rho < best!.rho { best = (rho, lambda) }
            trace.append(String(format: "%d: %.2g", history.count, rho > 0 ? max(0, rho - lower) / rho : 0))
        }
        var iteration = 0
        var momentum = Momentum(cap: settings.momentumCap)
        while true {
            if run.stopRequested { return finish(run.stopReason, iteration, "stopped") }
            let f = ascent.forward()
            if f.isFinite { lower = max(lower, f) }
            history.append(lower)
            iteration += 1
            let stalled = history.count > settings.stallWindow
                && lower - history[history.count - 1 - settings.stallWindow] <= settings.stallTolerance * lower
            let last = iteration >= maxIterations
            if iteration >= nextCheck || stalled || last {
                checkpoint()
                nextCheck = Int((Double(iteration) * settings.checkpointGrowth).rounded(.up))
                if let g = gap(), g <= tolerance { return finish(.optimal, iteration, "primal and dual met") }
                if stalled { return finish(.numericalTrouble, iteration, "the dual ascent stalled") }
                if last { return finish(.iterationLimit, iteration, "iteration limit \(maxIterations)") }
            }
            if iteration % 10 == 0 {
                run.emit(SolverIteration(iteration: iteration, elapsed: run.elapsed, primalObjective: best?.rho, dualObjective: lower,
                                         relativeGap: gap()))
            }
            ascent.backward()
            guard ascent.step(extrapolation: momentum.next(value: f)) else { return finish(.numericalTrouble, iteration, "the dual gradient vanished (nothing reaches the output)") }
        }
    }
}

/// The extrapolation weight of each ascent step: βₖ = (k − 1)/(k + 2), capped, with the adaptive
/// restart of O'Donoghue & Candès (2015): k starts again when the dual value fell, so a step that
/// overshot costs one plain step. The dual's maximization over the spheres behaves like a power
/// iteration whose rate is set by an eigenvalue gap that closes on deep chains; momentum turns
/// that rate's 1/gap into ≈ 1/√gap (as for the accelerated power method).
struct Momentum {
    let cap: Double
    private var age = 0
    private var last = -Double.infinity

    init(cap: Double) { self.cap = cap }

    mutating func next(value: Double) -> Double {
        if value < last { age = 0 } else { age += 1 }
        last = value
        return age < 2 ? 0 : min(cap, Double(age - 1) / Double(age + 2))
    }
}
