import Foundation
import LipscopeLinearAlgebra

/// A certified upper bound on ‖T‖₂ for a convolution's matrix T, from its structure instead of a
/// dense SVD.
///
/// The Gram matrix G = M Mᵀ of one side (M = T: outputs, or Tᵀ: inputs — the cheaper one) is
/// banded once its indices are ordered pixel-major ((y, x, channel)): two pixels interact only
/// within a kernel's reach. λ_max(G) ≤ t is then proved by a banded Cholesky factorization
/// (n·b² work) of tI − G − cI, whose success means tI − G ⪰ 0 once c covers the rounding of
/// the factorization (bounded a posteriori from the factor, see `holds`). G's own rounding adds ‖ΔG‖₂ ≤ γ_K ‖|M|‖₁‖|M|‖∞ (K terms per entry). t is found by
/// bisection starting from a Lanczos estimate (first tried at estimate + 1.25c, which passes
/// once Lanczos has converged, then halved down to a bracket of c/4: about four
/// factorizations); the estimate is never the answer, only the Cholesky-checked t is. Never a
/// power-iteration value (which could be low).
enum ConvolutionNorm {
    struct Bound {
        /// Certified: ‖T‖₂ ≤ upper.
        var upper: Double
        /// The Lanczos estimate (a lower estimate, not certified).
        var estimate: Double
        var side: String
        var size: Int
        var bandwidth: Int
        var checks: Int
    }

    static func gamma(_ k: Int) -> Double {
        let u = Double.ulpOfOne / 2
        return Double(k) * u / (1 - Double(k) * u)
    }

    /// nil when no t within a factor 5 of the estimate passes (then the caller falls back to the
    /// dense norm).
    static func spectralNorm(_ conv: ConvolutionShape, checkCancelled: () throws -> Void = {}) throws -> Bound? {
        let g = conv.geometry
        let t = g.toeplitz(kernel: conv.kernel)
        // Pixel-major positions of the outputs (rows) and inputs (columns).
        func outputPosition(_ r: Int) -> Int {
            let plane = g.outHeight * g.outWidth
            return (r % plane) * g.outChannels + r / plane
        }
        func inputPosition(_ c: Int) -> Int {
            let plane = g.inHeight * g.inWidth
            return (c % plane) * g.inChannels + c / plane
        }
        let reachOut = (g.dilationH * (g.kernelHeight - 1) / g.strideH) * g.outWidth + g.dilationW * (g.kernelWidth - 1) / g.strideW
        let bandOut = (reachOut + 1) * g.outChannels
        let reachIn = g.dilationH * (g.kernelHeight - 1) * g.inWidth + g.dilationW * (g.kernelWidth - 1)
        let bandIn = (reachIn + 1) * g.inChannels
        let costOut = Double(g.outputSize) * Double(bandOut) * Double(bandOut)
        let costIn = Double(g.inputSize) * Double(bandIn) * Double(bandIn)
        let useOutputs = costOut <= costIn
        // M: rows are the Gram's indices, in CSR; mPosition maps a row to its band position.
        let m = useOutputs ? t : transpose(t)
        let position: [Int] = (0..<m.rows).map { useOutputs ? outputPosition($0) : inputPosition($0) }
        return try bandedGramNorm(m, position: position, side: useOutputs ? "outputs" : "inputs", checkCancelled: checkCancelled)
    }

