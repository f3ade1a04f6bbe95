import Foundation
import LipscopeLinearAlgebra
import LipscopeSolvers

/// A primal–dual interior point written for the moment SDP (`MomentSDP`): infeasible start,
/// HKM direction, Mehrotra predictor–corrector. It solves the same problem as DSDP and csdp,
///     minimize cᵀy  subject to  Z = A₀ + Σᵢ yᵢ Aᵢ ⪰ 0   (y = moments, Z = the moment and
///     localizing matrices)      and its dual  max −⟨A₀, X⟩, ⟨Aᵢ, X⟩ = cᵢ, X ⪰ 0,
/// and returns X for the unchanged certificate (`MomentSDP.certify`).
///
/// Why not DSDP/csdp: the Schur complement Bᵢⱼ = tr(Aᵢ X Aⱼ Z⁻¹) (one row per moment) is
/// where the time goes, and it has a structure they do not see. A moment is either private to
/// one clique (it contains that clique's own variable) or shared; private moments of two
/// cliques never meet in a block, so B is block-arrow: dense blocks Dₖ for the private moments of
/// clique k, a dense block S for the shared ones, and couplings Eₖ between them. Its
/// factorization (Dₖ = LₖLₖᵀ, Wₖ = EₖLₖ⁻ᵀ, S − Σ WₖWₖᵀ = LₛLₛᵀ) costs Σ pₖ³/3 + Σ s²pₖ + s³/3
/// instead of m³/3 (small_relu_2, sparse, r = 2: 4.2 instead of 10.7 GFlop). B is assembled per
/// block from Gᵢ = Z⁻¹AᵢX (n⁴ per block of size n) with the 0/1 structure of the moment
/// matrices, not through a general sparse-matrix path.
struct MomentIPM {
    struct Settings {
        var gapTolerance = 1e-9
        var feasibilityTolerance = 1e-10
        var maxIterations = 80
        /// A stop on numerical trouble still counts as solved at this relative gap (and feasibility).
        var acceptedGap = 1e-6
    }

    /// One dense block: its size, the entries of A₀ and, per moment touching it, the upper
    /// triangle entries (p ≤ q) of Aᵢ.
    struct DenseBlock {
        var n: Int
        var constant: [(p: Int, q: Int, v: Double)] = []
        var variables: [Int] = []
        var start: [Int] = [0]
        var p: [Int] = [], q: [Int] = [], v: [Double] = []
        /// Per entry: column-major positions of (p, q) and (q, p), and v (halved on the
        /// diagonal), so Σ over Aⱼ's entries of w (G[p,q] + G[q,p]) needs no branch.
        var pos: [Int] = [], posT: [Int] = [], half: [Double] = []
        /// Per variable: shared (else private to `group`) and its index in its Schur block.
        var shared: [Bool] = [], local: [Int] = []
        /// The group of the block's private moments (nil when it has none).
        var group: Int? = nil
    }

    /// The scalar (LP) rows: z_r = a₀ᵣ + Σ aᵣᵢ yᵢ ≥ 0.
    struct ScalarRow {
        var constant = 0.0
        var variables: [Int] = []
        var values: [Double] = []
    }

    let m: Int
    var dense: [DenseBlock] = []
    /// For each dense block, its index among `MomentSDP.blocks`; the scalar block's index.
    var denseBlockIndex: [Int] = []
    var scalarBlockIndex: Int? = nil
    var scalars: [ScalarRow] = []
    let schur: ArrowLayout

