import CLapack
import Foundation
import LipscopeLinearAlgebra

/// The primal point of a dual factor V, from complementary slackness S(ρ, λ)·V = 0:
///     S V = ρ E V + Σᵢ λᵢ [aᵢ(pᵢpᵢ + qᵢrᵢ) + bᵢ(qᵢpᵢ + sᵢrᵢ)] − CᵀC V,
/// whose row for neuron i involves λᵢ and the multipliers of later neurons only (their aⱼ read
/// neuron i). So the rows are solved from the output back, each λᵢ by least squares over the k
/// columns: λᵢ = −⟨tᵢ, Rᵢ⟩/‖tᵢ‖², tᵢ = qᵢpᵢ + sᵢrᵢ, R the part of SV already known; then ρ from
/// the input rows. Near the dual optimum this is the primal optimum's λ; its exact ρ*(λ) then
/// comes from `optimalRho`, and the certificate decides.
enum MultiplierRecovery {
    /// λ per neuron (≥ 0; a neuron the columns do not see gets its band's largest λ, which keeps
    /// its diagonal dominant) and the least-squares ρ.
    static func multipliers(_ ascent: DualFactorAscent) -> (lambda: [Double], rhoEstimate: Double) {
        let lmi = ascent.lmi, k = ascent.k, r = lmi.inputCount, n = lmi.neuronCount
        var residual = [Double](repeating: 0, count: lmi.dimension * k)
        let c = lmi.output.weights
        if c.rows > 0, c.columns > 0 {
            residual.withUnsafeMutableBufferPointer { rb in
                cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, Int32(k), Int32(c.columns), Int32(c.rows), -1,
                            ascent.out, Int32(k), c.storage, Int32(c.rows), 1, rb.baseAddress! + lmi.output.columnStart * k, Int32(k))
            }
        }
        var lambda = [Double](repeating: 0, count: n)
        var y = [Double](repeating: 0, count: (lmi.bands.map(\.weights.rows).max() ?? 0) * k)
        for band in lmi.bands.reversed() {
            let w = band.weights, rows = w.rows, cols = w.columns
            guard rows > 0 else { continue }
            var largest = 0.0
            var unseen: [Int] = []
            for local in 0..<rows {
                let i = band.firstRow + local
                var tt = 0.0, tr = 0.0, scale = 0.0
                for col in 0..<k {
                    let p = ascent.pre[i * k + col], x = ascent.v[(r + i) * k + col]
                    let t = lmi.q[i] * p + lmi.s[i] * x
                    tt += t * t
                    tr += t * residual[(r + i) * k + col]
                    scale += p * p
                }
                if tt > 1e-24 * max(scale, 1e-300) {
                    lambda[i] = max(0, -tr / tt)
                    largest = max(largest, lambda[i])
                } else {
                    unseen.append(i)
                }
            }
            let floor = largest * 1e-9
            for local in 0..<rows {
                let i = band.firstRow + local
                lambda[i] = unseen.contains(i) ? max(largest, 1e-12) : max(lambda[i], floor)
                for col in 0..<k {
                    let p = ascent.pre[i * k + col], x = ascent.v[(r + i) * k + col]
                    y[local * k + col] = lambda[i] * (lmi.p[i] * p + lmi.q[i] * x)
                }
            }
            if cols > 0 {
                residual.withUnsafeMutableBufferPointer { rb in
                    cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, Int32(k), Int32(cols), Int32(rows), 1,
                                y, Int32(k), w.storage, Int32(rows), 1, rb.baseAddress! + band.columnStart * k, Int32(k))
                }
            }
        }
        var vr = 0.0, vv = 0.0
        for i in 0..<(r * k) { vr += ascent.v[i] * residual[i]; vv += ascent.v[i] * ascent.v[i] }
        return (lambda, vv > 0 ? -vr / vv : 0)
    }

    /// ρ*(λ) = min {ρ : S(ρ, λ) ⪰ 0} = λ_max(BᵀH⁻¹B − S_in) with H the neuron block of S(0, λ),
    /// B its coupling to the input and S_in the input block (ρ enters as ρI there); nil when H is
    /// not numerically positive definite.
    static func optimalRho(_ ops: RankTwoOperators, lambda: [Double]) -> Double? {
        let r = ops.r, n = ops.n, d = ops.dim
        let s = ops.assemble([0] + lambda)
        var h = [Double](repeating: 0, count: n * n)
        var b = [Double](repeating: 0, count: n * r)
        var kmat = [Double](repeating: 0, count: r * r)
        for j in 0..<n { for i in 0..<n { h[i + j * n] = s[(r + i) + (r + j) * d] } }
        for j in 0..<r {
            for i in 0..<n { b[i + j * n] = s[(r + i) + j * d] }
            for i in 0..<r { kmat[i + j * r] = -s[i + j * d] }
        }
        let lower = CChar(UInt8(ascii: "L"))
        guard n > 0, LAPACKE_dpotrf(LAPACK_COL_MAJOR, lower, Int32(n), &h, Int32(n)) == 0 else { return nil }
        guard r > 0 else { return 0 }
        cblas_dtrsm(CblasColMajor, CblasLeft, CblasLower, CblasNoTrans, CblasNonUnit, Int32(n), Int32(r), 1, h, Int32(n), &b, Int32(n))
        cblas_dsyrk(CblasColMajor, CblasLower, CblasTrans, Int32(r), Int32(n), 1, b, Int32(n), 1, &kmat, Int32(r))
        var count: Int32 = 0
        var w = [Double](repeating: 0, count: r)
        var z = [Double](repeating: 0, count: 1)
        var support = [Int32](repeating: 0, count: 2)
        let info = LAPACKE_dsyevr(LAPACK_COL_MAJOR, CChar(UInt8(ascii: "N")), CChar(UInt8(ascii: "I")), lower, Int32(r), &kmat, Int32(r),
                                  0, 0, Int32(r), Int32(r), 0, &count, &w, &z, 1, &support)
        guard info == 0, count == 1, w[0].isFinite else { return nil }
        return max(w[0], 0)
    }

    /// The input side of a net whose input block of S carries ρ only (no αβ term on the first
    /// layer, no output weight on the input): the first layer's neurons [0, n₁) and
    /// G = A₀A₀ᵀ of their rows on the input (n₁ × n₁, formed once per solve).
    struct InputSide {
        let firstLayer: Int
        let gram: [Double]

        init?(_ lmi: RankTwoLMI) {
            let r = lmi.inputCount
            guard r > 0, let first = lmi.bands.first, first.firstRow == 0, first.columnStart + first.weights.columns <= r,
                  lmi.bands.dropFirst().allSatisfy({ $0.columnStart >= r }), lmi.output.columnStart >= r,
                  (0..<first.weights.rows).allSatisfy({ lmi.p[$0] == 0 }) else { return nil }
            let w = first.weights, n1 = w.rows
            guard n1 > 0, w.columns > 0 else { return nil }
            var g = [Double](repeating: 0, count: n1 * n1)
            cblas_dsyrk(CblasColMajor, CblasLower, CblasNoTrans, Int32(n1), Int32(w.columns), 1, w.storage, Int32(n1), 0, &g, Int32(n1))
            firstLayer = n1
            self.gram = g
        }
    }

    /// ρ*(λ) without the d × d matrix: the neuron block H ordered by layer from the last to the
    /// first, so the trailing block L₁₁ of its Cholesky factor is that of the Schur complement onto
    /// the first layer, [H⁻¹]₁₁ = (L₁₁L₁₁ᵀ)⁻¹, and with B = DA₀ (D = diag(qᵢλᵢ))
    ///     ρ* = λ_max(BᵀH⁻¹B) = λ_max(L₁₁⁻¹ D G D L₁₁⁻ᵀ),   an n₁ × n₁ eigenproblem
    /// (`NeuronBlockFactor`, banded on deep narrow nets).
    static func optimalRho(_ lmi: RankTwoLMI, input: InputSide, lambda: [Double], margin: Double = 0,
                           order: ReversedLayers? = nil) -> Double? {
        guard let factor = NeuronBlockFactor(lmi, input: input, lambda: lambda, margin: margin, order: order ?? ReversedLayers(lmi)) else { return nil }
        return factor.topEigenpair(vector: false)?.value
    }

    /// The neurons ordered by layer (band) from the last to the first, each layer in its own
    /// order, and the bandwidth of H in that order (the farthest pair of positions any weight,
    /// p-term or output term couples).
    struct ReversedLayers {
        var position: [Int]
        var bandwidth: Int

        init(_ lmi: RankTwoLMI) {
            let n = lmi.neuronCount, r = lmi.inputCount
            var position = Array(0..<n)
            var end = n
            for band in lmi.bands {
                let start = end - band.weights.rows
                for local in 0..<band.weights.rows { position[band.firstRow + local] = start + local }
                end = start
            }
            guard end == 0, Set(position).count == n else {
                // Bands that do not tile the neurons in order: the first layer last, the rest as
                // they are, factored densely.
                let first = lmi.bands.first?.weights.rows ?? 0
                self.position = (0..<n).map { $0 >= first ? $0 - first : n - first + $0 }
                bandwidth = n
                return
            }
            func span(_ from: Int, _ count: Int) -> (Int, Int)? {
                guard count > 0 else { return nil }
                var lo = Int.max, hi = Int.min
                for i in from..<(from + count) { lo = min(lo, position[i]); hi = max(hi, position[i]) }
                return (lo, hi)
            }
            var b = 0
            for band in lmi.bands.dropFirst() {
                guard let rows = span(band.firstRow, band.weights.rows),
                      let cols = span(band.columnStart - r, band.weights.columns) else { continue }
                b = max(b, rows.1 - cols.0, cols.1 - rows.0, cols.1 - cols.0)
            }
            if let out = span(lmi.output.columnStart - r, lmi.output.weights.columns) { b = max(b, out.1 - out.0) }
            self.position = position
            bandwidth = b
        }
    }
}
