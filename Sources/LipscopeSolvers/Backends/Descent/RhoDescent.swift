import Foundation
import LipscopeLinearAlgebra

/// LipSDP-Layer's LMI (one multiplier per layer, or any few groups) solved in its own variables:
/// for fixed λ the optimal ρ is exact, ρ*(λ) = λ_max(BᵀH⁻¹B) (`NeuronBlockFactor`), a convex
/// function of λ with a gradient from the null vector of S(ρ*, λ). With one multiplier a layer
/// there are only L variables, so a quasi-Newton method on F(μ) = log ρ*(e^μ) (log λ: the
/// multipliers of a deep net span many decades; log ρ: the step is scale free) reaches the
/// minimum in tens of evaluations, each one Cholesky of the neuron block and an n₁ × n₁
/// eigenproblem — no d × d iterate, no Newton system. ρ* is nonsmooth where its top eigenvalue
/// is multiple; BFGS with a weak Wolfe line search still converges there in practice and stops
/// when the line search finds no decrease (Lewis & Overton, Math. Program. 2013).
/// Every evaluated point is feasible (its ρ* is exact), so any stop returns a valid upper point;
/// there is no dual bound, so the status says only whether the descent converged.
final class RhoDescent {
    let lmi: RankTwoLMI
    let run: SolveRun
    let settings: DescentSettings
    let input: MultiplierRecovery.InputSide
    let order: MultiplierRecovery.ReversedLayers

    /// Why `lmi` is outside this method's reach, or nil.
    static func unsupported(_ lmi: RankTwoLMI) -> String? {
        if MultiplierRecovery.InputSide(lmi) == nil {
            return "the descent needs an input block carrying ρ only (no αβ term on the first layer, e.g. ReLU or tanh)"
        }
        for (b, band) in lmi.bands.enumerated() where band.columnStart + band.weights.columns > lmi.inputCount + band.firstRow {
            return "band \(b) reads coordinates of its own or later neurons (not feedforward)"
        }
        return nil
    }

    init?(lmi: RankTwoLMI, run: SolveRun, settings: DescentSettings = DescentSettings()) {
        guard let input = MultiplierRecovery.InputSide(lmi) else { return nil }
        self.lmi = lmi
        self.run = run
        self.settings = settings
        self.input = input
        order = MultiplierRecovery.ReversedLayers(lmi)
    }

    struct Point {
        var mu: [Double]
        var value: Double     // log ρ*
        var gradient: [Double]
        var rho: Double
    }

    private(set) var evaluations = 0

    /// F and ∇F at μ (log multipliers per group); nil where H is not positive definite.
    func evaluate(_ mu: [Double]) -> Point? {
        evaluations += 1
        let groupLambda = mu.map { exp($0) }
        guard groupLambda.allSatisfy({ $0.isFinite && $0 > 0 }) else { return nil }
        let lambda = lmi.group.map { groupLambda[$0] }
        guard let factor = NeuronBlockFactor(lmi, input: input, lambda: lambda, order: order),
              let (rho, perNeuron) = factor.rhoAndGradient(), rho > 0, rho.isFinite else { return nil }
        var gradient = [Double](repeating: 0, count: lmi.groupCount)
        for i in 0..<lmi.neuronCount { gradient[lmi.group[i]] += perNeuron[i] }
        for g in 0..<lmi.groupCount { gradient[g] *= groupLambda[g] / rho }
        guard gradient.allSatisfy(\.isFinite) else { return nil }
        return Point(mu: mu, value: log(rho), gradient: gradient, rho: rho)
    }

