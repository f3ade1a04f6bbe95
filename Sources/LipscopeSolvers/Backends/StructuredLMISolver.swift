import CLapack
import Foundation
import LipscopeLinearAlgebra

/// The `structured` backend: a barrier interior-point method written for `RankTwoLMI` (the
/// LipSDP LMI family). It minimizes t·ρ − log det S(ρ, λ) − Σ log λ_g by damped Newton steps and
/// raises t, from a strictly feasible start (ECLipsE's multipliers), so every iterate is strictly
/// inside the LMI and the final point goes straight to the Cholesky certificate. Why it beats the
/// general solvers here: the Newton matrix of the multipliers,
///     H_ij = tr(S⁻¹Fᵢ S⁻¹Fⱼ) = ⟨Dᵢ Zᵢⱼ Dⱼ, Zᵢⱼ⟩,  Zᵢⱼ = [aᵢ bᵢ]ᵀ S⁻¹ [aⱼ bⱼ],
/// comes from one dense S⁻¹ (LAPACK dpotrf + dpotri) and one product of S⁻¹ with the layer
/// weights per band (BLAS-3), instead of DSDP's/csdp's per-constraint assembly.
/// The gap reported is the central-path estimate ν/t (ν = dimension + multipliers), checked only
/// at points with Newton decrement² ≤ ½. General SDPs are refused (`supports` is false).
public struct StructuredLMISolver: Solver {
    public let name = "structured"

    public init() {}

    public func supports(_ problem: ConicProblem) -> Bool { false }

    public func solve(_ problem: ConicProblem, options: SolverOptions, control: SolverControl) throws(SolverError) -> SolverResult {
        throw SolverError(solver: name, message: "the structured backend solves the LipSDP LMI family only (lipsdp-neuron, lipsdp-layer); use dsdp or csdp for a general SDP")
    }

    /// Solves `lmi` from the strictly feasible point (ρ, λ per group) `start`. x of the result is
    /// [ρ, λ_0, …, λ_{G−1}]; primal objective ρ, dual objective ρ − ν/t (an estimate).
    public func solve(_ lmi: RankTwoLMI, startRho: Double, startMultipliers: [Double], options: SolverOptions,
                      control: SolverControl) throws(SolverError) -> SolverResult {
        if let why = lmi.validate() { throw SolverError(solver: name, message: "invalid LMI: \(why)") }
        guard startMultipliers.count == lmi.groupCount, startRho.isFinite, startRho > 0,
              startMultipliers.allSatisfy({ $0.isFinite && $0 >= 0 }) else {
            throw SolverError(solver: name, message: "the start point must have ρ > 0 and \(lmi.groupCount) finite multipliers ≥ 0")
        }
        let name = self.name
        return SolveRun.run(solverName: name, options: options, control: control) { run in
            let barrier = StructuredBarrier(lmi: lmi, run: run)
            return barrier.solve(rho: startRho, multipliers: startMultipliers)
        }
    }
}

/// The barrier method's state and linear algebra (column-major buffers throughout).
final class StructuredBarrier {
    let lmi: RankTwoLMI
    let run: SolveRun
    let r: Int, n: Int, dim: Int, groups: Int
    /// −CᵀC (full dim × dim).
    var constant: [Double]
    /// Largest |weight| scale, for the λ floor.
    init(lmi: RankTwoLMI, run: SolveRun) {
        self.lmi = lmi
        self.run = run
        r = lmi.inputCount
        n = lmi.neuronCount
        dim = lmi.dimension
        groups = lmi.groupCount
        constant = [Double](repeating: 0, count: dim * dim)
        let c = lmi.output.weights
        if c.rows > 0, c.columns > 0 {
            let w = c.columns, c0 = lmi.output.columnStart, d = dim
            constant.withUnsafeMutableBufferPointer { s in
                cblas_dgemm(CblasColMajor, CblasTrans, CblasNoTrans, Int32(w), Int32(w), Int32(c.rows),
                            -1.0, c.storage, Int32(c.rows), c.storage, Int32(c.rows), 0.0,
                            s.baseAddress! + c0 + c0 * d, Int32(d))
            }
        }
    }

