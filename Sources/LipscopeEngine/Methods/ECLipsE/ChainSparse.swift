import Foundation
import CLapack
import LipscopeLinearAlgebra

/// Sparse kernels and an iterative top eigenvalue for the chain on conv nets: a convolution's
/// weight has a few dozen nonzeros per row, so its Gram matrix SSᵀ costs Σ (nonzeros per column)²
/// instead of the dense n²·m of dsyrk (2048 × 3072 on the oval21 CIFAR nets: 13 GFlop → 10 MFlop).
enum ChainSparse {
    /// D S Sᵀ D as a dense symmetric n × n matrix (D = diag(`rowScale`)), accumulated column by
    /// column of S.
    static func scaledGram(_ s: SparseMatrix, rowScale d: [Double]) -> Matrix {
        precondition(d.count == s.rows)
        let n = s.rows
        var g = Matrix(rows: n, columns: n)
        // Column lists (row, scaled value).
        var count = [Int](repeating: 0, count: s.columns + 1)
        for k in 0..<s.nonzeroCount { count[s.columnIndex[k] + 1] += 1 }
        for j in 0..<s.columns { count[j + 1] += count[j] }
        var next = count
        var rowsOf = [Int](repeating: 0, count: s.nonzeroCount)
        var valuesOf = [Double](repeating: 0, count: s.nonzeroCount)
        for i in 0..<s.rows {
            for k in s.rowStart[i]..<s.rowStart[i + 1] {
                let j = s.columnIndex[k]
                rowsOf[next[j]] = i
                valuesOf[next[j]] = s.values[k] * d[i]
                next[j] += 1
            }
        }
        g.storage.withUnsafeMutableBufferPointer { gs in
            for j in 0..<s.columns {
                let lo = count[j], hi = count[j + 1]
                for a in lo..<hi {
                    let ia = rowsOf[a], va = valuesOf[a]
                    for b in a..<hi {
                        let ib = rowsOf[b]
                        let (r, c) = ia >= ib ? (ia, ib) : (ib, ia)
                        gs[r + c * n] += va * valuesOf[b]
                    }
                }
            }
        }
        ChainAlgebra.symmetrizeFromLower(&g)
        return g
    }

    /// Sᵀ D² S, the dense m × m Gram of the columns, Σᵢ dᵢ² sᵢ sᵢᵀ over the rows sᵢ of S (the
    /// small side of a layer wider than its input); `absolute` uses |S| (rounding bounds).
    static func columnGram(_ s: SparseMatrix, rowScale d: [Double], absolute: Bool = false) -> Matrix {
        let m = s.columns
        var g = Matrix(rows: m, columns: m)
        g.storage.withUnsafeMutableBufferPointer { gs in
            for i in 0..<s.rows {
                let lo = s.rowStart[i], hi = s.rowStart[i + 1]
                let w = d[i] * d[i]
                for a in lo..<hi {
                    let ja = s.columnIndex[a]
                    let va = (absolute ? abs(s.values[a]) : s.values[a]) * w
                    for b in lo..<hi {
                        let jb = s.columnIndex[b]
                        if jb < ja { continue }
                        gs[jb + ja * m] += va * (absolute ? abs(s.values[b]) : s.values[b])
                    }
                }
            }
        }
        ChainAlgebra.symmetrizeFromLower(&g)
        return g
    }

    /// D S (rows scaled).
    static func scalingRows(_ s: SparseMatrix, by d: [Double]) -> SparseMatrix {
        var values = s.values
        for i in 0..<s.rows { for k in s.rowStart[i]..<s.rowStart[i + 1] { values[k] *= d[i] } }
        return SparseMatrix(rows: s.rows, columns: s.columns, rowStart: s.rowStart, columnIndex: s.columnIndex, values: values)
    }

    /// Sᵀx.
    static func transposeTimes(_ s: SparseMatrix, _ x: [Double]) -> [Double] {
        var y = [Double](repeating: 0, count: s.columns)
        for i in 0..<s.rows {
            let xi = x[i]
            if xi == 0 { continue }
            for k in s.rowStart[i]..<s.rowStart[i + 1] { y[s.columnIndex[k]] += s.values[k] * xi }
        }
        return y
    }

    /// A · S for dense A (q × n) and sparse S (n × m): q × m dense.
    static func denseTimesSparse(_ a: Matrix, _ s: SparseMatrix, absolute: Bool = false) -> Matrix {
        precondition(a.columns == s.rows)
        let q = a.rows
        var c = Matrix(rows: q, columns: s.columns)
        for i in 0..<s.rows {
            for k in s.rowStart[i]..<s.rowStart[i + 1] {
                let j = s.columnIndex[k]
                let v = absolute ? abs(s.values[k]) : s.values[k]
                for r in 0..<q { c[r, j] += (absolute ? abs(a[r, i]) : a[r, i]) * v }
            }
        }
        return c
    }