    /// Weak Wolfe line search along d from x (bisection on failure of sufficient decrease,
    /// doubling on failure of curvature); nil when no trial satisfies both — except when the
    /// trials run out while still doubling (a restart's first step far too short): then the
    /// longest step with sufficient decrease is taken.
    private func lineSearch(from x: Point, direction d: [Double]) -> Point? {
        let slope = zip(x.gradient, d).reduce(0) { $0 + $1.0 * $1.1 }
        var lo = 0.0, hi = Double.infinity, t = 1.0
        var atLo: Point? = nil
        for _ in 0..<settings.lineSearchSteps {
            if run.stopRequested || evaluations >= settings.maxEvaluations { return nil }
            let trial = evaluate(zip(x.mu, d).map { $0 + t * $1 })
            if let p = trial, p.value <= x.value + settings.armijo * t * slope {
                let curvature = zip(p.gradient, d).reduce(0) { $0 + $1.0 * $1.1 }
                if curvature >= settings.curvature * slope { return p }
                lo = t
                atLo = p
            } else {
                hi = t
            }
            t = hi.isFinite ? (lo + hi) / 2 : 2 * lo
            if hi.isFinite, hi - lo < 1e-14 * max(1, hi) { return nil }
        }
        return hi.isFinite ? nil : atLo
    }

    /// `start`: multipliers per group of a strictly feasible point (ECLipsE-Fast's).
    /// The descent runs in phases, each BFGS from a fresh matrix at the point the last one reached,
    /// while a phase still lowers ρ* by more than the tolerance. On deep nets the optimum lies
    /// where H(λ) is nearly singular: ρ*'s gradient there grows to 10⁸ and more in log λ, and
    /// the BFGS matrix, learnt further out, ends each phase with steps that no longer descend
    /// (release: deep_8x30 one phase 14 005, three 6 556 where csdp certifies 6 092; deep_6x60
    /// 3.13·10⁶ → 1.01·10⁶ in four; seeded 2-80×50-2 2.10·10⁹ → 9.84·10⁷). No phase follows
    /// one that ends with a small gradient (the VNN-COMP MLPs: one phase reaches the interior
    /// point's optimum there).
    func solve(start: [Double]) -> SolverResult {
        let m = lmi.groupCount
        guard start.count == m, start.allSatisfy({ $0 > 0 && $0.isFinite }), var x = evaluate(start.map { log($0) }) else {
            return SolverResult(status: .numericalTrouble, iterations: 0, seconds: run.elapsed, solver: "descent",
                                message: "the start point is not strictly feasible (H not positive definite at the given multipliers)")
        }
        let startRho = x.rho
        var iteration = 0
        var phases = 0
        // The first phase's bare gradient step is capped at `firstStep`; a restart's at the last
        // step taken (near the optimum the steps are small, and a step of e⁴ would only be
        // bisected back down, one evaluation per halving).
        var cap = settings.firstStep
        func finish(_ status: SolverStatus, _ why: String) -> SolverResult {
            let lambda = x.mu.map { exp($0) }
            let restarts = phases > 1 ? String(format: " in %d phases", phases) : ""
            return SolverResult(status: status, primalObjective: x.rho, x: [x.rho] + lambda, iterations: iteration,
                                seconds: run.elapsed, solver: "descent",
                                message: why + String(format: " (%d steps%@, %d evaluations of ρ*(λ); ρ* from %.6g to %.6g)",
                                                      iteration, restarts, evaluations, startRho, x.rho))
        }
        while true {
            phases += 1
            let before = x.value
            let (status, why) = descend(&x, firstStep: &cap, iteration: &iteration)
            // A limit reached in a restart ends the run; the first phase had converged.
            if status != .optimal, phases > 1, status != .cancelled { return finish(.optimal, "converged; a restart then ended at its \(status.rawValue) (\(why))") }
            if status != .optimal { return finish(status, why) }
            // Another phase while the gradient is not small and the last phase still helped (where
            // one phase reached the optimum, as on the VNN-COMP MLPs, ‖∇F‖∞ ends near 10⁻⁸; on
            // the deep nets it ends between 0.2 and 160).
            let stationary = (x.gradient.map(abs).max() ?? 0) <= settings.stationarity
            guard !stationary, phases < settings.maxPhases, phases == 1 || before - x.value > settings.tolerance else {
                return finish(.optimal, why)
            }
        }
    }