    init(_ sdp: MomentSDP) {
        m = sdp.moments
        var perBlock: [[MomentSDP.Entry]] = Array(repeating: [], count: sdp.blocks.count)
        for e in sdp.entries { perBlock[Int(e.block)].append(e) }
        for (b, blk) in sdp.blocks.enumerated() {
            if blk.isDiagonal {
                scalarBlockIndex = b
                var rows = [ScalarRow](repeating: ScalarRow(), count: blk.size)
                for e in perBlock[b] {
                    if e.moment < 0 { rows[Int(e.row)].constant += e.value } else {
                        rows[Int(e.row)].variables.append(Int(e.moment)); rows[Int(e.row)].values.append(e.value)
                    }
                }
                scalars = rows
                continue
            }
            var d = DenseBlock(n: blk.size)
            let sorted = perBlock[b].sorted { $0.moment < $1.moment }
            for e in sorted {
                if e.moment < 0 { d.constant.append((Int(e.row), Int(e.col), e.value)); continue }
                if d.variables.last != Int(e.moment) {
                    if !d.variables.isEmpty { d.start.append(d.p.count) }
                    d.variables.append(Int(e.moment))
                }
                d.p.append(Int(e.row)); d.q.append(Int(e.col)); d.v.append(e.value)
            }
            d.start.append(d.p.count)
            if d.variables.isEmpty { d.start = [0] }
            for e in 0..<d.p.count {
                let p = d.p[e], q = d.q[e]
                d.pos.append(p + q * d.n); d.posT.append(q + p * d.n); d.half.append(p == q ? d.v[e] / 2 : d.v[e])
            }
            dense.append(d)
            denseBlockIndex.append(b)
        }
        let layout = ArrowLayout(moments: sdp.moments, groups: sdp.momentGroups())
        let sharedGroup = layout.sizes.count
        for k in dense.indices {
            // Private moments first, then shared, each by Schur index: the stored (lower,
            // shared-row) part of the block's Schur rows is then b ≤ a in this order.
            let old = dense[k]
            let order = old.variables.indices.sorted {
                let a = old.variables[$0], b = old.variables[$1]
                let ka = (layout.group[a] == sharedGroup ? 1 : 0, layout.local[a])
                let kb = (layout.group[b] == sharedGroup ? 1 : 0, layout.local[b])
                return ka < kb
            }
            var d = DenseBlock(n: old.n)
            d.constant = old.constant
            for a in order {
                d.variables.append(old.variables[a])
                for e in old.start[a]..<old.start[a + 1] {
                    d.p.append(old.p[e]); d.q.append(old.q[e]); d.v.append(old.v[e])
                    d.pos.append(old.pos[e]); d.posT.append(old.posT[e]); d.half.append(old.half[e])
                }
                d.start.append(d.p.count)
            }
            dense[k] = d
            for i in dense[k].variables {
                let g = layout.group[i]
                dense[k].shared.append(g == sharedGroup)
                dense[k].local.append(layout.local[i])
                if g != sharedGroup {
                    precondition(dense[k].group == nil || dense[k].group == g, "a block holds private moments of two cliques")
                    dense[k].group = g
                }
            }
        }
        schur = layout
    }

    struct Outcome {
        var status: SolverStatus
        var y: [Double]
        var primalObjective: Double
        var dualObjective: Double
        /// X per block of the `MomentSDP` (a column for the diagonal block).
        var dual: [Matrix]
        var iterations: Int
        var seconds: Double
        var message: String
    }

    // MARK: Solve

