import Foundation
import CLapack
import LipscopeLinearAlgebra

/// Banded Cholesky factors for the chain and its certificate on conv nets. After the first layer
/// the Schur complement (chain: X₁ = L − LK̂₁L, K̂₁ = CW₁W₁ᵀC; certificate: the block of −M after
/// eliminating the diagonal input block) has the pattern of W₁W₁ᵀ: neurons couple only when their
/// receptive fields overlap. In the ONNX order (channel-major) that pattern spans the whole
/// layer; ordered by reverse Cuthill–McKee it is a band a few hundred wide, and a band Cholesky
/// (dpbtrf) costs n·kd² instead of n³/3 (2048 neurons: 2.9 GFlop → ≈ 0.1 GFlop), and the
/// triangular solves with it n·kd per right-hand side instead of n²/2.
///
/// The band factor is a Cholesky of exactly the same matrix (every entry outside the band is an
/// exact zero, checked), so a completed band Cholesky proves what a dense one would (the rounding
/// bound of `ChainCertificate` holds for any order of each entry's inner product).
struct BandedCholesky {
    let n: Int
    let kd: Int
    /// The factor, dense lower-triangular (zeros above and outside the band).
    let dense: Matrix

    /// The largest i − j with a[i, j] ≠ 0 in the lower triangle of the n × n column-major `a`.
    static func bandwidth(_ a: UnsafePointer<Double>, n: Int) -> Int {
        var kd = 0
        for j in 0..<n {
            var i = n - 1
            while i > j + kd && a[i + j * n] == 0 { i -= 1 }
            if i - j > kd { kd = i - j }
        }
        return kd
    }

    /// Worth it when the band is narrow: n·kd² ≪ n³/3.
    static func applies(n: Int, kd: Int) -> Bool { n >= 256 && kd * 5 <= n }

    /// The band Cholesky of the lower triangle of `a` (n × n column-major) with bandwidth kd;
    /// nil when it is not numerically positive definite.
    init?(lowerOf a: UnsafePointer<Double>, n: Int, kd: Int) {
        self.n = n
        self.kd = kd
        let ld = kd + 1
        var b = [Double](repeating: 0, count: ld * n)
        for j in 0..<n {
            let last = min(n - 1, j + kd)
            for i in j...last { b[(i - j) + j * ld] = a[i + j * n] }
        }
        let info = LAPACKE_dpbtrf(LAPACK_COL_MAJOR, CChar(UInt8(ascii: "L")), Int32(n), Int32(kd), &b, Int32(ld))
        guard info == 0 else { return nil }
        var l = Matrix(rows: n, columns: n)
        l.storage.withUnsafeMutableBufferPointer { ls in
            for j in 0..<n {
                for i in j...min(n - 1, j + kd) { ls[i + j * n] = b[(i - j) + j * ld] }
            }
        }
        dense = l
    }

    /// W ← W L⁻ᵀ for the rows × n column-major W (`Staircase`, only the kd columns before a
    /// block can be nonzero in L's rows there).
    func solveRightLowerTransposed(_ w: UnsafeMutablePointer<Double>, rows: Int) {
        dense.storage.withUnsafeBufferPointer { ls in
            _ = Staircase.solveRightLowerTransposed(ls.baseAddress!, n: n, kd: kd, w, rows: rows)
        }
    }

    /// Y = W L⁻ᵀ.
    func solveRightLowerTransposed(_ w: Matrix) -> Matrix {
        precondition(w.columns == n)
        var y = w
        y.storage.withUnsafeMutableBufferPointer { ys in solveRightLowerTransposed(ys.baseAddress!, rows: w.rows) }
        return y
    }
}

/// The Cholesky factor of a symmetric matrix, banded when its band is narrow, else dense.
enum ChainFactor {
    case dense(Matrix)
    case band(BandedCholesky)

    /// The Cholesky factor of the symmetric `x` (band when narrow), nil when not numerically
    /// positive definite.
    static func factor(_ x: Matrix) -> ChainFactor? {
        let n = x.rows
        let kd = x.storage.withUnsafeBufferPointer { BandedCholesky.bandwidth($0.baseAddress!, n: n) }
        if n > 0, BandedCholesky.applies(n: n, kd: kd) {
            return x.storage.withUnsafeBufferPointer { xs in BandedCholesky(lowerOf: xs.baseAddress!, n: n, kd: kd) }.map { .band($0) }
        }
        return LinearAlgebra.cholesky(x).map { .dense($0) }
    }