    /// S(y) with y = [ρ, λ per group].
    func assemble(_ y: [Double]) -> [Double] {
        var s = constant
        let d = dim
        s.withUnsafeMutableBufferPointer { buf in
            let m = buf.baseAddress!
            for j in 0..<r { m[j + j * d] += y[0] }
            for band in lmi.bands {
                let w = band.weights, rows = w.rows, cols = w.columns, c0 = band.columnStart
                var scaled = w.storage
                var any = false
                for i in 0..<rows {
                    let ni = band.firstRow + i
                    let coef = lmi.p[ni] * y[1 + lmi.group[ni]]
                    if coef != 0 { any = true }
                    for k in 0..<cols { scaled[i + k * rows] *= coef }
                }
                if any {
                    cblas_dgemm(CblasColMajor, CblasTrans, CblasNoTrans, Int32(cols), Int32(cols), Int32(rows),
                                1.0, w.storage, Int32(rows), scaled, Int32(rows), 1.0, m + c0 + c0 * d, Int32(d))
                }
                for i in 0..<rows {
                    let ni = band.firstRow + i
                    let lambda = y[1 + lmi.group[ni]]
                    let coef = lmi.q[ni] * lambda
                    let row = r + ni
                    if coef != 0 {
                        for k in 0..<cols {
                            let v = coef * w.storage[i + k * rows]
                            m[(c0 + k) + row * d] += v
                            m[row + (c0 + k) * d] += v
                        }
                    }
                    m[row + row * d] += lmi.s[ni] * lambda
                }
            }
        }
        return s
    }

    /// The lower Cholesky factor of S(y) (upper triangle garbage) and log det S, or nil when S is
    /// not numerically positive definite or a multiplier is not positive.
    func factor(_ y: [Double]) -> (l: [Double], logDet: Double)? {
        guard y[0] > 0, y.dropFirst().allSatisfy({ $0 > 0 }) else { return nil }
        var s = assemble(y)
        let info = LAPACKE_dpotrf(LAPACK_COL_MAJOR, CChar(UInt8(ascii: "L")), Int32(dim), &s, Int32(dim))
        guard info == 0 else { return nil }
        var logDet = 0.0
        for i in 0..<dim { logDet += log(s[i + i * dim]) }
        return (s, 2 * logDet)
    }

    /// Barrier value t·ρ − log det S − Σ log λ.
    func barrier(_ y: [Double], t: Double, logDet: Double) -> Double {
        var v = t * y[0] - logDet
        for g in 0..<groups { v -= log(y[1 + g]) }
        return v
    }

