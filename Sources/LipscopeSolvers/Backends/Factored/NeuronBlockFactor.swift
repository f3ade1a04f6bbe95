import CLapack
import Foundation
import LipscopeLinearAlgebra

/// The Cholesky factor of the neuron block H of S(0, λ) for a net whose input block carries ρ
/// only (`MultiplierRecovery.InputSide`), with the neurons ordered by layer from the last to the
/// first (`ReversedLayers`): then the trailing block L₁₁ of the factor is that of the Schur
/// complement onto the first layer, and ρ*(λ) = λ_max(L₁₁⁻¹ D G D L₁₁⁻ᵀ) (D = diag(qᵢλᵢ) on the
/// first layer, G = A₀A₀ᵀ). In that order H is block tridiagonal, so on deep narrow nets it is
/// factored as a band (n·b² instead of n³/3: the 15 recoveries of a 50-layer 80-wide net took
/// 397 s dense and 5.7 s banded, measured).
struct NeuronBlockFactor {
    let lmi: RankTwoLMI
    let input: MultiplierRecovery.InputSide
    let lambda: [Double]
    let order: MultiplierRecovery.ReversedLayers
    /// The factor: LAPACK band storage (leading dimension bandwidth + 1) or dense (n).
    private(set) var factor: [Double]
    let banded: Bool
    let leading: Int

    /// nil when H (less δ·diag(H) for `margin` δ) is not numerically positive definite.
    init?(_ lmi: RankTwoLMI, input: MultiplierRecovery.InputSide, lambda: [Double], margin: Double = 0,
          order: MultiplierRecovery.ReversedLayers) {
        let r = lmi.inputCount, n = lmi.neuronCount
        let position = order.position
        let bandwidth = order.bandwidth
        let banded = (bandwidth + 1) * 3 < n
        let ld = banded ? bandwidth + 1 : n
        var h = [Double](repeating: 0, count: ld * n)
        h.withUnsafeMutableBufferPointer { hb in
            let m = hb.baseAddress!
            // The lower triangle only (dpotrf / dpbtrf read no more); every pair below is added in
            // both orders, so the filter keeps each entry once.
            func add(_ a: Int, _ b: Int, _ v: Double) {
                guard a >= b else { return }
                m[banded ? (a - b) + b * ld : a + b * ld] += v
            }
            for i in 0..<n { add(position[i], position[i], lmi.s[i] * lambda[i]) }
            for band in lmi.bands.dropFirst() {
                let w = band.weights, rows = w.rows, cols = w.columns, c0 = band.columnStart - r
                for local in 0..<rows {
                    let i = band.firstRow + local, pi = position[i]
                    let coef = lmi.q[i] * lambda[i]
                    if coef != 0 {
                        for c in 0..<cols {
                            let v = coef * w.storage[local + c * rows]
                            if v != 0 {
                                let pj = position[c0 + c]
                                add(pi, pj, v)
                                add(pj, pi, v)
                            }
                        }
                    }
                    let pc = lmi.p[i] * lambda[i]
                    if pc != 0 {
                        // p λ aaᵀ on the band's columns.
                        for c in 0..<cols {
                            let x = pc * w.storage[local + c * rows]
                            if x == 0 { continue }
                            let pc1 = position[c0 + c]
                            for e in 0..<cols { add(position[c0 + e], pc1, x * w.storage[local + e * rows]) }
                        }
                    }
                }
            }
            let c = lmi.output.weights, o0 = lmi.output.columnStart - r
            for a in 0..<c.columns {
                let pa = position[o0 + a]
                for b in 0..<c.columns {
                    var dot = 0.0
                    for q in 0..<c.rows { dot += c.storage[q + a * c.rows] * c.storage[q + b * c.rows] }
                    add(position[o0 + b], pa, -dot)
                }
            }
        }
        if margin > 0 {
            // H − δ·diag(H): feasible with a relative margin on every pivot.
            for i in 0..<n { h[banded ? i * ld : i + i * ld] *= 1 - margin }
        }
        let lower = CChar(UInt8(ascii: "L"))
        let info = banded
            ? LAPACKE_dpbtrf(LAPACK_COL_MAJOR, lower, Int32(n), Int32(bandwidth), &h, Int32(ld))
            : LAPACKE_dpotrf(LAPACK_COL_MAJOR, lower, Int32(n), &h, Int32(n))
        guard info == 0 else { return nil }
        self.lmi = lmi
        self.input = input
        self.lambda = lambda
        self.order = order
        factor = h
        self.banded = banded
        leading = ld
    }

    /// L₁₁, dense n₁ × n₁ (leading dimension n₁).
    private func trailingBlock() -> [Double] {
        let n = lmi.neuronCount, n1 = input.firstLayer, rest = n - n1
        var l11 = [Double](repeating: 0, count: n1 * n1)
        if banded {
            let bandwidth = leading - 1
            for j in 0..<n1 {
                for i in j..<min(n1, j + bandwidth + 1) { l11[i + j * n1] = factor[(i - j) + (rest + j) * leading] }
            }
        } else {
            for j in 0..<n1 { for i in j..<n1 { l11[i + j * n1] = factor[(rest + i) + (rest + j) * n] } }
        }
        return l11
    }

