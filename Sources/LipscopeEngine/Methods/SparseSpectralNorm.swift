import LipscopeLinearAlgebra

/// A certified upper bound on ‖W‖₂ for a sparse weight that carries no convolution annotation
/// (a graph edge, a lowered MaxPool level, a sparse JSON layer), without a dense SVD of the whole.
///
/// 1. W is block diagonal up to permutations over the connected components of its bipartite
///    row–column graph, and ‖W‖₂ is the largest component's norm — exact. A MaxPool level with
///    disjoint windows falls apart into one tiny block per window.
/// 2. A small component takes the dense SVD (as every dense layer does).
/// 3. A large one is ordered by Cuthill–McKee on the graph of its Gram matrix (rows sharing a
///    column), which for a convolution finds a wavefront ordering with a band of a few kernel
///    reaches, or pixel-major (its rows read as a channel-major tensor, every divisor of the
///    row count tried as the channel count) when that band is narrower (often half: a conv
///    edge of a residual graph), and goes to the banded-Cholesky proof of `ConvolutionNorm.bandedGramNorm` when
///    that band is cheaper than the dense SVD; otherwise the dense SVD.
enum SparseSpectralNorm {
    struct Outcome {
        var upper: Double
        /// How it was computed, for `details`.
        var how: String
    }

    /// Components at most this wide (in min(rows, columns)) take the dense SVD.
    static let denseLimit = 256

    static func upperBound(_ w: SparseMatrix, checkCancelled: () throws -> Void = {}) throws -> Outcome {
        let parts = components(w)
        var worst = 0.0
        var banded: [String] = [], dense = 0
        for (rows, columns) in parts {
            try checkCancelled()
            let block = submatrix(w, rows: rows, columns: columns)
            let (norm, band) = try componentNorm(block, checkCancelled: checkCancelled)
            if let band { banded.append(band) } else { dense += 1 }
            worst = max(worst, norm)
        }
        var how = "\(parts.count) connected block\(parts.count == 1 ? "" : "s") (largest \(parts.map { $0.0.count }.max() ?? 0) rows)"
        if !banded.isEmpty {
            let kinds = Set(banded).sorted().joined(separator: "; ")
            how += ", \(banded.count) by banded Cholesky on the Gram (\(kinds))"
        }
        if dense > 0 { how += ", \(dense) by dense SVD" }
        return Outcome(upper: worst, how: how)
    }

    /// The norm of one connected block, and how the banded proof gave it (nil: dense SVD).
    static func componentNorm(_ m: SparseMatrix, checkCancelled: () throws -> Void) throws -> (Double, String?) {
        if min(m.rows, m.columns) <= denseLimit || m.nonzeroCount == 0 {
            return (try LinearAlgebra.spectralNorm(m.dense), nil)
        }
        // The side with the smaller banded cost n·b² (either Gram has the same top eigenvalue).
        let mt = ConvolutionNorm.transpose(m)
        let sides = [(m, mt, "outputs"), (mt, m, "inputs")].map { (matrix, transposed, side) -> (SparseMatrix, String, [Int], Double) in
            let order = narrowestOrder(matrix, transposed: transposed)
            let b = Double(order.bandwidth)
            return (matrix, "\(side) Gram, \(order.name) order", order.position, Double(matrix.rows) * b * b)
        }
        let best = sides.min { $0.3 < $1.3 }!
        let denseCost = 4 * Double(m.rows) * Double(m.columns) * Double(min(m.rows, m.columns))
        if best.3 < denseCost,
           let bound = try ConvolutionNorm.bandedGramNorm(best.0, position: best.2, side: best.1, checkCancelled: checkCancelled) {
            return (bound.upper, best.1)
        }
        return (try LinearAlgebra.spectralNorm(m.dense), nil)
    }

    /// The row and column sets of the connected components of W's bipartite graph (rows without
    /// nonzeros are their own zero blocks and are left out).
    static func components(_ w: SparseMatrix) -> [([Int], [Int])] {
        var parent = Array(0..<w.columns)
        func find(_ x: Int) -> Int {
            var x = x
            while parent[x] != x { parent[x] = parent[parent[x]]; x = parent[x] }
            return x
        }
        for i in 0..<w.rows where w.rowStart[i + 1] > w.rowStart[i] {
            let first = find(w.columnIndex[w.rowStart[i]])
            for p in w.rowStart[i]..<w.rowStart[i + 1] {
                let r = find(w.columnIndex[p])
                if r != first { parent[r] = first }
            }
        }
        var index: [Int: Int] = [:]
        var parts: [([Int], [Int])] = []
        for i in 0..<w.rows where w.rowStart[i + 1] > w.rowStart[i] {
            let root = find(w.columnIndex[w.rowStart[i]])
            if index[root] == nil { index[root] = parts.count; parts.append(([], [])) }
            parts[index[root]!].0.append(i)
        }
        for j in 0..<w.columns {
            if let k = index[find(j)] { parts[k].1.append(j) }
        }
        return parts
    }