    /// λ_max of a symmetric matrix by Lanczos with full reorthogonalization from a fixed start:
    /// the largest Ritz value θ plus its residual norm (an eigenvalue lies within ‖r‖ of θ) — an
    /// estimate, not a certified bound: the chain only needs it approximately (the certificate checks
    /// the multipliers it gives), and the residual keeps it from falling below λ_max in practice.
    static func lanczosTop(_ a: Matrix, steps: Int = 80, tolerance: Double = 1e-9) throws -> Double {
        let n = a.rows
        if n <= 1 { return n == 1 ? a[0, 0] : 0 }
        // A mostly zero matrix (the coupling of a conv layer) multiplies in sparse form.
        if a.nonzeroCount <= n * n / 10 {
            let s = SparseMatrix(a)
            return try lanczosTop(size: n, steps: steps, tolerance: tolerance) { s * $0 }
        }
        // Dense: dsymv reads the lower triangle only (half of dgemv's memory traffic, which bounds
        // these steps on the 2048-wide CIFAR couplings).
        return try lanczosTop(size: n, steps: steps, tolerance: tolerance) { x in
            var y = [Double](repeating: 0, count: n)
            a.storage.withUnsafeBufferPointer { ab in
                cblas_dsymv(CblasColMajor, CblasLower, Int32(n), 1, ab.baseAddress!, Int32(n), x, 1, 0, &y, 1)
            }
            return y
        }
    }

    static func dot(_ a: [Double], _ b: [Double]) -> Double {
        var s = 0.0
        for i in 0..<a.count { s += a[i] * b[i] }
        return s
    }

    /// Lanczos with full reorthogonalization (twice is enough) from a fixed start vector, for at
    /// most `steps` steps. After step j, `inspect(j, α₀…α_j, β₀…β_{j−1}, ‖w‖)` returns a result to
    /// stop with, or nil to go on; the sweep also stops, with nil, once ‖w‖ vanishes.
    static func lanczos<Result>(size n: Int, steps: Int, times: ([Double]) -> [Double],
                                inspect: (Int, [Double], [Double], Double) throws -> Result?) rethrows -> Result? {
        var basis: [[Double]] = []
        var v: [Double] = (0..<n).map { (i: Int) -> Double in 1 + 0.001 * Double(i % 7) + 0.0001 * Double(i % 13) }
        var norm = dot(v, v).squareRoot()
        v = v.map { $0 / norm }
        var alphas: [Double] = [], betas: [Double] = []
        for j in 0..<min(steps, n) {
            basis.append(v)
            var w = times(v)
            alphas.append(dot(w, v))
            for _ in 0..<2 {
                for b in basis {
                    let p = dot(w, b)
                    for i in 0..<n { w[i] -= p * b[i] }
                }
            }
            norm = dot(w, w).squareRoot()
            if let result = try inspect(j, alphas, betas, norm) { return result }
            guard norm > 1e-300 else { return nil }
            betas.append(norm)
            v = w.map { $0 / norm }
        }
        return nil
    }

    /// The tridiagonal T_j of a Lanczos sweep's α₀…α_j, β₀…β_{j−1}.
    static func tridiagonal(_ alphas: [Double], _ betas: [Double]) -> Matrix {
        let size = alphas.count
        var t = Matrix(rows: size, columns: size)
        for i in 0..<size { t[i, i] = alphas[i]; if i < size - 1 { t[i, i + 1] = betas[i]; t[i + 1, i] = betas[i] } }
        return t
    }

    /// Whether Lanczos on the symmetric operator `times` finds a Ritz value above `threshold`
    /// within `steps` steps. Ritz values never exceed λ_max, so true means λ_max > threshold (up to
    /// the rounding of the steps); false means only "not shown".
    static func lanczosExceeds(size n: Int, steps: Int, threshold: Double, times: ([Double]) -> [Double]) throws -> Bool {
        try lanczos(size: n, steps: steps, times: times) { _, alphas, betas, _ in
            (try LinearAlgebra.symmetricEigen(tridiagonal(alphas, betas)).values.last ?? 0) > threshold ? true : nil
        } ?? false
    }

    static func lanczosTop(size n: Int, steps: Int, tolerance: Double, times: ([Double]) -> [Double]) throws -> Double {
        let m = min(steps, n)
        var estimate = -Double.infinity
        let converged = try lanczos(size: n, steps: m, times: times) { j, alphas, betas, norm -> Double? in
            // Past 80 steps (only a cheap operator runs that long) the Ritz values every 10 steps.
            if j >= 80 && (j + 1) % 10 != 0 && j != m - 1 && norm > 1e-300 { return nil }
            let (values, vectors) = try LinearAlgebra.symmetricEigen(tridiagonal(alphas, betas))
            let theta = values.last ?? 0
            let residual = abs(norm * vectors[j, j])
            if residual <= tolerance * max(abs(theta), 1e-300) || norm <= 1e-300 || j == m - 1 {
                return max(theta + residual, estimate)
            }
            estimate = max(estimate, theta)
            return nil
        }
        return converged ?? estimate
    }
}