    var dense: Matrix {
        switch self {
        case .dense(let l): return l
        case .band(let b): return b.dense
        }
    }

    /// Y = W L⁻ᵀ.
    func solveRightLowerTransposed(_ w: Matrix) -> Matrix {
        switch self {
        case .dense(let l):
            guard Staircase.applies(rows: w.rows, k: w.columns) else { return ChainAlgebra.solveRightLowerTransposed(w, l) }
            var y = w
            let done = y.storage.withUnsafeMutableBufferPointer { ys in
                l.storage.withUnsafeBufferPointer { ls in
                    Staircase.solveRightLowerTransposed(ls.baseAddress!, n: l.rows, kd: l.rows, ys.baseAddress!, rows: w.rows)
                }
            }
            return done ? y : ChainAlgebra.solveRightLowerTransposed(w, l)
        case .band(let b): return b.solveRightLowerTransposed(w)
        }
    }
}

extension LayerChain {
    /// The same chain with the first hidden layer's neurons in reverse Cuthill–McKee order of the
    /// pattern of W₁W₁ᵀ (rows of W₁, α, β and the columns of the next weight permuted alike), when
    /// W₁ is sparse and the order narrows that pattern's band, and the neurons of the sparse
    /// layers after it sorted by their first input; else nil. A permutation of a
    /// layer's neurons permutes −M of LipSDP-Neuron symmetrically (with the multipliers permuted
    /// alike): the same LMI, so the same ρ and the same certificate. `order[t]` is the original
    /// index of the neuron now at t.
    func bandOrdered() -> (chain: LayerChain, order: [Int])? {
        guard let first = hidden.first, let s = first.sparse, s.rows >= 256 else { return nil }
        let n = s.rows
        // Column lists of W₁ (rows of each input).
        var colStart = [Int](repeating: 0, count: s.columns + 1)
        for k in 0..<s.nonzeroCount { colStart[s.columnIndex[k] + 1] += 1 }
        for j in 0..<s.columns { colStart[j + 1] += colStart[j] }
        var fill = colStart
        var rowsOf = [Int](repeating: 0, count: s.nonzeroCount)
        for i in 0..<n { for k in s.rowStart[i]..<s.rowStart[i + 1] { let j = s.columnIndex[k]; rowsOf[fill[j]] = i; fill[j] += 1 } }
        // Adjacency of W₁W₁ᵀ (rows sharing an input).
        var adjacency = [[Int]](repeating: [], count: n)
        var mark = [Int](repeating: -1, count: n)
        for i in 0..<n {
            mark[i] = i
            for k in s.rowStart[i]..<s.rowStart[i + 1] {
                let j = s.columnIndex[k]
                for q in colStart[j]..<colStart[j + 1] where mark[rowsOf[q]] != i {
                    mark[rowsOf[q]] = i
                    adjacency[i].append(rowsOf[q])
                }
            }
        }
        func bandwidth(_ position: [Int]) -> Int {
            var b = 0
            for i in 0..<n { for j in adjacency[i] { b = max(b, abs(position[i] - position[j])) } }
            return b
        }
        // Cuthill–McKee from a minimum-degree node of each component, neighbours by degree; reversed.
        var visited = [Bool](repeating: false, count: n)
        var order: [Int] = []
        order.reserveCapacity(n)
        let byDegree = (0..<n).sorted { (adjacency[$0].count, $0) < (adjacency[$1].count, $1) }
        for start in byDegree where !visited[start] {
            visited[start] = true
            var head = order.count
            order.append(start)
            while head < order.count {
                let v = order[head]
                head += 1
                let next = adjacency[v].filter { !visited[$0] }.sorted { (adjacency[$0].count, $0) < (adjacency[$1].count, $1) }
                for u in next { visited[u] = true; order.append(u) }
            }
        }
        order.reverse()
        var position = [Int](repeating: 0, count: n)
        for (t, i) in order.enumerated() { position[i] = t }
        guard bandwidth(position) < bandwidth(Array(0..<n)) else { return nil }
        var chain = permuting(layer: 0, order)
        // Later sparse layers: neurons sorted by their first input in the previous layer's order,
        // so the rows of W L⁻ᵀ start late block by block (`Staircase`).
        for k in 1..<hidden.count {
            guard let sk = chain.hidden[k].sparse, sk.rows >= 256 else { break }
            let first = (0..<sk.rows).map { i in sk.rowStart[i] < sk.rowStart[i + 1] ? sk.columnIndex[sk.rowStart[i]] : sk.columns }
            let byFirst = (0..<sk.rows).sorted { (first[$0], $0) < (first[$1], $1) }
            chain = chain.permuting(layer: k, byFirst)
        }
        return (chain, order)
    }