    func solve(objective c: [Double], blockCount: Int, settings: Settings = Settings(),
               control: SolverControl) -> Outcome {
        let clock = ContinuousClock.now
        func elapsed() -> Double { (ContinuousClock.now - clock).seconds }
        let nb = dense.count
        let ns = scalars.count
        let N = Double(dense.reduce(0) { $0 + $1.n } + ns)
        let normC = c.reduce(0) { max($0, abs($1)) }

        // Starting point: scaled identities (SDPT3's choice per block).
        var X: [[Double]] = [], Z: [[Double]] = []
        for d in dense {
            let n = d.n
            var normA0 = 0.0
            for e in d.constant { normA0 += e.v * e.v * (e.p == e.q ? 1 : 2) }
            var maxRatio = 0.0, maxNorm = normA0.squareRoot()
            for k in 0..<d.variables.count {
                var s = 0.0
                for t in d.start[k]..<d.start[k + 1] { s += d.v[t] * d.v[t] * (d.p[t] == d.q[t] ? 1 : 2) }
                let nrm = s.squareRoot()
                maxRatio = max(maxRatio, (1 + abs(c[d.variables[k]])) / (1 + nrm))
                maxNorm = max(maxNorm, nrm)
            }
            let rn = Double(n).squareRoot()
            let xi = max(10, rn, rn * maxRatio), eta = max(10, rn, maxNorm)
            var x = [Double](repeating: 0, count: n * n), z = x
            for i in 0..<n { x[i * n + i] = xi; z[i * n + i] = eta }
            X.append(x); Z.append(z)
        }
        var xs = [Double](repeating: 10, count: ns), zs = [Double](repeating: 10, count: ns)
        var y = [Double](repeating: 0, count: m)

        var B = ArrowMatrix(schur)
        var iteration = 0
        var status = SolverStatus.iterationLimit
        var message = "iteration limit"
        var pobj = 0.0, dobj = 0.0, gap = Double.infinity, pinf = Double.infinity, dinf = Double.infinity

        // Work buffers per block.
        var Zinv = X, Rd = X, dX = X, dZ = X, dXa = X, dZa = X
        var rds = xs, dxs = xs, dzs = xs, dxsa = xs, dzsa = xs

        while true {
            if control.isCancelled() { status = .cancelled; message = "cancelled"; break }
            // Residuals: Rd = A₀ + Σ yᵢAᵢ − Z, rp = c − A(X); objectives; μ.
            var rp = c
            var rdNorm = 0.0, xz = 0.0
            dobj = 0
            for b in 0..<nb {
                let d = dense[b], n = d.n
                var r = [Double](repeating: 0, count: n * n)
                for e in d.constant { r[e.p + e.q * n] += e.v; if e.p != e.q { r[e.q + e.p * n] += e.v } }
                for k in 0..<d.variables.count {
                    let yi = y[d.variables[k]]
                    var ax = 0.0
                    for t in d.start[k]..<d.start[k + 1] {
                        let p = d.p[t], q = d.q[t], v = d.v[t]
                        r[p + q * n] += v * yi
                        if p != q { r[q + p * n] += v * yi; ax += 2 * v * X[b][p + q * n] } else { ax += v * X[b][p + q * n] }
                    }
                    rp[d.variables[k]] -= ax
                }
                for e in d.constant { dobj -= e.v * X[b][e.p + e.q * n] * (e.p == e.q ? 1 : 2) }
                for i in 0..<(n * n) { r[i] -= Z[b][i]; rdNorm += r[i] * r[i]; xz += X[b][i] * Z[b][i] }
                Rd[b] = r
            }
            for (r, row) in scalars.enumerated() {
                var v = row.constant - zs[r]
                for (k, i) in row.variables.enumerated() { v += row.values[k] * y[i]; rp[i] -= row.values[k] * xs[r] }
                rds[r] = v
                rdNorm += v * v
                xz += xs[r] * zs[r]
                dobj -= row.constant * xs[r]
            }
            pobj = zip(c, y).reduce(0) { $0 + $1.0 * $1.1 }
            let mu = xz / N
            gap = abs(pobj - dobj) / (1 + abs(pobj) + abs(dobj))
            pinf = rp.reduce(0) { max($0, abs($1)) } / (1 + normC)
            dinf = rdNorm.squareRoot() / (1 + 1)
            if iteration > 0 {
                control.onIteration(SolverIteration(iteration: iteration, elapsed: elapsed(), primalObjective: pobj,
                                                    dualObjective: dobj, relativeGap: gap, primalInfeasibility: dinf,
                                                    dualInfeasibility: pinf, mu: mu))
            }
            if gap <= settings.gapTolerance && pinf <= settings.feasibilityTolerance && dinf <= settings.feasibilityTolerance {
                status = .optimal; message = "converged"; break
            }
            if iteration >= settings.maxIterations { break }
            iteration += 1

            // Z⁻¹ per block.
            var ok = true
            for b in 0..<nb {
                let n = dense[b].n
                Zinv[b] = Z[b]
                let good = Zinv[b].withUnsafeMutableBufferPointer { p in
                    BlasKernels.choleskyInPlace(p.baseAddress!, n: n) && BlasKernels.inverseFromCholesky(p.baseAddress!, n: n)
                }
                if !good { ok = false; break }
            }
            if !ok { status = .numericalTrouble; message = "Z lost definiteness"; break }

            // Schur complement.
            B.reset()
            // Cancellation is polled per block too: one iteration of a 3 000-moment SDP is ~0.25 s.
            var cancelled = false
            for b in 0..<nb {
                if control.isCancelled() { cancelled = true; break }
                addSchur(block: dense[b], X: X[b], Zinv: Zinv[b], into: &B)
            }
            if cancelled { status = .cancelled; message = "cancelled"; break }
            for (r, row) in scalars.enumerated() {
                let w = xs[r] / zs[r]
                for (a, i) in row.variables.enumerated() {
                    for (bIdx, j) in row.variables.enumerated() { B.add(i, j, w * row.values[a] * row.values[bIdx]) }
                }
            }
            guard B.factor() else { status = .numericalTrouble; message = "Schur complement not positive definite"; break }

            // Predictor (σ = 0), then corrector.
            func direction(sigmaMu: Double, corrector: Bool) -> [Double] {
                var h = [Double](repeating: 0, count: m)
                for i in 0..<m { h[i] = -c[i] }
                for b in 0..<nb {
                    let n = dense[b].n
                    // M = σμZ⁻¹ − X Rd Z⁻¹ − [dXa dZa Z⁻¹]
                    var t = [Double](repeating: 0, count: n * n)
                    var mm = [Double](repeating: 0, count: n * n)
                    X[b].withUnsafeBufferPointer { xp in Rd[b].withUnsafeBufferPointer { rp in t.withUnsafeMutableBufferPointer { tp in
                        BlasKernels.multiply(xp.baseAddress!, rp.baseAddress!, n: n, into: tp.baseAddress!)
                        if corrector {
                            dXa[b].withUnsafeBufferPointer { ap in dZa[b].withUnsafeBufferPointer { bp in
                                BlasKernels.multiply(ap.baseAddress!, bp.baseAddress!, n: n, beta: 1, into: tp.baseAddress!)
                            } }
                        }
                    } } }
                    t.withUnsafeBufferPointer { tp in Zinv[b].withUnsafeBufferPointer { zp in mm.withUnsafeMutableBufferPointer { mp in
                        BlasKernels.multiply(tp.baseAddress!, zp.baseAddress!, n: n, alpha: -1, into: mp.baseAddress!)
                    } } }
                    if sigmaMu != 0 { for i in 0..<(n * n) { mm[i] += sigmaMu * Zinv[b][i] } }
                    let d = dense[b]
                    for k in 0..<d.variables.count {
                        var s = 0.0
                        for tt in d.start[k]..<d.start[k + 1] {
                            let p = d.p[tt], q = d.q[tt]
                            s += d.v[tt] * (p == q ? mm[p + q * n] : mm[p + q * n] + mm[q + p * n])
                        }
                        h[d.variables[k]] += s
                    }
                }
                for (r, row) in scalars.enumerated() {
                    var val = (sigmaMu - xs[r] * rds[r]) / zs[r]
                    if corrector { val -= dxsa[r] * dzsa[r] / zs[r] }
                    for (a, i) in row.variables.enumerated() { h[i] += row.values[a] * val }
                }
                B.solve(&h)
                return h
            }
            func completeDirection(_ dy: [Double], sigmaMu: Double, corrector: Bool) {
                for b in 0..<nb {
                    let d = dense[b], n = d.n
                    var z = Rd[b]
                    for k in 0..<d.variables.count {
                        let yi = dy[d.variables[k]]
                        if yi == 0 { continue }
                        for t in d.start[k]..<d.start[k + 1] {
                            let p = d.p[t], q = d.q[t], v = d.v[t] * yi
                            z[p + q * n] += v
                            if p != q { z[q + p * n] += v }
                        }
                    }
                    dZ[b] = z
                    // dX = σμZ⁻¹ − X − (X dZ + [dXa dZa]) Z⁻¹, symmetrized.
                    var t = [Double](repeating: 0, count: n * n)
                    var w = [Double](repeating: 0, count: n * n)
                    X[b].withUnsafeBufferPointer { xp in z.withUnsafeBufferPointer { zp in t.withUnsafeMutableBufferPointer { tp in
                        BlasKernels.multiply(xp.baseAddress!, zp.baseAddress!, n: n, into: tp.baseAddress!)
                        if corrector {
                            dXa[b].withUnsafeBufferPointer { ap in dZa[b].withUnsafeBufferPointer { bp in
                                BlasKernels.multiply(ap.baseAddress!, bp.baseAddress!, n: n, beta: 1, into: tp.baseAddress!)
                            } }
                        }
                    } } }
                    t.withUnsafeBufferPointer { tp in Zinv[b].withUnsafeBufferPointer { zp in w.withUnsafeMutableBufferPointer { wp in
                        BlasKernels.multiply(tp.baseAddress!, zp.baseAddress!, n: n, into: wp.baseAddress!)
                    } } }
                    var out = [Double](repeating: 0, count: n * n)
                    for j in 0..<n {
                        for i in 0..<n {
                            out[i + j * n] = sigmaMu * Zinv[b][i + j * n] - X[b][i + j * n] - 0.5 * (w[i + j * n] + w[j + i * n])
                        }
                    }
                    dX[b] = out
                }
                for (r, row) in scalars.enumerated() {
                    var z = rds[r]
                    for (a, i) in row.variables.enumerated() { z += row.values[a] * dy[i] }
                    dzs[r] = z
                    var x = (sigmaMu - xs[r] * z) / zs[r] - xs[r]
                    if corrector { x -= dxsa[r] * dzsa[r] / zs[r] }
                    dxs[r] = x
                }
            }
            func maxStep(_ S: [[Double]], _ dS: [[Double]], _ s: [Double], _ ds: [Double]) -> Double? {
                var alpha = Double.infinity
                for b in 0..<nb {
                    guard let a = Self.maxStep(S[b], dS[b], n: dense[b].n) else { return nil }
                    alpha = min(alpha, a)
                }
                for r in 0..<ns where ds[r] < 0 { alpha = min(alpha, -s[r] / ds[r]) }
                return alpha
            }

            let dyA = direction(sigmaMu: 0, corrector: false)
            completeDirection(dyA, sigmaMu: 0, corrector: false)
            guard let apA = maxStep(X, dX, xs, dxs), let adA = maxStep(Z, dZ, zs, dzs) else {
                status = .numericalTrouble; message = "step length failed"; break
            }
            let ap1 = min(1, apA), ad1 = min(1, adA)
            var xzA = 0.0
            for b in 0..<nb {
                for i in 0..<(dense[b].n * dense[b].n) { xzA += (X[b][i] + ap1 * dX[b][i]) * (Z[b][i] + ad1 * dZ[b][i]) }
            }
            for r in 0..<ns { xzA += (xs[r] + ap1 * dxs[r]) * (zs[r] + ad1 * dzs[r]) }
            let muA = max(xzA, 0) / N
            var sigma = min(1, pow(muA / mu, 3))
            if !sigma.isFinite { sigma = 0.5 }
            dXa = dX; dZa = dZ; dxsa = dxs; dzsa = dzs
            let dy = direction(sigmaMu: sigma * mu, corrector: true)
            completeDirection(dy, sigmaMu: sigma * mu, corrector: true)
            guard let apMax = maxStep(X, dX, xs, dxs), let adMax = maxStep(Z, dZ, zs, dzs) else {
                status = .numericalTrouble; message = "step length failed"; break
            }
            let gamma = 0.9 + 0.09 * min(ap1, ad1)
            let ap = min(1, gamma * apMax), ad = min(1, gamma * adMax)
            if ap < 1e-10 && ad < 1e-10 { status = .numericalTrouble; message = "short steps"; break }
            for b in 0..<nb {
                for i in 0..<(dense[b].n * dense[b].n) { X[b][i] += ap * dX[b][i]; Z[b][i] += ad * dZ[b][i] }
            }
            for r in 0..<ns { xs[r] += ap * dxs[r]; zs[r] += ad * dzs[r] }
            for i in 0..<m { y[i] += ad * dy[i] }
        }
        if status == .numericalTrouble && gap <= settings.acceptedGap && pinf <= settings.acceptedGap && dinf <= settings.acceptedGap {
            status = .optimal
            message = "stopped on \(message) at relative gap \(String(format: "%.1e", gap)) (accepted)"
        }
        // X in the block order of the MomentSDP.
        var dual = [Matrix](repeating: Matrix(rows: 0, columns: 0), count: blockCount)
        for b in 0..<nb { dual[denseBlockIndex[b]] = Matrix(rows: dense[b].n, columns: dense[b].n, storage: X[b]) }
        if let s = scalarBlockIndex { dual[s] = Matrix(rows: ns, columns: 1, storage: xs) }
        return Outcome(status: status, y: y, primalObjective: pobj, dualObjective: dobj, dual: dual,
                       iterations: iteration, seconds: elapsed(), message: message)
    }