    /// ρ* = λ_max(L₁₁⁻¹ D G D L₁₁⁻ᵀ) ≥ 0, with its unit eigenvector w when `vector`.
    func topEigenpair(vector: Bool) -> (value: Double, vector: [Double])? {
        let n1 = input.firstLayer
        let l11 = trailingBlock()
        // K = D G D, then L₁₁⁻¹ K L₁₁⁻ᵀ.
        var k = input.gram
        for j in 0..<n1 {
            let dj = lmi.q[j] * lambda[j]
            for i in j..<n1 { k[i + j * n1] *= lmi.q[i] * lambda[i] * dj }
            for i in 0..<j { k[i + j * n1] = k[j + i * n1] }
        }
        cblas_dtrsm(CblasColMajor, CblasLeft, CblasLower, CblasNoTrans, CblasNonUnit, Int32(n1), Int32(n1), 1, l11, Int32(n1), &k, Int32(n1))
        cblas_dtrsm(CblasColMajor, CblasRight, CblasLower, CblasTrans, CblasNonUnit, Int32(n1), Int32(n1), 1, l11, Int32(n1), &k, Int32(n1))
        var count: Int32 = 0
        var w = [Double](repeating: 0, count: n1)
        var z = [Double](repeating: 0, count: vector ? n1 : 1)
        var support = [Int32](repeating: 0, count: 2)
        let lower = CChar(UInt8(ascii: "L"))
        let info = LAPACKE_dsyevr(LAPACK_COL_MAJOR, CChar(UInt8(ascii: vector ? "V" : "N")), CChar(UInt8(ascii: "I")), lower,
                                  Int32(n1), &k, Int32(n1), 0, 0, Int32(n1), Int32(n1), 0, &count, &w, &z, Int32(vector ? n1 : 1), &support)
        guard info == 0, count == 1, w[0].isFinite else { return nil }
        return (max(w[0], 0), z)
    }

    /// ρ*(λ) and its gradient in every neuron's λᵢ. ρ*(λ) = max over |x| = 1 and y of
    /// −zᵀS(0, λ)z, z = (x, y) (S's input block is ρI alone), so by the envelope theorem
    ///     ∂ρ*/∂λᵢ = −zᵀFᵢz = −(pᵢvᵢ² + 2qᵢvᵢyᵢ + sᵢyᵢ²),   vᵢ = aᵢᵀz,
    /// at the maximizer z, the null vector of S(ρ*, λ): with w the top eigenvector above and
    /// σ = √ρ*, u = L⁻ᵀ[0; w] gives y = −σu and x = A₀ᵀD u₁/σ (u₁ its first-layer part). Where
    /// the top eigenvalue is multiple this is one subgradient (ρ* is convex in λ).
    func rhoAndGradient() -> (rho: Double, gradient: [Double])? {
        guard let (rho, w) = topEigenpair(vector: true) else { return nil }
        let r = lmi.inputCount, n = lmi.neuronCount, n1 = input.firstLayer, rest = n - n1
        let sigma = rho.squareRoot()
        guard sigma > 0 else { return (rho, [Double](repeating: 0, count: n)) }
        var u = [Double](repeating: 0, count: n)
        for i in 0..<n1 { u[rest + i] = w[i] }
        if banded {
            cblas_dtbsv(CblasColMajor, CblasLower, CblasTrans, CblasNonUnit, Int32(n), Int32(leading - 1), factor, Int32(leading), &u, 1)
        } else {
            cblas_dtrsv(CblasColMajor, CblasLower, CblasTrans, CblasNonUnit, Int32(n), factor, Int32(n), &u, 1)
        }
        // z in the LMI's coordinates [input | neurons].
        var z = [Double](repeating: 0, count: r + n)
        for i in 0..<n { z[r + i] = -sigma * u[order.position[i]] }
        let first = lmi.bands[0], w0 = first.weights
        for c in 0..<w0.columns {
            var sum = 0.0
            for i in 0..<w0.rows { sum += w0.storage[i + c * w0.rows] * lmi.q[i] * lambda[i] * u[rest + i] }
            z[first.columnStart + c] = sum / sigma
        }
        var gradient = [Double](repeating: 0, count: n)
        for band in lmi.bands {
            let a = band.weights, rows = a.rows, cols = a.columns
            guard rows > 0 else { continue }
            var v = [Double](repeating: 0, count: rows)
            if cols > 0 {
                z.withUnsafeBufferPointer { zb in
                    cblas_dgemv(CblasColMajor, CblasNoTrans, Int32(rows), Int32(cols), 1, a.storage, Int32(rows),
                                zb.baseAddress! + band.columnStart, 1, 0, &v, 1)
                }
            }
            for local in 0..<rows {
                let i = band.firstRow + local, y = z[r + i]
                gradient[i] = -(lmi.p[i] * v[local] * v[local] + 2 * lmi.q[i] * v[local] * y + lmi.s[i] * y * y)
            }
        }
        return (rho, gradient)
    }
}