    /// The chain with hidden layer `layer`'s neurons in `order` (order[t] = old index).
    func permuting(layer: Int, _ order: [Int]) -> LayerChain {
        var c = self
        let old = hidden[layer]
        func rows(_ m: Matrix) -> Matrix {
            var r = Matrix(rows: m.rows, columns: m.columns)
            let n = m.rows
            r.storage.withUnsafeMutableBufferPointer { rs in
                m.storage.withUnsafeBufferPointer { ms in
                    for j in 0..<m.columns { for t in 0..<n { rs[t + j * n] = ms[order[t] + j * n] } }
                }
            }
            return r
        }
        func columns(_ m: Matrix) -> Matrix {
            var r = Matrix(rows: m.rows, columns: m.columns)
            let n = m.rows
            r.storage.withUnsafeMutableBufferPointer { rs in
                m.storage.withUnsafeBufferPointer { ms in
                    for t in 0..<order.count {
                        let src = order[t] * n, dst = t * n
                        for i in 0..<n { rs[dst + i] = ms[src + i] }
                    }
                }
            }
            return r
        }
        var sparseRows: SparseMatrix? = nil
        if let s = old.sparse {
            var start = [0], cols: [Int] = [], vals: [Double] = []
            for t in 0..<order.count {
                let i = order[t]
                for k in s.rowStart[i]..<s.rowStart[i + 1] { cols.append(s.columnIndex[k]); vals.append(s.values[k]) }
                start.append(cols.count)
            }
            sparseRows = SparseMatrix(rows: s.rows, columns: s.columns, rowStart: start, columnIndex: cols, values: vals)
        }
        c.hidden[layer] = Hidden(weight: rows(old.weight), sparse: sparseRows, alpha: order.map { old.alpha[$0] },
                                 beta: order.map { old.beta[$0] })
        if layer + 1 < hidden.count {
            let next = hidden[layer + 1]
            var position = [Int](repeating: 0, count: order.count)
            for (t, i) in order.enumerated() { position[i] = t }
            let sparseColumns = next.sparse.map { s in
                var cols = s.columnIndex.map { position[$0] }
                var vals = s.values
                // Keep each row's columns ascending.
                for i in 0..<s.rows {
                    let range = s.rowStart[i]..<s.rowStart[i + 1]
                    let sorted = range.map { (cols[$0], vals[$0]) }.sorted { $0.0 < $1.0 }
                    for (q, e) in zip(range, sorted) { cols[q] = e.0; vals[q] = e.1 }
                }
                return SparseMatrix(rows: s.rows, columns: s.columns, rowStart: s.rowStart, columnIndex: cols, values: vals)
            }
            c.hidden[layer + 1] = Hidden(weight: columns(next.weight), sparse: sparseColumns, alpha: next.alpha, beta: next.beta)
        } else {
            c.output = columns(output)
        }
        return c
    }
}

/// Products that skip a matrix's leading zeros row by row ("staircase"). A row of W L⁻ᵀ is zero
/// before the row's first nonzero of W (forward substitution), and with a layer's neurons sorted
/// by that first nonzero (`LayerChain.bandOrdered`) whole blocks of rows start late, so the
/// triangular solve and the Gram product of a conv layer skip those zeros: the same sums, their
/// exact-zero terms left out.
enum Staircase {
    /// The first nonzero column of each row of the rows × n column-major `w` (n when none).
    static func firstNonzero(_ w: UnsafePointer<Double>, rows: Int, columns n: Int) -> [Int] {
        var first = [Int](repeating: n, count: rows)
        var open = rows
        for j in 0..<n where open > 0 {
            for i in 0..<rows where first[i] == n && w[i + j * rows] != 0 { first[i] = j; open -= 1 }
        }
        return first
    }