    /// Largest α with S + α dS ⪰ 0 (∞ if every α is): −1/λ_min(L⁻¹ dS L⁻ᵀ), S = LLᵀ.
    static func maxStep(_ s: [Double], _ ds: [Double], n: Int) -> Double? {
        var l = s
        var t = ds
        var w = [Double](repeating: 0, count: n)
        let ok = l.withUnsafeMutableBufferPointer { lp -> Bool in
            guard BlasKernels.choleskyInPlace(lp.baseAddress!, n: n) else { return false }
            for j in 0..<n { for i in 0..<j { lp[i + j * n] = 0 } }
            return t.withUnsafeMutableBufferPointer { tp in
                // T ← L⁻¹ dS L⁻ᵀ: right solve with Lᵀ, then transpose-symmetric left solve.
                BlasKernels.solveRightLowerTransposed(lp.baseAddress!, n: n, tp.baseAddress!, rows: n)
                // (L⁻¹ M) = (Mᵀ L⁻ᵀ)ᵀ; M = dS L⁻ᵀ, so transpose and solve again.
                for j in 0..<n { for i in 0..<j { let a = tp[i + j * n]; tp[i + j * n] = tp[j + i * n]; tp[j + i * n] = a } }
                BlasKernels.solveRightLowerTransposed(lp.baseAddress!, n: n, tp.baseAddress!, rows: n)
                return w.withUnsafeMutableBufferPointer { wp in
                    BlasKernels.symmetricEigenvaluesInPlace(tp.baseAddress!, n: n, into: wp.baseAddress!)
                }
            }
        }
        guard ok else { return nil }
        let lmin = w.min() ?? 0
        return lmin < 0 ? -1 / lmin : .infinity
    }

