import Foundation
import LipscopeSolvers

/// The equality system of the LiPopt LP hierarchy at degree k, built straight from exponent
/// vectors: column 0 is τ, every other column one Handelman product
/// h_{a,b}(y) = ∏ⱼ yⱼ^{aⱼ} (1 − yⱼ)^{bⱼ} with |a| + |b| = k supported in a clique (products shared
/// by several cliques merged), expanded by the binomial theorem; one row per monomial that
/// occurs. The matrix is [e_const, −H], so row m reads τ·[m = 1] − Σ λ h_m = P_m. Every entry
/// of H is an integer (a signed product of binomial coefficients), exact in floating point.
struct HandelmanLP: Sendable {
    var rowKeys: [PackedIndices]
    var rowOf: [PackedIndices: Int32]
    var matrix: ColumnSparseMatrix
    /// Distinct products (columns − 1) and products before merging.
    var products: Int
    var productsUnmerged: Int
    var cliqueCount: Int
    var maxClique: Int
    var buildSeconds: Double

    var rows: Int { matrix.rows }
    var columns: Int { matrix.columns }
    var nonzeros: Int { matrix.nonzeroCount }

    static let maximumDegree = PackedIndices.capacity

    /// Products before merging: Σ_c C(2|c| + k − 1, k). Nonzeros of H before merging:
    /// Σ_c C(3|c| + k − 1, k) (the product (1−y)^b expands into ∏(bⱼ + 1) monomials, and
    /// Σ over (a, b) of ∏(bⱼ + 1) is the x^k coefficient of (1 − x)^{−3|c|}).
    static func estimate(cliques: [[Int]], degree k: Int) -> (columns: Double, nonzeros: Double) {
        var cols = 1.0, nnz = 1.0
        for c in cliques {
            cols += binomialDouble(2 * c.count + k - 1, k)
            nnz += binomialDouble(3 * c.count + k - 1, k)
        }
        return (cols, nnz)
    }

    static let binomials: [[Double]] = (0...maximumDegree).map { n in (0...n).map { binomialDouble(n, $0) } }

    static func build(cliques: [[Int]], degree k: Int, context: JobContext?) throws -> HandelmanLP {
        precondition(k >= 1 && k <= maximumDegree)
        let clock = ContinuousClock.now
        var rowOf: [PackedIndices: Int32] = [PackedIndices(): 0]
        var rowKeys: [PackedIndices] = [PackedIndices()]
        var productOf: [PackedIndices: Int] = [:]
        let merge = cliques.count > 1
        var columnStart: [Int32] = [0, 1]
        var rowIndex: [Int32] = [0]
        var values: [Double] = [1]
        let total = cliques.reduce(0) { $0 + Int(binomialDouble(2 * $1.count + k - 1, k)) }
        var done = 0
        var products = 0
        context?.emit(.progress(phase: "building products", done: 0, total: total))

        var gens = [Int](repeating: 0, count: k)       // local generator ids, non-decreasing
        var globalGens = [Int](repeating: 0, count: k)
        var supportVar = [Int](repeating: 0, count: k)
        var supportA = [Int](repeating: 0, count: k)
        var supportB = [Int](repeating: 0, count: k)
        var choice = [Int](repeating: 0, count: k)
        var entries: [(Int32, Double)] = []
        for clique in cliques {
            let m2 = 2 * clique.count
            if m2 == 0 { continue }
            for p in 0..<k { gens[p] = 0 }
            while true {
                done += 1
                if done & 0x3FFF == 0 {
                    try context?.checkCancelled()
                    context?.emit(.progress(phase: "building products", done: done, total: total))
                }
                // This product, in global generator ids (sorted: cliques are sorted).
                var isNew = true
                if merge {
                    var key = PackedIndices()
                    for p in 0..<k {
                        globalGens[p] = 2 * clique[gens[p] >> 1] + (gens[p] & 1)
                        key.set(p, globalGens[p])
                    }
                    if productOf[key] != nil { isNew = false } else { productOf[key] = products }
                } else {
                    for p in 0..<k { globalGens[p] = 2 * clique[gens[p] >> 1] + (gens[p] & 1) }
                }
                if isNew {
                    // Group by variable: exponents a (y) and b (1 − y).
                    var support = 0
                    var p = 0
                    while p < k {
                        let v = globalGens[p] >> 1
                        var a = 0, b = 0
                        while p < k && globalGens[p] >> 1 == v {
                            if globalGens[p] & 1 == 0 { a += 1 } else { b += 1 }
                            p += 1
                        }
                        supportVar[support] = v; supportA[support] = a; supportB[support] = b
                        support += 1
                    }
                    // Expand ∏ y^a (1 − y)^b = ∏ Σ_i C(b, i)(−1)^i y^{a+i}.
                    entries.removeAll(keepingCapacity: true)
                    for s in 0..<support { choice[s] = 0 }
                    while true {
                        var key = PackedIndices()
                        var slot = 0
                        var coef = 1.0
                        for s in 0..<support {
                            let i = choice[s]
                            coef *= binomials[supportB[s]][i] * (i & 1 == 0 ? 1 : -1)
                            for _ in 0..<(supportA[s] + i) { key.set(slot, supportVar[s]); slot += 1 }
                        }
                        let row: Int32
                        if let r = rowOf[key] { row = r } else {
                            row = Int32(rowKeys.count); rowOf[key] = row; rowKeys.append(key)
                        }
                        entries.append((row, -coef))
                        var s = support - 1
                        while s >= 0 && choice[s] == supportB[s] { choice[s] = 0; s -= 1 }
                        if s < 0 { break }
                        choice[s] += 1
                    }
                    entries.sort { $0.0 < $1.0 }
                    for (r, v) in entries { rowIndex.append(r); values.append(v) }
                    columnStart.append(Int32(rowIndex.count))
                    if !merge { products += 1 } else { products = productOf.count }
                }
                // Next multiset.
                var q = k - 1
                while q >= 0 && gens[q] == m2 - 1 { q -= 1 }
                if q < 0 { break }
                gens[q] += 1
                for r in (q + 1)..<k { gens[r] = gens[q] }
            }
        }
        context?.emit(.progress(phase: "building products", done: total, total: total))
        let matrix = ColumnSparseMatrix(rows: rowKeys.count, columns: columnStart.count - 1,
                                        columnStart: columnStart, rowIndex: rowIndex, values: values)
        return HandelmanLP(rowKeys: rowKeys, rowOf: rowOf, matrix: matrix, products: matrix.columns - 1,
                           productsUnmerged: total, cliqueCount: cliques.count,
                           maxClique: cliques.map(\.count).max() ?? 0,
                           buildSeconds: (ContinuousClock.now - clock).seconds)
    }

