import CLapack
import Foundation
import LipscopeLinearAlgebra

/// The linear maps of a `RankTwoLMI` on dense column-major d × d buffers (d = dimension):
///     A(y) = ρ·E_r + Σᵢ λ_{g(i)} Fᵢ,   A*(W)_k = ⟨A_k, W⟩,
/// and the HKM Schur matrix M_kl = tr(A_k X A_l S⁻¹). Every Fᵢ = UᵢDᵢUᵢᵀ with Uᵢ = [aᵢ bᵢ],
/// Dᵢ = [[pᵢ, qᵢ], [qᵢ, sᵢ]], so the neuron part of M is
///     H_ij = Σ_ab (Dᵢ Pᵢⱼ Dⱼ)_ab (Qᵢⱼ)_ab,  Pᵢⱼ = UᵢᵀXUⱼ, Qᵢⱼ = UᵢᵀS⁻¹Uⱼ,
/// and P, Q come from X·A and S⁻¹·A band by band (BLAS-3); the b-parts are entries of X, S⁻¹.
/// Coordinates of y and of A*: [ρ, λ_0, …, λ_{G−1}].
final class RankTwoOperators {
    let lmi: RankTwoLMI
    let r: Int, n: Int, dim: Int, groups: Int
    /// −CᵀC (full d × d).
    let constant: [Double]

    init(lmi: RankTwoLMI) {
        self.lmi = lmi
        r = lmi.inputCount
        n = lmi.neuronCount
        dim = lmi.dimension
        groups = lmi.groupCount
        var constant = [Double](repeating: 0, count: dim * dim)
        let c = lmi.output.weights
        if c.rows > 0, c.columns > 0 {
            let w = c.columns, c0 = lmi.output.columnStart, d = dim
            constant.withUnsafeMutableBufferPointer { s in
                cblas_dgemm(CblasColMajor, CblasTrans, CblasNoTrans, Int32(w), Int32(w), Int32(c.rows),
                            -1.0, c.storage, Int32(c.rows), c.storage, Int32(c.rows), 0.0,
                            s.baseAddress! + c0 + c0 * d, Int32(d))
            }
        }
        self.constant = constant
    }

    /// S(y) = A(y) − CᵀC, or A(y) alone when `linear` (a direction dS = A(dy)).
    func assemble(_ y: [Double], linear: Bool = false) -> [Double] {
        var s = linear ? [Double](repeating: 0, count: dim * dim) : constant
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
                if any, rows > 0, cols > 0 {
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

    /// W·A(dy) for a dense d × d W with WA = `timesRows(W)`, without forming A(dy):
    ///     W·A(dy) = dρ W E_r + Σᵢ cᵢ [pᵢ (Waᵢ)aᵢᵀ + qᵢ (Waᵢ)bᵢᵀ + qᵢ (Wbᵢ)aᵢᵀ + sᵢ (Wbᵢ)bᵢᵀ],  cᵢ = dλ_{g(i)},
    /// one d × rows × cols product per band (the aᵢᵀ terms) plus column updates (the bᵢᵀ terms).
    func timesDirection(_ w: [Double], _ wa: [Double], _ dy: [Double]) -> [Double] {
        let d = dim
        var out = [Double](repeating: 0, count: d * d)
        w.withUnsafeBufferPointer { wb in
        wa.withUnsafeBufferPointer { ab in
        out.withUnsafeMutableBufferPointer { ob in
            let wp = wb.baseAddress!, ap = ab.baseAddress!, op = ob.baseAddress!
            if dy[0] != 0 { for j in 0..<r { cblas_daxpy(Int32(d), dy[0], wp + j * d, 1, op + j * d, 1) } }
            for band in lmi.bands where band.weights.rows > 0 {
                let a = band.weights, rows = a.rows, cols = a.columns, f = band.firstRow
                var y = [Double](repeating: 0, count: d * rows)
                var any = false
                for i in 0..<rows {
                    let ni = f + i, c = dy[1 + lmi.group[ni]]
                    if c == 0 { continue }
                    let pc = lmi.p[ni] * c, qc = lmi.q[ni] * c, sc = lmi.s[ni] * c
                    let wai = ap + ni * d, wbi = wp + (r + ni) * d, target = op + (r + ni) * d
                    y.withUnsafeMutableBufferPointer { yb in
                        let yi = yb.baseAddress! + i * d
                        if pc != 0 { cblas_daxpy(Int32(d), pc, wai, 1, yi, 1) }
                        if qc != 0 { cblas_daxpy(Int32(d), qc, wbi, 1, yi, 1) }
                    }
                    if pc != 0 || qc != 0 { any = true }
                    if qc != 0 { cblas_daxpy(Int32(d), qc, wai, 1, target, 1) }
                    if sc != 0 { cblas_daxpy(Int32(d), sc, wbi, 1, target, 1) }
                }
                if any, cols > 0 {
                    cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, Int32(d), Int32(cols), Int32(rows), 1.0,
                                y, Int32(d), a.storage, Int32(rows), 1.0, op + band.columnStart * d, Int32(d))
                }
            }
        }}}
        return out
    }

    /// W·A (d × n, column i = W aᵢ) for a dense d × d W.
    func timesRows(_ w: [Double]) -> [Double] {
        let d = dim
        var out = [Double](repeating: 0, count: d * n)
        w.withUnsafeBufferPointer { wb in
            out.withUnsafeMutableBufferPointer { ob in
                for band in lmi.bands where band.weights.rows > 0 && band.weights.columns > 0 {
                    let a = band.weights
                    cblas_dgemm(CblasColMajor, CblasNoTrans, CblasTrans, Int32(d), Int32(a.rows), Int32(a.columns),
                                1.0, wb.baseAddress! + band.columnStart * d, Int32(d), a.storage, Int32(a.rows),
                                0.0, ob.baseAddress! + band.firstRow * d, Int32(d))
                }
            }
        }
        return out
    }

    /// Aᵀ·(WA) (n × n) from WA = `timesRows(W)`.
    func gram(_ wa: [Double]) -> [Double] {
        let d = dim
        var out = [Double](repeating: 0, count: n * n)
        wa.withUnsafeBufferPointer { tab in
            out.withUnsafeMutableBufferPointer { zb in
                for band in lmi.bands where band.weights.rows > 0 && band.weights.columns > 0 {
                    let a = band.weights
                    cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, Int32(a.rows), Int32(n), Int32(a.columns),
                                1.0, a.storage, Int32(a.rows), tab.baseAddress! + band.columnStart, Int32(d),
                                0.0, zb.baseAddress! + band.firstRow, Int32(n))
                }
            }
        }
        return out
    }