    /// Adds block b's part of B, Bᵢⱼ += tr(Aᵢ X Aⱼ Z⁻¹), through Gᵢ = Z⁻¹ Aᵢ X:
    /// Bᵢⱼ = Σ over Aⱼ's entries (r, s, w) of w (G[s, r] + G[r, s]) (once when r = s).
    /// Gᵢ = Z⁻¹[:, R] (AᵢX)[R, :] over the rows R that Aᵢ touches (one dgemm), so the cost
    /// is n² Σᵢ |Rᵢ| ≈ n⁴ per block, mostly in BLAS.
    func addSchur(block d: DenseBlock, X: [Double], Zinv: [Double], into B: inout ArrowMatrix) {
        let n = d.n
        let count = d.variables.count
        if count == 0 { return }
        var G = [Double](repeating: 0, count: n * n)
        var zc = [Double](repeating: 0, count: n * n)
        var T = [Double](repeating: 0, count: n * n)
        var rowSlot = [Int](repeating: -1, count: n)
        var rows: [Int] = []
        rows.reserveCapacity(n)
        X.withUnsafeBufferPointer { xp in
        Zinv.withUnsafeBufferPointer { zp in
        G.withUnsafeMutableBufferPointer { gp in
        zc.withUnsafeMutableBufferPointer { cp in
        T.withUnsafeMutableBufferPointer { tp in
        d.p.withUnsafeBufferPointer { pp in
        d.q.withUnsafeBufferPointer { qp in
        d.v.withUnsafeBufferPointer { vp in
        d.start.withUnsafeBufferPointer { st in
        d.half.withUnsafeBufferPointer { hp in
        d.pos.withUnsafeBufferPointer { posp in
        d.posT.withUnsafeBufferPointer { postp in
        d.shared.withUnsafeBufferPointer { shr in
        d.local.withUnsafeBufferPointer { loc in
        B.withBlocks(group: d.group) { dPtr, pCount, ePtr, sPtr, sCount in
            let g = gp.baseAddress!, x = xp.baseAddress!, zi = zp.baseAddress!, t = tp.baseAddress!, zcol = cp.baseAddress!
            for a in 0..<count {
                // R and T = (AᵢX)[R, :] (|R| × n, leading dimension |R|).
                rows.removeAll(keepingCapacity: true)
                for e in st[a]..<st[a + 1] {
                    let p = pp[e], q = qp[e]
                    if rowSlot[p] < 0 { rowSlot[p] = rows.count; rows.append(p) }
                    if rowSlot[q] < 0 { rowSlot[q] = rows.count; rows.append(q) }
                }
                let k = rows.count
                t.update(repeating: 0, count: k * n)
                for e in st[a]..<st[a + 1] {
                    let p = pp[e], q = qp[e], v = vp[e]
                    let sp = rowSlot[p], sq = rowSlot[q]
                    for r in 0..<n { t[sp + r * k] += v * x[q + r * n] }
                    if p != q { for r in 0..<n { t[sq + r * k] += v * x[p + r * n] } }
                }
                for (slot, r) in rows.enumerated() {
                    (zcol + slot * n).update(from: zi + r * n, count: n)
                    rowSlot[r] = -1
                }
                BlasKernels.multiply(zcol, lda: n, t, ldb: k, rows: n, inner: k, cols: n, into: g)
                // Row a of the block's part of B, then into the arrow storage (lower triangles,
                // shared rows of the couplings).
                // Bₐᵦ = Σ over Aᵦ's entries of w/(1 + [p = q]) (G[p, q] + G[q, p]), b ≤ a.
                let li = loc[a], sa = shr[a]
                for b in 0...a {
                    var sum = 0.0
                    for e in st[b]..<st[b + 1] { sum += hp[e] * (g[posp[e]] + g[postp[e]]) }
                    if sa {
                        if shr[b] { sPtr[li + loc[b] * sCount] += sum } else { ePtr[li + loc[b] * sCount] += sum }
                    } else {
                        dPtr[li + loc[b] * pCount] += sum
                    }
                }
            }
        } } } } } } } } } } } } } } }
    }
}

