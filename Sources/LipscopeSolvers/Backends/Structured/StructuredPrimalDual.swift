import CLapack
import Foundation
import LipscopeLinearAlgebra

/// Tunables of the primal–dual method.
struct PrimalDualSettings {
    var maxIterations = 100
    /// Fraction of the largest feasible step taken.
    var stepFraction = 0.95
    /// Lanczos steps of the step-length estimates: the corrector's step is taken, the predictor's
    /// only sets σ (Mehrotra's (gap after the predictor / gap)³), so a rougher estimate does.
    var lanczosSteps = 30
    var predictorLanczosSteps = 20
    /// Relative gap and infeasibility at which the run stops (DSDP's default too): ERAN 9×200 took
    /// 8 more iterations (12 s) to crawl from 6e-8 to 1e-8, for digits √ρ does not show.
    var tolerance = 1e-7
    /// The start point is c·(ρ, λ) of the given feasible point: S(c·y) = c·S(y) + (c − 1)·CᵀC
    /// has slack also along CᵀC, where ECLipsE's point is tight.
    var startScale = 2.0
    /// X₀ = μ₀S⁻¹, z₀ = μ₀/λ with μ₀ this factor over tr((S⁻¹)_rr) (the value making X₀'s ρ
    /// constraint exact); a larger X₀ keeps the first steps long.
    var startMuFactor = 100.0
    /// Give up (and let the caller fall back to a general solver) when this many iterations in a
    /// row take steps below `shortStep` in both X and y …
    var shortStepLimit = 5
    var shortStep = 1e-3
    /// … or when, from iteration `progressStart` on, a window of `progressWindow` iterations
    /// does not halve the relative gap: a healthy run cuts it by orders of magnitude per window,
    /// and a run that crawls would only delay the fallback (measured: 256x4 stalled for 186 s,
    /// 9×200 for over 300 s before the iteration limit).
    var progressStart = 15
    var progressWindow = 10
}

/// A primal–dual interior-point method (HKM direction, Mehrotra predictor–corrector) for
/// `RankTwoLMI`, in the LMI's own form
///     minimize bᵀy = ρ  s.t.  S = A(y) − CᵀC ⪰ 0,  λ ≥ 0          (y = [ρ, λ_g])
/// with its dual  maximize ⟨CᵀC, X⟩  s.t.  A*(X) + [0; z] = b,  X ⪰ 0,  z ≥ 0.
/// y stays strictly feasible (S is assembled from y and factored at every iterate, so any
/// iterate can go to the Cholesky certificate); X, z start infeasible on the central path
/// (X = μS⁻¹, z = μ/λ) and become feasible with full steps. One iteration:
///     (M + diag(z/λ)) dy = σμ(A*(S⁻¹) + [0; 1/λ]) − b − A*(sym(dXₐ dSₐ S⁻¹)) − [0; dzₐ dλₐ/λ],
///     dS = A(dy),  dX = σμS⁻¹ − X − sym((X dS + dXₐ dSₐ) S⁻¹),  dz = (σμ − dzₐdλₐ)/λ − z − (z/λ) dλ,
/// with M_kl = tr(A_k X A_l S⁻¹) (`RankTwoOperators.schur`) factored once for the predictor
/// (σ = 0, no second-order terms) and the corrector.
final class StructuredPrimalDual {
    let ops: RankTwoOperators
    let run: SolveRun
    let settings: PrimalDualSettings

    init(lmi: RankTwoLMI, run: SolveRun, settings: PrimalDualSettings = PrimalDualSettings()) {
        ops = RankTwoOperators(lmi: lmi)
        self.run = run
        self.settings = settings
    }

    private var stop: () -> Bool { { [run] in run.stopRequested } }

    /// sym(W) = (W + Wᵀ)/2 in place.
    private func symmetrize(_ w: inout [Double], _ d: Int) {
        for j in 0..<d {
            for i in 0..<j {
                let v = 0.5 * (w[i + j * d] + w[j + i * d])
                w[i + j * d] = v
                w[j + i * d] = v
            }
        }
    }

    /// Largest step ≤ 1 keeping V + α dV ≻ 0 (V = LLᵀ), by the Lanczos estimate.
    private func coneStep(_ l: [Double], _ dv: [Double], steps: Int) -> Double {
        let lambda = StepLength.smallestEigenvalue(factor: l, direction: dv, dimension: ops.dim, steps: steps)
        return lambda < 0 ? -1 / lambda : .infinity
    }

