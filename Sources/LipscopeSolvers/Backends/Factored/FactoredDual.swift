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

    init(lmi: RankTwoLMI, run: SolveRun, settings: FactoredSettings = FactoredSettings()) {
        self.lmi = lmi
        self.run = run
        self.settings = settings
    }

    func solve() -> SolverResult {
        let tolerance = run.options.relativeGapTolerance ?? settings.tolerance
        let maxIterations = run.options.maxIterations ?? settings.maxIterations
        // ρ*(λ) on the first layer's Schur complement when the input block carries ρ only (ReLU
        // nets); the general route assembles S(0, λ) (d × d).
        let inputSide = MultiplierRecovery.InputSide(lmi)
        let ops = inputSide == nil ? RankTwoOperators(lmi: lmi) : nil
        var ascent = DualFactorAscent(lmi: lmi, k: settings.rank, seed: settings.seed)
        var lower = 0.0
        var best: (rho: Double, lambda: [Double])? = nil
        var history: [Double] = []
        var nextCheck = settings.firstCheckpoint
        var checkpoints = 0
        func gap() -> Double? { best.map { $0.rho > 0 ? max(0, $0.rho - lower) / $0.rho : 0 } }
        func finish(_ status: SolverStatus, _ iteration: Int, _ why: String) -> SolverResult {
            guard let best else {
                return SolverResult(status: status == .optimal ? .numericalTrouble : status, dualObjective: lower, iterations: iteration,
                                    seconds: run.elapsed, solver: "factored", message: why + "; no primal point recovered")
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
            guard let rho = LinearAlgebra.withThreads(threads, {
                if let inputSide { MultiplierRecovery.optimalRho(lmi, input: inputSide, lambda: lambda) }
                else { MultiplierRecovery.optimalRho(ops!, lambda: lambda) }
            }) else { return }
            if best == nil || rho < best!.rho { best = (rho, lambda) }
            trace.append(String(format: "%d: %.2g", history.count, rho > 0 ? max(0, rho - lower) / rho : 0))
        }
        var iteration = 0
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
            guard ascent.step() else { return finish(.numericalTrouble, iteration, "the dual gradient vanished (nothing reaches the output)") }
        }
    }
}