/// Which moment goes where in the block-arrow Schur complement: private moments of group k
/// (local index within the group), then the shared ones.
struct ArrowLayout {
    /// Group of each moment (groups.count = shared).
    var group: [Int]
    var local: [Int]
    var sizes: [Int]
    var sharedCount: Int

    /// `groups[i]` = the group of moment i, or nil when it is shared.
    init(moments: Int, groups: [Int?]) {
        let k = (groups.compactMap { $0 }.max() ?? -1) + 1
        var sizes = [Int](repeating: 0, count: k)
        var shared = 0
        group = [Int](repeating: k, count: moments)
        local = [Int](repeating: 0, count: moments)
        for i in 0..<moments {
            if let g = groups[i] { group[i] = g; local[i] = sizes[g]; sizes[g] += 1 } else { local[i] = shared; shared += 1 }
        }
        self.sizes = sizes
        sharedCount = shared
    }
}

/// The Schur complement in block-arrow storage: Dₖ (pₖ × pₖ), Eₖ (s × pₖ, shared rows), S (s × s);
/// factored in place (Dₖ → Lₖ, Eₖ → Wₖ = EₖLₖ⁻ᵀ, S → Lₛ).
struct ArrowMatrix {
    let layout: ArrowLayout
    var D: [[Double]]
    var E: [[Double]]
    var S: [Double]