    static func submatrix(_ w: SparseMatrix, rows: [Int], columns: [Int]) -> SparseMatrix {
        if rows.count == w.rows && columns.count == w.columns { return w }
        var local = [Int](repeating: -1, count: w.columns)
        for (k, j) in columns.enumerated() { local[j] = k }
        var triplets: [(Int, Int, Double)] = []
        for (k, i) in rows.enumerated() {
            for p in w.rowStart[i]..<w.rowStart[i + 1] where local[w.columnIndex[p]] >= 0 {
                triplets.append((k, local[w.columnIndex[p]], w.values[p]))
            }
        }
        return SparseMatrix(rows: rows.count, columns: columns.count, triplets: triplets)
    }

    /// The row order with the narrowest Gram band among Cuthill–McKee's and the pixel-major
    /// orders of M's rows read as a channel-major tensor with C channels, for every divisor C of
    /// the row count: a convolution's rows are such a tensor, and pixel-major puts interacting
    /// rows within a few kernel reaches (Cuthill–McKee's level sets can be twice as wide).
    static func narrowestOrder(_ m: SparseMatrix, transposed mt: SparseMatrix) -> (position: [Int], bandwidth: Int, name: String) {
        var best = cuthillMcKee(m, transposed: mt)
        var band = gramBandwidth(transposed: mt, position: best)
        var name = "Cuthill–McKee"
        let n = m.rows
        for c in 2..<max(2, n) where n % c == 0 && band > 0 {
            let plane = n / c
            let position = (0..<n).map { r in (r % plane) * c + r / plane }
            let b = gramBandwidth(transposed: mt, position: position)
            if b < band { band = b; best = position; name = "pixel-major (\(c) channels)" }
        }
        return (best, band, name)
    }

    /// position[row] for the Cuthill–McKee order of M's rows on the graph of M Mᵀ (two rows are
    /// neighbours when they share a column), from a pseudo-peripheral start (two sweeps).
    static func cuthillMcKee(_ m: SparseMatrix, transposed mt: SparseMatrix) -> [Int] {
        func sweep(from start: Int) -> [Int] {
            var order: [Int] = [start]
            var seen = [Bool](repeating: false, count: m.rows)
            // A column once expanded has put all its rows in the order: expanding it again adds
            // nothing, so each column is read once (O(nonzeros), not O(Σ column counts²)).
            var expanded = [Bool](repeating: false, count: m.columns)
            seen[start] = true
            var head = 0
            while order.count < m.rows {
                if head == order.count {
                    // Disconnected remainder (only rows without nonzeros here): append them.
                    if let next = (0..<m.rows).first(where: { !seen[$0] }) { seen[next] = true; order.append(next) }
                    continue
                }
                let r = order[head]
                head += 1
                for p in m.rowStart[r]..<m.rowStart[r + 1] {
                    let c = m.columnIndex[p]
                    if expanded[c] { continue }
                    expanded[c] = true
                    for q in mt.rowStart[c]..<mt.rowStart[c + 1] {
                        let r2 = mt.columnIndex[q]
                        if !seen[r2] { seen[r2] = true; order.append(r2) }
                    }
                }
            }
            return order
        }
        let first = sweep(from: 0)
        let order = sweep(from: first.last ?? 0)
        var position = [Int](repeating: 0, count: m.rows)
        for (k, r) in order.enumerated() { position[r] = k }
        return position
    }

    /// The half-bandwidth of M Mᵀ with rows at `position`, from Mᵀ (its rows are M's columns).
    static func gramBandwidth(transposed mt: SparseMatrix, position: [Int]) -> Int {
        var bandwidth = 0
        for c in 0..<mt.rows where mt.rowStart[c + 1] > mt.rowStart[c] {
            var lo = Int.max, hi = Int.min
            for q in mt.rowStart[c]..<mt.rowStart[c + 1] { let p = position[mt.columnIndex[q]]; lo = min(lo, p); hi = max(hi, p) }
            bandwidth = max(bandwidth, hi - lo)
        }
        return bandwidth
    }
}