    func solve(rho: Double, multipliers: [Double]) -> SolverResult {
        let d = ops.dim, groups = ops.groups, m = groups + 1, r = ops.r
        let nu = Double(d + groups)
        let tolerance = run.options.relativeGapTolerance ?? settings.tolerance
        let maxIterations = run.options.maxIterations ?? settings.maxIterations
        var b = [Double](repeating: 0, count: m)
        b[0] = 1
        guard let start = ops.strictlyFeasibleStart(rho: rho, multipliers: multipliers, scale: settings.startScale, stop: stop),
              r > 0 else {
            if run.stopRequested { return result(run.stopReason, [rho] + multipliers, nil, 0, "stopped") }
            return SolverResult(status: .numericalTrouble, x: [], iterations: 0, seconds: run.elapsed, solver: "structured",
                                message: "the start point is not strictly feasible (S ≻ 0 fails even with ρ raised 40 times)")
        }
        var y = start.y
        var lS = start.factor
        var sMat = ops.assemble(y)
        guard var t = DenseSym.inverse(fromCholesky: lS, d) else {
            return result(.numericalTrouble, y, nil, 0, "S⁻¹ failed at the start")
        }
        var traceRR = 0.0
        for k in 0..<r { traceRR += t[k + k * d] }
        let mu0 = 1 / traceRR * settings.startMuFactor
        var x = t.map { $0 * mu0 }
        var z = (0..<groups).map { mu0 / y[1 + $0] }
        guard var lX = DenseSym.cholesky(x, d) else { return result(.numericalTrouble, y, nil, 0, "X₀ is not positive definite") }
        var lastDual: Double? = nil
        var iteration = 0
        var stalls = 0
        var shortSteps = 0
        var gaps: [Double] = []
        while true {
            if run.stopRequested { return result(run.stopReason, y, lastDual, iteration, "stopped") }
            let xa = ops.timesRows(x)
            if run.stopRequested { return result(run.stopReason, y, lastDual, iteration, "stopped") }
            let ta = ops.timesRows(t)
            let aX = ops.adjoint(x, xa), aT = ops.adjoint(t, ta)
            var residual = [Double](repeating: 0, count: m)
            for k in 0..<m { residual[k] = b[k] - aX[k] - (k > 0 ? z[k - 1] : 0) }
            let lambda = Array(y[1...])
            var comp = DenseSym.dot(x, sMat)
            for g in 0..<groups { comp += z[g] * lambda[g] }
            let mu = comp / nu
            let dualObjective = -DenseSym.dot(ops.constant, x)
            lastDual = dualObjective
            let scale = max(abs(y[0]), 1e-300)
            let gap = comp / scale
            let infeasibility = residual.map(abs).max() ?? 0
            if gap <= tolerance, infeasibility <= tolerance {
                return result(.optimal, y, dualObjective, iteration, "relative gap \(gap), infeasibility \(infeasibility)")
            }
            if iteration >= maxIterations {
                return result(.iterationLimit, y, dualObjective, iteration, "iteration limit \(maxIterations) (gap \(gap), infeasibility \(infeasibility))")
            }
            gaps.append(gap)
            if iteration >= settings.progressStart, gaps.count > settings.progressWindow,
               gap > 0.5 * gaps[gaps.count - 1 - settings.progressWindow] {
                return result(.numericalTrouble, y, dualObjective, iteration,
                              "no progress: relative gap \(gap) after \(iteration) iterations (was \(gaps[gaps.count - 1 - settings.progressWindow]) \(settings.progressWindow) iterations earlier)")
            }
            if run.stopRequested { return result(run.stopReason, y, lastDual, iteration, "stopped") }
            guard var h = ops.schur(x: x, xa: xa, t: t, ta: ta, stop: stop) else {
                return result(run.stopReason, y, lastDual, iteration, "stopped")
            }
            for g in 0..<groups { h[(1 + g) * (m + 1)] += z[g] / lambda[g] }
            guard let lM = SchurSystem.factor(h, m) else {
                return result(gap <= 1e-6 ? .optimal : .numericalTrouble, y, dualObjective, iteration,
                              "the Schur matrix is singular at gap \(gap)")
            }
            // Predictor.
            guard let dyA = SchurSystem.solve(lM, b.map { -$0 }) else {
                return result(.numericalTrouble, y, dualObjective, iteration, "predictor solve failed")
            }
            let dSA = ops.assemble(dyA, linear: true)
            let xdS = ops.timesDirection(x, xa, dyA)
            guard var dXA = DenseSym.multiply(xdS, t, d, stop: stop) else {
                return result(run.stopReason, y, lastDual, iteration, "stopped")
            }
            symmetrize(&dXA, d)
            for i in 0..<(d * d) { dXA[i] = -x[i] - dXA[i] }
            var dzA = [Double](repeating: 0, count: groups)
            for g in 0..<groups { dzA[g] = -z[g] - z[g] / lambda[g] * dyA[1 + g] }
            let dlA = Array(dyA[1...])
            let apA = min(1, coneStep(lX, dXA, steps: settings.predictorLanczosSteps), StepLength.positive(z, dzA))
            let adA = min(1, coneStep(lS, dSA, steps: settings.predictorLanczosSteps), StepLength.positive(lambda, dlA))
            var compA = DenseSym.dot(x, sMat) + adA * DenseSym.dot(x, dSA) + apA * DenseSym.dot(dXA, sMat)
                + apA * adA * DenseSym.dot(dXA, dSA)
            for g in 0..<groups { compA += (z[g] + apA * dzA[g]) * (lambda[g] + adA * dlA[g]) }
            let sigma = min(1, max(0, pow(max(compA, 0) / comp, 3)))
            if run.stopRequested { return result(run.stopReason, y, lastDual, iteration, "stopped") }
            // Corrector: second-order term G = dXₐ dSₐ and A*(sym(G S⁻¹)) (`correctorAdjoint`).
            let dXAa = ops.timesRows(dXA)
            let gTerm = ops.timesDirection(dXA, dXAa, dyA)
            let corr = ops.correctorAdjoint(dx: dXA, dxa: dXAa, tdS: ops.timesDirection(t, ta, dyA))
            let target = sigma * mu
            var rhs = [Double](repeating: 0, count: m)
            rhs[0] = target * aT[0] - b[0] - corr[0]
            for g in 0..<groups {
                rhs[1 + g] = target * (aT[1 + g] + 1 / lambda[g]) - b[1 + g] - corr[1 + g] - dzA[g] * dlA[g] / lambda[g]
            }
            guard let dy = SchurSystem.solve(lM, rhs) else {
                return result(.numericalTrouble, y, dualObjective, iteration, "corrector solve failed")
            }
            let dS = ops.assemble(dy, linear: true)
            var xdS2 = ops.timesDirection(x, xa, dy)
            for i in 0..<(d * d) { xdS2[i] += gTerm[i] }
            guard var dX = DenseSym.multiply(xdS2, t, d, stop: stop) else { return result(run.stopReason, y, lastDual, iteration, "stopped") }
            symmetrize(&dX, d)
            for i in 0..<(d * d) { dX[i] = target * t[i] - x[i] - dX[i] }
            var dz = [Double](repeating: 0, count: groups)
            for g in 0..<groups {
                dz[g] = (target - dzA[g] * dlA[g]) / lambda[g] - z[g] - z[g] / lambda[g] * dy[1 + g]
            }
            let dl = Array(dy[1...])
            let gamma = settings.stepFraction
            var ap = min(1, gamma * coneStep(lX, dX, steps: settings.lanczosSteps), gamma * StepLength.positive(z, dz))
            var ad = min(1, gamma * coneStep(lS, dS, steps: settings.lanczosSteps), gamma * StepLength.positive(lambda, dl))
            if run.stopRequested { return result(run.stopReason, y, lastDual, iteration, "stopped") }
            // Verify both steps by Cholesky (the Lanczos estimate may overshoot).
            var newX: [Double] = [], newLX: [Double]? = nil
            for _ in 0..<30 {
                newX = (0..<(d * d)).map { x[$0] + ap * dX[$0] }
                if let f = DenseSym.cholesky(newX, d) { newLX = f; break }
                ap *= 0.8
            }
            var newY: [Double] = [], newS: [Double] = [], newLS: [Double]? = nil
            for _ in 0..<30 {
                newY = (0..<m).map { y[$0] + ad * dy[$0] }
                if newY.dropFirst().allSatisfy({ $0 > 0 }) {
                    newS = ops.assemble(newY)
                    if let f = DenseSym.cholesky(newS, d) { newLS = f; break }
                }
                ad *= 0.8
            }
            guard let nlx = newLX, let nls = newLS, let newT = DenseSym.inverse(fromCholesky: nls, d) else {
                return result(gap <= 1e-6 ? .optimal : .numericalTrouble, y, dualObjective, iteration,
                              "no positive definite step at gap \(gap), infeasibility \(infeasibility)")
            }
            x = newX; lX = nlx
            for g in 0..<groups { z[g] += ap * dz[g] }
            y = newY; sMat = newS; lS = nls; t = newT
            iteration += 1
            stalls = (ap < 1e-6 && ad < 1e-6) ? stalls + 1 : 0
            shortSteps = (ap < settings.shortStep && ad < settings.shortStep) ? shortSteps + 1 : 0
            run.emit(SolverIteration(iteration: iteration, elapsed: run.elapsed, primalObjective: y[0],
                                     dualObjective: dualObjective, relativeGap: gap, primalInfeasibility: infeasibility,
                                     mu: mu, primalStep: ap, dualStep: ad))
            if shortSteps >= settings.shortStepLimit, gap > 1e-6 {
                return result(.numericalTrouble, y, dualObjective, iteration,
                              "\(shortSteps) steps in a row below \(settings.shortStep) at gap \(gap)")
            }
            if stalls >= 3 {
                return result(gap <= 1e-6 ? .optimal : .numericalTrouble, y, dualObjective, iteration,
                              "steps stalled at gap \(gap), infeasibility \(infeasibility)")
            }
        }
    }

    private func result(_ status: SolverStatus, _ y: [Double], _ dual: Double?, _ iterations: Int, _ message: String) -> SolverResult {
        return SolverResult(status: status, primalObjective: y[0], dualObjective: dual, x: y, iterations: iterations,
                     seconds: run.elapsed, solver: "structured", message: message)
    }
}