    init(_ layout: ArrowLayout) {
        self.layout = layout
        let s = layout.sharedCount
        D = layout.sizes.map { [Double](repeating: 0, count: $0 * $0) }
        E = layout.sizes.map { [Double](repeating: 0, count: $0 * s) }
        S = [Double](repeating: 0, count: s * s)
    }

    mutating func reset() {
        for k in D.indices {
            D[k].withUnsafeMutableBufferPointer { p in p.update(repeating: 0) }
            E[k].withUnsafeMutableBufferPointer { p in p.update(repeating: 0) }
        }
        S.withUnsafeMutableBufferPointer { p in p.update(repeating: 0) }
    }

    /// Whether (i, j) is one of the stored entries (the lower triangle of each diagonal block,
    /// the shared-row side of each coupling); callers skip the others, B being symmetric.
    @inline(__always)
    func stores(_ i: Int, _ j: Int) -> Bool {
        let gi = layout.group[i], gj = layout.group[j], sg = layout.sizes.count
        if gi == gj { return layout.local[i] >= layout.local[j] }
        return gi == sg       // i shared, j private
    }

    /// Adds v at (i, j) when stored (see `stores`); entries between private moments of two
    /// different groups cannot occur (they share no block) and are a programming error.
    @inline(__always)
    mutating func add(_ i: Int, _ j: Int, _ v: Double) {
        let gi = layout.group[i], gj = layout.group[j], sg = layout.sizes.count
        let li = layout.local[i], lj = layout.local[j]
        if gi == gj {
            guard li >= lj else { return }
            if gi == sg { S[li + lj * layout.sharedCount] += v } else { D[gi][li + lj * layout.sizes[gi]] += v }
        } else if gi == sg {
            E[gj][li + lj * layout.sharedCount] += v
        } else if gj != sg {
            preconditionFailure("Schur entry between private moments of two cliques")
        }
    }