    /// The right-hand side P_m per row, and its error bound. Throws when a monomial of P does
    /// not occur in any product (the LP would silently drop it and bound a different polynomial).
    func rightHandSide(_ p: LiPoptPolynomial) throws -> (rhs: [Double], error: [Double]) {
        var rhs = [Double](repeating: 0, count: rows), err = [Double](repeating: 0, count: rows)
        for (key, c) in p.coefficients {
            guard let r = rowOf[key] else {
                throw MethodFailure("monomial y\(key.indices) of the polynomial occurs in no product (cliques do not cover it)")
            }
            rhs[Int(r)] = c
            err[Int(r)] = p.errors[key] ?? 0
        }
        return (rhs, err)
    }

    func problem(rhs: [Double]) -> LPProblem {
        var objective = [Double](repeating: 0, count: columns)
        objective[0] = 1
        var lower = [Double](repeating: 0, count: columns)
        lower[0] = -.infinity
        return LPProblem(name: "LIPOPT", objective: objective, matrix: matrix, rowLower: rhs, rowUpper: rhs,
                         columnLower: lower, columnUpper: [Double](repeating: .infinity, count: columns))
    }

    /// The certified bound from a solver point x = (τ, λ): clip λ ≥ 0, evaluate the residual
    /// R = τ − P − Σ λ h coefficient by coefficient with a rounding bound per coefficient.
    /// On the box every Handelman product is ≥ 0 and every monomial lies in [0, 1], so
    /// P = τ − Σ λ h − R ≤ τ − R₀ + Σ_{m≠1} max(−R_m, 0); each term is taken with its rounding
    /// bound and the result rounded up. (The τ + Σ|R_m| is never smaller.)
    /// A certified bound from a λ: `value` (the bound), the LP's τ, and the residual's share.
    typealias Certificate = (value: Double, tau: Double, residual: Double)

    func certify(x: [Double], rhs: [Double], rhsError: [Double]) -> Certificate {
        let u = Double.ulpOfOne
        let tau = x[0]
        var acc = [Double](repeating: 0, count: rows)
        var absAcc = [Double](repeating: 0, count: rows)
        var count = [Int32](repeating: 0, count: rows)
        acc[0] = tau; absAcc[0] = abs(tau); count[0] = 1
        for c in 1..<columns {
            let lambda = max(x[c], 0)
            if lambda == 0 || !lambda.isFinite { continue }
            for e in Int(matrix.columnStart[c])..<Int(matrix.columnStart[c + 1]) {
                let r = Int(matrix.rowIndex[e])
                let t = matrix.values[e] * lambda
                acc[r] += t; absAcc[r] += abs(t); count[r] += 1
            }
        }
        var total = 0.0, totalAbs = 0.0
        for r in 0..<rows {
            let residual = acc[r] - rhs[r]
            let bound = 2 * Double(Int(count[r]) + 2) * u * (absAcc[r] + abs(rhs[r])) + rhsError[r]
            let term = (r == 0 ? -residual : max(-residual, 0)) + bound
            total += term; totalAbs += abs(term)
        }
        // The sum of `rows` terms and the final addition.
        let margin = 2 * Double(rows + 2) * u * (totalAbs + abs(tau))
        var value = tau + total + margin
        value = (value + abs(value) * 2 * u).nextUp
        return (value, tau, total)
    }
}