    /// A*(W) = [tr W_rr, Σ_{i∈g} ⟨Fᵢ, W⟩] for a symmetric W with WA = `timesRows(W)`.
    func adjoint(_ w: [Double], _ wa: [Double]) -> [Double] {
        let d = dim
        var out = [Double](repeating: 0, count: groups + 1)
        for k in 0..<r { out[0] += w[k + k * d] }
        for band in lmi.bands {
            let a = band.weights, rows = a.rows
            for i in 0..<rows {
                let ni = band.firstRow + i
                var aWa = 0.0
                for k in 0..<a.columns { aWa += a.storage[i + k * rows] * wa[(band.columnStart + k) + ni * d] }
                let bWa = wa[(r + ni) + ni * d], bWb = w[(r + ni) + (r + ni) * d]
                out[1 + lmi.group[ni]] += lmi.p[ni] * aWa + 2 * lmi.q[ni] * bWa + lmi.s[ni] * bWb
            }
        }
        return out
    }

    /// The HKM Schur matrix M_kl = tr(A_k X A_l S⁻¹) ((G+1)², column-major) from X, S⁻¹ and
    /// their products with the rows, XA and TA (T = S⁻¹).
    func schur(x: [Double], xa: [Double], t: [Double], ta: [Double], stop: () -> Bool) -> [Double]? {
        let d = dim, m = groups + 1
        let paa = gram(xa)
        if stop() { return nil }
        let qaa = gram(ta)
        if stop() { return nil }
        // pba[i + j n] = bᵢᵀ X aⱼ = XA[r+i, j]; likewise qba.
        var pba = [Double](repeating: 0, count: n * n), qba = [Double](repeating: 0, count: n * n)
        for j in 0..<n {
            for i in 0..<n {
                pba[i + j * n] = xa[(r + i) + j * d]
                qba[i + j * n] = ta[(r + i) + j * d]
            }
        }
        let p = lmi.p, q = lmi.q, s = lmi.s, group = lmi.group
        var h = [Double](repeating: 0, count: m * m)
        let direct = groups == n && group.enumerated().allSatisfy { $0.offset == $0.element }
        var hn = direct ? [] : [Double](repeating: 0, count: n * n)
        x.withUnsafeBufferPointer { xb in
        t.withUnsafeBufferPointer { tb in
        paa.withUnsafeBufferPointer { pa in
        qaa.withUnsafeBufferPointer { qa in
        pba.withUnsafeBufferPointer { pb in
        qba.withUnsafeBufferPointer { qb in
            for j in 0..<n {
                let pj = p[j], qj = q[j], sj = s[j]
                let xcol = xb.baseAddress! + r + (r + j) * d
                let tcol = tb.baseAddress! + r + (r + j) * d
                for i in j..<n {
                    // P_ij = [[aᵢXaⱼ, aᵢXbⱼ], [bᵢXaⱼ, bᵢXbⱼ]], Q_ij likewise.
                    let p00 = pa[i + j * n], p10 = pb[i + j * n], p01 = pb[j + i * n], p11 = xcol[i]
                    let q00 = qa[i + j * n], q10 = qb[i + j * n], q01 = qb[j + i * n], q11 = tcol[i]
                    let pi = p[i], qi = q[i], si = s[i]
                    let a00 = pi * p00 + qi * p10, a01 = pi * p01 + qi * p11
                    let a10 = qi * p00 + si * p10, a11 = qi * p01 + si * p11
                    let y00 = a00 * pj + a01 * qj, y01 = a00 * qj + a01 * sj
                    let y10 = a10 * pj + a11 * qj, y11 = a10 * qj + a11 * sj
                    let v = y00 * q00 + y01 * q01 + y10 * q10 + y11 * q11
                    if direct {
                        h[(1 + i) + (1 + j) * m] = v
                        h[(1 + j) + (1 + i) * m] = v
                    } else {
                        hn[i + j * n] = v
                        hn[j + i * n] = v
                    }
                }
            }
        }}}}}}
        if !direct {
            for j in 0..<n {
                let gj = 1 + group[j]
                for i in 0..<n { h[(1 + group[i]) + gj * m] += hn[i + j * n] }
            }
        }
        if stop() { return nil }
        // The ρ row: tr(E_r X E_r T) and tr(E_r X Fᵢ T) = Σ_{k<r} of p (Ta)(Xa) + q ((Ta)(Xb) + (Tb)(Xa)) + s (Tb)(Xb).
        var hrr = 0.0
        for l in 0..<r { for k in 0..<r { hrr += x[k + l * d] * t[k + l * d] } }
        h[0] = hrr
        for i in 0..<n {
            var aa = 0.0, ab = 0.0, ba = 0.0, bb = 0.0
            for k in 0..<r {
                let ta_ = ta[k + i * d], xa_ = xa[k + i * d], tb_ = t[k + (r + i) * d], xb_ = x[k + (r + i) * d]
                aa += ta_ * xa_; ab += ta_ * xb_; ba += tb_ * xa_; bb += tb_ * xb_
            }
            let value = p[i] * aa + q[i] * (ab + ba) + s[i] * bb
            let gi = 1 + group[i]
            h[gi] += value
            h[gi * m] += value
        }
        return h
    }
}