    /// ‖M‖₂ ≤ upper for a sparse M whose Gram matrix M Mᵀ is banded once its rows are put at
    /// `position` (a permutation of 0..<M.rows): the banded Cholesky bisection above. nil when no
    /// t within a factor 5 of the Lanczos estimate passes.
    static func bandedGramNorm(_ m: SparseMatrix, position: [Int], side: String,
                               checkCancelled: () throws -> Void = {}) throws -> Bound? {
        let n = m.rows
        // Columns of M (CSC) to enumerate the pairs sharing a column.
        let mt = transpose(m)
        var bandwidth = 0
        // An entry of G sums at most (largest row count of M) products.
        let termsPerEntry = (0..<n).map { m.rowStart[$0 + 1] - m.rowStart[$0] }.max() ?? 0
        for k in 0..<mt.rows {
            let lo = mt.rowStart[k], hi = mt.rowStart[k + 1]
            var pmin = Int.max, pmax = Int.min
            for p in lo..<hi { let q = position[mt.columnIndex[p]]; pmin = min(pmin, q); pmax = max(pmax, q) }
            if hi > lo { bandwidth = max(bandwidth, pmax - pmin) }
        }
        let ld = bandwidth + 1
        var gram = [Double](repeating: 0, count: ld * n)  // lower band of G in pixel-major order
        // Column by column of M: its entries sorted by position, each pair (i ≥ j) once.
        var entries: [(position: Int, value: Double)] = []
        gram.withUnsafeMutableBufferPointer { g in
            for k in 0..<mt.rows {
                let lo = mt.rowStart[k], hi = mt.rowStart[k + 1]
                entries.removeAll(keepingCapacity: true)
                for p in lo..<hi { entries.append((position[mt.columnIndex[p]], mt.values[p])) }
                entries.sort { $0.position < $1.position }
                entries.withUnsafeBufferPointer { e in
                    for a in 0..<e.count {
                        let i = e[a].position, vi = e[a].value
                        for b in 0...a {
                            let j = e[b].position
                            g[(i - j) + j * ld] += vi * e[b].value
                        }
                    }
                }
            }
        }
        try checkCancelled()
        // ‖ΔG‖₂ ≤ γ_K ‖|M| |M|ᵀ‖₂ ≤ γ_K ‖|M|‖₁ ‖|M|‖∞.
        let rowSums = m.absoluteRowSums.max() ?? 0, columnSums = mt.absoluteRowSums.max() ?? 0
        let buildError = gamma(termsPerEntry + 2) * rowSums * columnSums
        let estimate = try lanczosTop(m, mt, steps: min(n, 150))
        var checks = 0
        var a = [Double](repeating: 0, count: gram.count)
        /// The margin c of `holds(t)` (it grows with t through the largest diagonal entry).
        func margin(_ t: Double) -> (c: Double, largest: Double) {
            var largest = 0.0
            for j in 0..<n { largest = max(largest, abs(t - gram[j * ld])) }
            let c = 1.5 * gamma(bandwidth + 2) * Double(bandwidth + 1) * largest + 4 * Double.ulpOfOne * largest
                + Double(n) * Double.leastNormalMagnitude * 1e20
            return (c, largest)
        }
        /// tI − G ⪰ 0, proved: with A = tI − G − cI, a completed factorization gives
        /// A + ΔA = L̂L̂ᵀ ⪰ 0 with |ΔA| ≤ γ_{b+2}|L̂||L̂ᵀ| (Higham, Thm 10.3; inner products of at
        /// most b + 1 terms), so ‖ΔA‖₂ ≤ γ_{b+2} ‖|L̂|‖₁‖|L̂|‖∞, computed from the factor afterwards
        /// and required to be ≤ c (forming the diagonal t − Gᵢᵢ − c adds ≤ 2u·|aᵢᵢ|, in c too).
        /// The a-posteriori bound is ~(b+1)·max aᵢᵢ instead of Demmel's Σ aᵢᵢ: n/b times smaller.
        func holds(_ t: Double) -> Bool {
            checks += 1
            for idx in 0..<a.count { a[idx] = -gram[idx] }
            let (c, largest) = margin(t)
            for j in 0..<n { a[j * ld] += t - c }
            guard let l = LinearAlgebra.bandedCholesky(n: n, bandwidth: bandwidth, band: a) else { return false }
            var rows = [Double](repeating: 0, count: n), columns = [Double](repeating: 0, count: n)
            for j in 0..<n {
                for d in 0...min(bandwidth, n - 1 - j) {
                    let v = abs(l[d + j * ld])
                    rows[j + d] += v
                    columns[j] += v
                }
            }
            let factorError = gamma(bandwidth + 2) * (rows.max() ?? 0) * (columns.max() ?? 0) * 1.01
            return factorError + 2 * Double.ulpOfOne * largest <= c
        }
        let base = max(estimate, Double.leastNormalMagnitude)
        var low = base * (1 - 1e-9)
        var high: Double? = nil
        // First t just past the estimate plus the margin the check subtracts: with a converged
        // estimate it passes, and [estimate, t] is already only a few margins wide.
        let first = base + 1.25 * margin(base).c + 1e-13 * base
        if holds(first) {
            high = first
            low = base
        } else {
            low = first
            var step = 1e-10
            while step < 4 {
                try checkCancelled()
                let t = base * (1 + step)
                if t > first {
                    if holds(t) { high = t; break }
                    low = t
                }
                step *= 100
            }
        }
        guard var upper = high else { return nil }
        // Tighten to a relative width of 1e-13 or a quarter of the margin c, whichever is
        // wider: the proved t is at least λ_max + c, so a narrower bracket gains nothing.
        while (upper - low) > max(1e-13 * upper, 0.25 * margin(upper).c) {
            try checkCancelled()
            let mid = (low + upper) / 2
            if holds(mid) { upper = mid } else { low = mid }
        }
        let norm = (upper + buildError).squareRoot() * (1 + 2 * Double.ulpOfOne)
        return Bound(upper: norm, estimate: estimate.squareRoot(), side: side, size: n, bandwidth: bandwidth, checks: checks)
    }