    /// W ← W L⁻ᵀ (L lower triangular n × n, column-major with leading dimension n, nonzero only
    /// within kd below the diagonal) by column blocks J: W_J ← (W_J − W_{[k₀,J)} L_{J,[k₀,J)}ᵀ)L_{JJ}⁻ᵀ
    /// with k₀ = max(0, j₀ − kd), on the rows that can be nonzero in block J (first nonzero < j₁;
    /// the other rows' entries there stay exact zeros).
    /// Returns false, doing nothing, when L is dense (kd ≥ n − 1) and W has too few leading zeros
    /// to gain (the caller's dtrsm then runs as before: dense nets keep their exact numbers).
    @discardableResult
    static func solveRightLowerTransposed(_ l: UnsafePointer<Double>, n: Int, kd: Int,
                                          _ w: UnsafeMutablePointer<Double>, rows: Int) -> Bool {
        if rows == 0 || n == 0 { return true }
        let first = firstNonzero(w, rows: rows, columns: n)
        if kd >= n - 1 && !worthwhile(first, columns: n) { return false }
        // active[J]: 1 + the last row whose first nonzero is before the block's end.
        let nb = 128
        var j0 = 0
        while j0 < n {
            let j1 = min(n, j0 + nb), width = j1 - j0
            var active = 0
            for i in stride(from: rows - 1, through: 0, by: -1) where first[i] < j1 { active = i + 1; break }
            if active > 0 {
                let k0 = max(0, j0 - kd)
                if j0 > k0 {
                    cblas_dgemm(CblasColMajor, CblasNoTrans, CblasTrans, Int32(active), Int32(width), Int32(j0 - k0), -1,
                                w + k0 * rows, Int32(rows), l + j0 + k0 * n, Int32(n), 1, w + j0 * rows, Int32(rows))
                }
                cblas_dtrsm(CblasColMajor, CblasRight, CblasLower, CblasTrans, CblasNonUnit, Int32(active), Int32(width), 1,
                            l + j0 + j0 * n, Int32(n), w + j0 * rows, Int32(rows))
            }
            j0 = j1
        }
        return true
    }

    /// Enough leading zeros (a tenth of the entries) to pay for the blocking.
    static func worthwhile(_ first: [Int], columns: Int) -> Bool {
        first.reduce(0, +) * 10 >= first.count * columns
    }

    /// Lower triangle of C ← C + sign·Y Yᵀ (Y rows × k column-major, C rows × rows) by row blocks
    /// I, each from the block's first nonzero column c_I on: C_II by dsyrk, C_{I,<I} by dgemm.
    /// Returns false, doing nothing, when Y has too few leading zeros to gain.
    static func addGram(_ y: UnsafePointer<Double>, rows: Int, k: Int, sign: Double, _ c: UnsafeMutablePointer<Double>) -> Bool {
        if rows == 0 || k == 0 { return true }
        let first = firstNonzero(y, rows: rows, columns: k)
        if !worthwhile(first, columns: k) { return false }
        let nb = 128
        var i0 = 0
        while i0 < rows {
            let i1 = min(rows, i0 + nb), height = i1 - i0
            let c0 = first[i0..<i1].min() ?? k
            if c0 < k {
                cblas_dsyrk(CblasColMajor, CblasLower, CblasNoTrans, Int32(height), Int32(k - c0), sign,
                            y + i0 + c0 * rows, Int32(rows), 1, c + i0 + i0 * rows, Int32(rows))
                if i0 > 0 {
                    cblas_dgemm(CblasColMajor, CblasNoTrans, CblasTrans, Int32(height), Int32(i0), Int32(k - c0), sign,
                                y + i0 + c0 * rows, Int32(rows), y + c0 * rows, Int32(rows), 1, c + i0, Int32(rows))
                }
            }
            i0 = i1
        }
        return true
    }

    /// Worth the blocking: a few hundred rows at least.
    static func applies(rows: Int, k: Int) -> Bool { rows >= 256 && k >= 256 }
}