/// Dense symmetric helpers on column-major d × d buffers.
enum DenseSym {
    /// The lower Cholesky factor (upper triangle left as is), or nil.
    static func cholesky(_ a: [Double], _ d: Int) -> [Double]? {
        var l = a
        guard LAPACKE_dpotrf(LAPACK_COL_MAJOR, CChar(UInt8(ascii: "L")), Int32(d), &l, Int32(d)) == 0 else { return nil }
        return l
    }

    /// The full inverse from a lower Cholesky factor.
    static func inverse(fromCholesky l: [Double], _ d: Int) -> [Double]? {
        var t = l
        guard LAPACKE_dpotri(LAPACK_COL_MAJOR, CChar(UInt8(ascii: "L")), Int32(d), &t, Int32(d)) == 0 else { return nil }
        for j in 0..<d { for i in 0..<j { t[i + j * d] = t[j + i * d] } }
        return t
    }

    /// C = A·B for d × d buffers, in column chunks so that `stop` is polled every few ms.
    static func multiply(_ a: [Double], _ b: [Double], _ d: Int, stop: () -> Bool) -> [Double]? {
        var c = [Double](repeating: 0, count: d * d)
        let chunk = max(64, (1 << 22) / max(d * d, 1) * 64)
        var j0 = 0
        while j0 < d {
            if stop() { return nil }
            let w = min(chunk, d - j0)
            a.withUnsafeBufferPointer { ab in
                b.withUnsafeBufferPointer { bb in
                    c.withUnsafeMutableBufferPointer { cb in
                        cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, Int32(d), Int32(w), Int32(d), 1.0,
                                    ab.baseAddress!, Int32(d), bb.baseAddress! + j0 * d, Int32(d), 0.0,
                                    cb.baseAddress! + j0 * d, Int32(d))
                    }
                }
            }
            j0 += w
        }
        return c
    }

    static func dot(_ a: [Double], _ b: [Double]) -> Double {
        cblas_ddot(Int32(a.count), a, 1, b, 1)
    }
}