    static func transpose(_ a: SparseMatrix) -> SparseMatrix {
        var counts = [Int](repeating: 0, count: a.columns + 1)
        for j in a.columnIndex { counts[j + 1] += 1 }
        for j in 0..<a.columns { counts[j + 1] += counts[j] }
        var next = counts
        var cols = [Int](repeating: 0, count: a.values.count)
        var vals = [Double](repeating: 0, count: a.values.count)
        for i in 0..<a.rows {
            for p in a.rowStart[i]..<a.rowStart[i + 1] {
                let j = a.columnIndex[p]
                cols[next[j]] = i
                vals[next[j]] = a.values[p]
                next[j] += 1
            }
        }
        return SparseMatrix(rows: a.columns, columns: a.rows, rowStart: counts, columnIndex: cols, values: vals)
    }

    /// Top eigenvalue estimate of M Mᵀ by Lanczos with full reorthogonalization, stopped early
    /// once the top Ritz value has settled (only an estimate: the Cholesky checks prove the bound).
    static func lanczosTop(_ m: SparseMatrix, _ mt: SparseMatrix, steps: Int) throws -> Double {
        let n = m.rows
        var rng = SeededGenerator(seed: 17)
        var v = (0..<n).map { _ in rng.gaussian() }
        var norm = (v.reduce(0) { $0 + $1 * $1 }).squareRoot()
        v = v.map { $0 / norm }
        var basis: [[Double]] = [v]
        var alphas: [Double] = [], betas: [Double] = []
        func topRitz() throws -> Double {
            let k = alphas.count
            var tri = Matrix(rows: k, columns: k)
            for i in 0..<k { tri[i, i] = alphas[i] }
            for i in 0..<min(betas.count, k - 1) { tri[i + 1, i] = betas[i]; tri[i, i + 1] = betas[i] }
            return max(0, try LinearAlgebra.symmetricEigenvalues(tri).last ?? 0)
        }
        var settled = -1.0
        for k in 0..<steps {
            var w = m * (mt * basis[k])
            let alpha = zip(w, basis[k]).reduce(0) { $0 + $1.0 * $1.1 }
            alphas.append(alpha)
            for _ in 0..<2 {
                for b in basis {
                    let dot = zip(w, b).reduce(0) { $0 + $1.0 * $1.1 }
                    for i in 0..<n { w[i] -= dot * b[i] }
                }
            }
            norm = (w.reduce(0) { $0 + $1 * $1 }).squareRoot()
            if k == steps - 1 || norm <= 1e-12 * max(abs(alpha), 1e-300) { break }
            if k >= 29 && k % 10 == 9 {
                // Every 10 steps past 30: stop when the top Ritz value moved less than 1e-15.
                let top = try topRitz()
                if abs(top - settled) <= 1e-15 * top { break }
                settled = top
            }
            betas.append(norm)
            basis.append(w.map { $0 / norm })
        }
        return try topRitz()
    }
}