    /// One phase of BFGS with a weak Wolfe line search from `x` (fresh inverse Hessian), its bare
    /// gradient steps capped at `firstStep` in any log multiplier, which it leaves at its last
    /// step's size. Ends with the status `optimal` when it converged (or could not descend), else
    /// the stop's.
    private func descend(_ x: inout Point, firstStep: inout Double, iteration: inout Int) -> (SolverStatus, String) {
        let cap = firstStep
        let m = lmi.groupCount
        var inverse = identity(m)
        var scaled = false
        var history = [x.value]
        while true {
            if run.stopRequested { return (run.stopReason, "stopped") }
            var d = (0..<m).map { i in -(0..<m).reduce(0) { $0 + inverse[i * m + $1] * x.gradient[$1] } }
            if zip(d, x.gradient).reduce(0, { $0 + $1.0 * $1.1 }) >= 0 {
                inverse = identity(m)
                scaled = false
                d = x.gradient.map { -$0 }
            }
            if !scaled {
                // The bare gradient's step: at most `firstStep` in any log multiplier.
                let largest = d.map(abs).max() ?? 0
                if largest > cap { d = d.map { $0 * cap / largest } }
            }
            if (d.map(abs).max() ?? 0) == 0 { return (.optimal, "the gradient vanished") }
            guard let next = lineSearch(from: x, direction: d) else {
                if evaluations >= settings.maxEvaluations { return (.iterationLimit, "evaluation limit \(settings.maxEvaluations)") }
                if run.stopRequested { return (run.stopReason, "stopped") }
                return (.optimal, "no decrease along the quasi-Newton direction (a minimum, possibly nonsmooth)")
            }
            let s = zip(next.mu, x.mu).map { $0 - $1 }
            let y = zip(next.gradient, x.gradient).map { $0 - $1 }
            let sy = zip(s, y).reduce(0) { $0 + $1.0 * $1.1 }
            let yy = y.reduce(0) { $0 + $1 * $1 }
            if sy > 1e-16 * max(yy, 1e-300).squareRoot() * max(s.reduce(0) { $0 + $1 * $1 }, 1e-300).squareRoot() {
                if !scaled {
                    inverse = identity(m).map { $0 * sy / yy }
                    scaled = true
                }
                bfgsUpdate(&inverse, s: s, y: y, sy: sy)
            }
            x = next
            // Not floored higher: near the singular edge a restart must start as small as the last
            // step (a floor of 10⁻³·firstStep cost deep_8x30 6 556 → 13 116); the line search
            // doubles a step that is too short.
            firstStep = min(settings.firstStep, max(s.map(abs).max() ?? 0, 1e-12))
            iteration += 1
            history.append(x.value)
            run.emit(SolverIteration(iteration: iteration, elapsed: run.elapsed, primalObjective: x.rho, dualObjective: nil, relativeGap: nil))
            if history.count > settings.window, history[history.count - 1 - settings.window] - x.value <= settings.tolerance {
                return (.optimal, "ρ* fell by less than \(settings.tolerance) (relative) over \(settings.window) steps")
            }
            if evaluations >= settings.maxEvaluations { return (.iterationLimit, "evaluation limit \(settings.maxEvaluations)") }
        }
    }

    private func identity(_ m: Int) -> [Double] {
        var a = [Double](repeating: 0, count: m * m)
        for i in 0..<m { a[i * m + i] = 1 }
        return a
    }

    /// H ← (I − ρsyᵀ)H(I − ρysᵀ) + ρssᵀ, ρ = 1/yᵀs (the inverse-Hessian BFGS update).
    private func bfgsUpdate(_ h: inout [Double], s: [Double], y: [Double], sy: Double) {
        let m = s.count, rho = 1 / sy
        let hy = (0..<m).map { i in (0..<m).reduce(0) { $0 + h[i * m + $1] * y[$1] } }
        let yhy = zip(y, hy).reduce(0) { $0 + $1.0 * $1.1 }
        for i in 0..<m {
            for j in 0..<m {
                h[i * m + j] += -rho * (hy[i] * s[j] + s[i] * hy[j]) + (rho * rho * yhy + rho) * s[i] * s[j]
            }
        }
    }
}