    /// Hessian H (G+1)² and gradient of −log det S − Σ log λ at the point with factor `l`.
    func newtonSystem(_ y: [Double], factor l: [Double]) -> (h: [Double], g: [Double])? {
        let d = dim, m = groups + 1
        var t = l
        guard LAPACKE_dpotri(LAPACK_COL_MAJOR, CChar(UInt8(ascii: "L")), Int32(d), &t, Int32(d)) == 0 else { return nil }
        for j in 0..<d { for i in 0..<j { t[i + j * d] = t[j + i * d] } }
        if run.stopRequested { return nil }
        // TA = S⁻¹ A (column i = S⁻¹aᵢ), then Zaa = Aᵀ S⁻¹ A, band by band.
        var ta = [Double](repeating: 0, count: d * n)
        var zaa = [Double](repeating: 0, count: n * n)
        t.withUnsafeBufferPointer { tb in
            ta.withUnsafeMutableBufferPointer { tab in
                for band in lmi.bands {
                    let w = band.weights
                    cblas_dgemm(CblasColMajor, CblasNoTrans, CblasTrans, Int32(d), Int32(w.rows), Int32(w.columns),
                                1.0, tb.baseAddress! + band.columnStart * d, Int32(d), w.storage, Int32(w.rows),
                                0.0, tab.baseAddress! + band.firstRow * d, Int32(d))
                }
            }
        }
        if run.stopRequested { return nil }
        ta.withUnsafeBufferPointer { tab in
            zaa.withUnsafeMutableBufferPointer { zb in
                for band in lmi.bands {
                    let w = band.weights
                    cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, Int32(w.rows), Int32(n), Int32(w.columns),
                                1.0, w.storage, Int32(w.rows), tab.baseAddress! + band.columnStart, Int32(d),
                                0.0, zb.baseAddress! + band.firstRow, Int32(n))
                }
            }
        }
        if run.stopRequested { return nil }
        // zba[i + j n] = bᵢᵀ S⁻¹ aⱼ = TA[r+i, j]; zab = its transpose.
        var zba = [Double](repeating: 0, count: n * n)
        for j in 0..<n { for i in 0..<n { zba[i + j * n] = ta[(r + i) + j * d] } }
        let p = lmi.p, q = lmi.q, s = lmi.s
        var hn = [Double](repeating: 0, count: n * n)
        var gn = [Double](repeating: 0, count: n)
        t.withUnsafeBufferPointer { tb in
            zaa.withUnsafeBufferPointer { za in
                zba.withUnsafeBufferPointer { zb in
                    hn.withUnsafeMutableBufferPointer { hb in
                        for j in 0..<n {
                            let pj = p[j], qj = q[j], sj = s[j]
                            let tcol = tb.baseAddress! + r + (r + j) * d
                            for i in j..<n {
                                let zaaV = za[i + j * n], zbaV = zb[i + j * n], zabV = zb[j + i * n], zbbV = tcol[i]
                                let pi = p[i], qi = q[i], si = s[i]
                                let a00 = pi * zaaV + qi * zbaV, a01 = pi * zabV + qi * zbbV
                                let a10 = qi * zaaV + si * zbaV, a11 = qi * zabV + si * zbbV
                                let y00 = a00 * pj + a01 * qj, y01 = a00 * qj + a01 * sj
                                let y10 = a10 * pj + a11 * qj, y11 = a10 * qj + a11 * sj
                                let v = y00 * zaaV + y01 * zabV + y10 * zbaV + y11 * zbbV
                                hb[i + j * n] = v
                                hb[j + i * n] = v
                            }
                            gn[j] = -(pj * za[j + j * n] + 2 * qj * zb[j + j * n] + sj * tcol[j])
                        }
                    }
                }
            }
        }
        if run.stopRequested { return nil }
        // Assemble over groups, with ρ first (its matrix is the identity on the input block).
        var h = [Double](repeating: 0, count: m * m)
        var g = [Double](repeating: 0, count: m)
        for j in 0..<n {
            let gj = 1 + lmi.group[j]
            g[gj] += gn[j]
            for i in 0..<n { h[(1 + lmi.group[i]) + gj * m] += hn[i + j * n] }
        }
        var hrr = 0.0, trace = 0.0
        for k in 0..<r {
            trace += t[k + k * d]
            for j in 0..<r { hrr += t[j + k * d] * t[j + k * d] }
        }
        h[0] = hrr
        g[0] = -trace
        for i in 0..<n {
            var uu = 0.0, uv = 0.0, vv = 0.0
            for k in 0..<r {
                let u = ta[k + i * d], v = t[k + (r + i) * d]
                uu += u * u; uv += u * v; vv += v * v
            }
            let value = p[i] * uu + 2 * q[i] * uv + s[i] * vv
            let gi = 1 + lmi.group[i]
            h[gi] += value
            h[gi * m] += value
        }
        for gIndex in 0..<groups {
            let lambda = y[1 + gIndex]
            h[(1 + gIndex) * (m + 1)] += 1 / (lambda * lambda)
            g[1 + gIndex] -= 1 / lambda
        }
        return (h, g)
    }

    /// Solves H x = b for the columns of b (m × k) by Cholesky, with growing diagonal
    /// regularization when H is numerically singular.
    func solveNewton(_ h: [Double], _ b: [Double], columns k: Int) -> [Double]? {
        let m = groups + 1
        var maxDiag = 0.0
        for i in 0..<m { maxDiag = max(maxDiag, abs(h[i * (m + 1)])) }
        for shift in [0.0, 1e-14, 1e-12, 1e-10] {
            var a = h
            if shift > 0 { for i in 0..<m { a[i * (m + 1)] += shift * maxDiag } }
            var x = b
            if LAPACKE_dposv(LAPACK_COL_MAJOR, CChar(UInt8(ascii: "L")), Int32(m), Int32(k), &a, Int32(m), &x, Int32(m)) == 0,
               x.allSatisfy(\.isFinite) {
                return x
            }
        }
        return nil
    }

    func solve(rho: Double, multipliers: [Double]) -> SolverResult {
        let m = groups + 1
        let nu = Double(dim + groups)
        let tolerance = run.options.relativeGapTolerance ?? 1e-8
        let maxIterations = run.options.maxIterations ?? 300
        func finish(_ status: SolverStatus, _ y: [Double], _ t: Double, _ iterations: Int, _ message: String) -> SolverResult {
            SolverResult(status: status, primalObjective: y[0], dualObjective: t > 0 ? y[0] - nu / t : nil, x: y,
                         iterations: iterations, seconds: run.elapsed, solver: "structured", message: message)
        }
        // Start: λ floored to a small positive value, ρ raised until S ≻ 0.
        // A floor far from 0 keeps the first steps long (a multiplier at 1e-9 of the largest needs
        // dozens of fraction-to-boundary steps to grow); the smaller floors are the fallbacks.
        let top = multipliers.max() ?? 0
        var y = [rho] + multipliers
        var current: (l: [Double], logDet: Double)? = nil
        for floor in [1e-3, 1e-6, 1e-9] {
            let trial = [rho * (1 + 1e-6)] + multipliers.map { max($0, top > 0 ? top * floor : floor) }
            if let f = factor(trial) { y = trial; current = f; break }
            y = trial
        }
        var raises = 0
        while current == nil, raises < 40 {
            if run.stopRequested { return finish(run.stopReason, y, 0, 0, "stopped") }
            y[0] *= raises < 10 ? 1.01 : 2
            raises += 1
            current = factor(y)
        }
        guard var (l, logDet) = current else {
            return SolverResult(status: .numericalTrouble, x: [], iterations: 0, seconds: run.elapsed, solver: "structured",
                                message: "the start point is not strictly feasible (S ≻ 0 fails even with ρ raised 40 times)")
        }
        var t = 0.0
        var iteration = 0
        var stalls = 0
        while iteration < maxIterations {
            if run.stopRequested { return finish(run.stopReason, y, t, iteration, "stopped") }
            guard let (h, gb) = newtonSystem(y, factor: l) else {
                if run.stopRequested { return finish(run.stopReason, y, t, iteration, "stopped") }
                return finish(.numericalTrouble, y, t, iteration, "S⁻¹ failed")
            }
            var c = [Double](repeating: 0, count: m)
            c[0] = 1
            guard let sol = solveNewton(h, c + gb, columns: 2) else {
                return finish(.numericalTrouble, y, t, iteration, "the Newton matrix is singular")
            }
            let hc = Array(sol[0..<m]), hg = Array(sol[m..<(2 * m)])
            var chc = 0.0, chg = 0.0, ghg = 0.0
            for i in 0..<m { chc += c[i] * hc[i]; chg += c[i] * hg[i]; ghg += gb[i] * hg[i] }
            func decrement(_ t: Double) -> Double { t * t * chc + 2 * t * chg + ghg }
            if t == 0 {
                // The t closest to centred at the start point.
                t = chc > 0 ? max(-chg / chc, nu / y[0] * 1e-3) : nu / y[0]
            }
            // Centred enough: stop, or raise t.
            if decrement(t) <= 0.5 {
                if nu / t <= tolerance * y[0] {
                    return finish(.optimal, y, t, iteration, "relative gap estimate \(nu / t / y[0])")
                }
                t = min(t * 10, nu / (tolerance * y[0]) * 1.0001)
            }
            let delta2 = max(decrement(t), 0)
            var step = (0..<m).map { -(t * hc[$0] + hg[$0]) }
            // Largest step keeping λ > 0 (and ρ > 0), then backtracking on the barrier.
            var alpha = 1.0
            for i in 0..<m where step[i] < 0 { alpha = min(alpha, -0.99 * y[i] / step[i]) }
            let phi = barrier(y, t: t, logDet: logDet)
            var accepted = false
            for _ in 0..<40 {
                if run.stopRequested { return finish(run.stopReason, y, t, iteration, "stopped") }
                let trial = (0..<m).map { y[$0] + alpha * step[$0] }
                if let f = factor(trial) {
                    let phiTrial = barrier(trial, t: t, logDet: f.logDet)
                    if phiTrial <= phi - 0.1 * alpha * delta2 || (delta2 < 1e-10 && phiTrial <= phi + 1e-12 * abs(phi)) {
                        y = trial
                        (l, logDet) = f
                        accepted = true
                        break
                    }
                }
                alpha *= 0.5
            }
            iteration += 1
            if !accepted {
                stalls += 1
                // Rounding limits progress near the boundary: accept the point if the gap is small.
                if nu / t <= 100 * tolerance * y[0] || stalls > 2 {
                    return finish(nu / t <= 1e-5 * y[0] ? .optimal : .numericalTrouble, y, t, iteration,
                                  "line search failed at relative gap estimate \(nu / t / y[0])")
                }
                step = []
                continue
            }
            run.emit(SolverIteration(iteration: iteration, elapsed: run.elapsed, primalObjective: y[0],
                                     dualObjective: y[0] - nu / t, relativeGap: nu / t / y[0], mu: 1 / t,
                                     primalStep: alpha))
        }
        return finish(.iterationLimit, y, t, iteration, "iteration limit \(maxIterations)")
    }
}