    /// Raw storage of group g's D and E (dummies when g is nil) and of S, with their sizes.
    mutating func withBlocks(group g: Int?, _ body: (UnsafeMutablePointer<Double>, Int, UnsafeMutablePointer<Double>,
                                                     UnsafeMutablePointer<Double>, Int) -> Void) {
        let s = layout.sharedCount
        var dummy = [Double](repeating: 0, count: 1)
        let k = g ?? -1
        let p = g.map { layout.sizes[$0] } ?? 0
        S.withUnsafeMutableBufferPointer { sp in
            if k >= 0 {
                D[k].withUnsafeMutableBufferPointer { dp in
                    E[k].withUnsafeMutableBufferPointer { ep in
                        dummy.withUnsafeMutableBufferPointer { du in
                            body(dp.baseAddress ?? du.baseAddress!, p, ep.baseAddress ?? du.baseAddress!, sp.baseAddress ?? du.baseAddress!, s)
                        }
                    }
                }
            } else {
                dummy.withUnsafeMutableBufferPointer { du in body(du.baseAddress!, 0, du.baseAddress!, sp.baseAddress ?? du.baseAddress!, s) }
            }
        }
    }

    /// Factors in place; false when a pivot block is not numerically positive definite.
    mutating func factor() -> Bool {
        let s = layout.sharedCount
        for k in D.indices {
            let p = layout.sizes[k]
            let ok = D[k].withUnsafeMutableBufferPointer { dp in BlasKernels.choleskyInPlace(dp.baseAddress!, n: p) }
            if !ok { return false }
            D[k].withUnsafeBufferPointer { dp in
                E[k].withUnsafeMutableBufferPointer { ep in
                    BlasKernels.solveRightLowerTransposed(dp.baseAddress!, n: p, ep.baseAddress!, rows: s)
                }
            }
            E[k].withUnsafeBufferPointer { ep in
                S.withUnsafeMutableBufferPointer { sp in BlasKernels.subtractGram(ep.baseAddress!, n: s, k: p, sp.baseAddress!) }
            }
        }
        return S.withUnsafeMutableBufferPointer { sp in BlasKernels.choleskyInPlace(sp.baseAddress!, n: s) }
    }

    /// h ← B⁻¹ h (after `factor`).
    func solve(_ h: inout [Double]) {
        let s = layout.sharedCount
        var parts = layout.sizes.map { [Double](repeating: 0, count: $0) }
        var shared = [Double](repeating: 0, count: s)
        for i in 0..<h.count {
            let g = layout.group[i]
            if g == layout.sizes.count { shared[layout.local[i]] = h[i] } else { parts[g][layout.local[i]] = h[i] }
        }
        for k in D.indices {
            let p = layout.sizes[k]
            D[k].withUnsafeBufferPointer { dp in
                parts[k].withUnsafeMutableBufferPointer { up in BlasKernels.solveLower(dp.baseAddress!, n: p, up.baseAddress!, transposed: false) }
            }
            E[k].withUnsafeBufferPointer { ep in
                parts[k].withUnsafeBufferPointer { up in
                    shared.withUnsafeMutableBufferPointer { sp in
                        BlasKernels.multiplyAdd(ep.baseAddress!, rows: s, cols: p, transposed: false, up.baseAddress!, alpha: -1, sp.baseAddress!)
                    }
                }
            }
        }
        S.withUnsafeBufferPointer { lp in
            shared.withUnsafeMutableBufferPointer { sp in
                BlasKernels.solveLower(lp.baseAddress!, n: s, sp.baseAddress!, transposed: false)
                BlasKernels.solveLower(lp.baseAddress!, n: s, sp.baseAddress!, transposed: true)
            }
        }
        for k in D.indices {
            let p = layout.sizes[k]
            E[k].withUnsafeBufferPointer { ep in
                shared.withUnsafeBufferPointer { sp in
                    parts[k].withUnsafeMutableBufferPointer { up in
                        BlasKernels.multiplyAdd(ep.baseAddress!, rows: s, cols: p, transposed: true, sp.baseAddress!, alpha: -1, up.baseAddress!)
                    }
                }
            }
            D[k].withUnsafeBufferPointer { dp in
                parts[k].withUnsafeMutableBufferPointer { up in BlasKernels.solveLower(dp.baseAddress!, n: p, up.baseAddress!, transposed: true) }
            }
        }
        for i in 0..<h.count {
            let g = layout.group[i]
            h[i] = g == layout.sizes.count ? shared[layout.local[i]] : parts[g][layout.local[i]]
        }
    }
}
