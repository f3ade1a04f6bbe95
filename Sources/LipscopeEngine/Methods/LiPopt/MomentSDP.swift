import Foundation
import LipscopeLinearAlgebra
import LipscopeSolvers

/// The Lasserre moment relaxation of max P over [0, 1]ⁿ at order r: maximize Σ_a P_a m_a over
/// moments m (m₀ = 1) with, per clique, the moment matrix M_r(m) ⪰ 0 and for each clique
/// variable the localizing matrix M_{r−1}(yⱼ(1 − yⱼ) m) ⪰ 0 (1×1 localizers go into one
/// diagonal block). Moments are shared by monomial across cliques.
///
/// In SDPA form (minimize cᵀy, Σ yᵢFᵢ − F₀ ⪰ 0): y = the moments other than m₀,
/// Fᵢ = the coefficient of moment i in the blocks, F₀ = −(the coefficient of m₀),
/// c = −P; the relaxation value is P₀ − cᵀy.
struct MomentSDP: Sendable {
    /// One entry of M(m): `value` × moment `moment` (−1 = m₀) at (row ≤ col) of `block`.
    struct Entry: Sendable { var moment: Int32; var block: Int32; var row: Int32; var col: Int32; var value: Double }

    var blocks: [SDPBlock]
    var entries: [Entry]
    var momentKeys: [PackedIndices]
    var momentOf: [PackedIndices: Int]
    var cliqueCount: Int
    var maxClique: Int
    var buildSeconds: Double
    /// The clique each block belongs to (−1 for the diagonal block, whose rows are in `scalarClique`).
    var blockClique: [Int] = []
    /// The clique of each row of the diagonal block.
    var scalarClique: [Int] = []

    var moments: Int { momentKeys.count }
    var largestBlock: Int { blocks.filter { !$0.isDiagonal }.map(\.size).max() ?? 0 }
    /// Σ over blocks of d(d+1)/2 (1 per scalar).
    var rows: Int { blocks.reduce(0) { $0 + ($1.isDiagonal ? $1.size : $1.size * ($1.size + 1) / 2) } }

    static let maximumOrder = PackedIndices.capacity / 2

    /// All multisets of size ≤ d over `vars` (sorted), in graded order.
    static func basis(_ vars: [Int], degree d: Int) -> [[Int]] {
        var out: [[Int]] = [[]]
        var layer: [[Int]] = [[]]
        for _ in 0..<d {
            var next: [[Int]] = []
            for mono in layer {
                let startIndex = mono.last.map { v in vars.firstIndex(of: v)! } ?? 0
                for p in startIndex..<vars.count { next.append(mono + [vars[p]]) }
            }
            out += next
            layer = next
        }
        return out
    }

    /// Sizes without building: (largest block, moments upper bound).
    static func estimate(cliques: [[Int]], order r: Int) -> (largestBlock: Double, moments: Double) {
        var largest = 0.0, moments = 0.0
        for c in cliques {
            largest = max(largest, binomialDouble(c.count + r, r))
            moments += binomialDouble(c.count + 2 * r, 2 * r) - 1
        }
        return (largest, moments)
    }

    static func merged(_ a: [Int], _ b: [Int]) -> PackedIndices {
        var key = PackedIndices()
        var i = 0, j = 0, s = 0
        while i < a.count || j < b.count {
            if j >= b.count || (i < a.count && a[i] <= b[j]) { key.set(s, a[i]); i += 1 } else { key.set(s, b[j]); j += 1 }
            s += 1
        }
        return key
    }

    static func build(cliques: [[Int]], order r: Int, context: JobContext?) throws -> MomentSDP {
        precondition(r >= 1 && r <= maximumOrder)
        let clock = ContinuousClock.now
        var momentOf: [PackedIndices: Int] = [PackedIndices(): -1]
        var momentKeys: [PackedIndices] = []
        var blocks: [SDPBlock] = []
        var entries: [Entry] = []
        var scalarEntries: [(moment: Int, value: Double, index: Int)] = []
        var scalarCount = 0
        var blockClique: [Int] = [], scalarClique: [Int] = []
        func moment(_ key: PackedIndices) -> Int32 {
            if let m = momentOf[key] { return Int32(m) }
            momentOf[key] = momentKeys.count
            momentKeys.append(key)
            return Int32(momentKeys.count - 1)
        }
        context?.emit(.progress(phase: "building moment matrices", done: 0, total: cliques.count))
        for (ci, clique) in cliques.enumerated() {
            try context?.checkCancelled()
            let full = basis(clique, degree: r)
            let b = Int32(blocks.count)
            blocks.append(.dense(full.count))
            blockClique.append(ci)
            for i in 0..<full.count {
                for j in i..<full.count {
                    entries.append(Entry(moment: moment(merged(full[i], full[j])), block: b, row: Int32(i), col: Int32(j), value: 1))
                }
            }
            let reduced = basis(clique, degree: r - 1)
            for v in clique {
                if reduced.count == 1 {
                    scalarEntries.append((Int(moment(PackedIndices([v]))), 1, scalarCount))
                    scalarEntries.append((Int(moment(PackedIndices([v, v]))), -1, scalarCount))
                    scalarCount += 1
                    scalarClique.append(ci)
                    continue
                }
                let lb = Int32(blocks.count)
                blocks.append(.dense(reduced.count))
                blockClique.append(ci)
                for i in 0..<reduced.count {
                    for j in i..<reduced.count {
                        let base = merged(reduced[i], reduced[j]).indices
                        entries.append(Entry(moment: moment(merged(base, [v])), block: lb, row: Int32(i), col: Int32(j), value: 1))
                        entries.append(Entry(moment: moment(merged(base, [v, v])), block: lb, row: Int32(i), col: Int32(j), value: -1))
                    }
                }
            }
            context?.emit(.progress(phase: "building moment matrices", done: ci + 1, total: cliques.count))
        }
        if scalarCount > 0 {
            let db = Int32(blocks.count)
            blocks.append(.diagonal(scalarCount))
            blockClique.append(-1)
            for e in scalarEntries {
                entries.append(Entry(moment: Int32(e.moment), block: db, row: Int32(e.index), col: Int32(e.index), value: e.value))
            }
        }
        return MomentSDP(blocks: blocks, entries: entries, momentKeys: momentKeys, momentOf: momentOf,
                         cliqueCount: cliques.count, maxClique: cliques.map(\.count).max() ?? 0,
                         buildSeconds: (ContinuousClock.now - clock).seconds,
                         blockClique: blockClique, scalarClique: scalarClique)
    }

    /// The clique a moment is private to (it appears only in that clique's blocks and rows), or
    /// nil when cliques share it. Private moments of two cliques never meet in a block: the
    /// block-arrow structure `MomentIPM` factors.
    func momentGroups() -> [Int?] {
        var g = [Int](repeating: -2, count: moments)      // −2 unseen, −1 shared
        for e in entries where e.moment >= 0 {
            let b = Int(e.block)
            let c = blocks[b].isDiagonal ? scalarClique[Int(e.row)] : blockClique[b]
            let i = Int(e.moment)
            if g[i] == -2 { g[i] = c } else if g[i] != c { g[i] = -1 }
        }
        return g.map { $0 >= 0 ? $0 : nil }
    }

    /// c = −P over the moments (minimize cᵀy). Throws when a monomial of P has no moment.
    func objective(_ p: LiPoptPolynomial) throws -> [Double] {
        var objective = [Double](repeating: 0, count: moments)
        for (key, c) in p.coefficients where !key.isEmpty {
            guard let m = momentOf[key] else {
                throw MethodFailure("monomial y\(key.indices) of the polynomial has no moment (cliques do not cover it)")
            }
            objective[m] = -c
        }
        return objective
    }

    /// The SDPA problem for polynomial P. Throws when a monomial of P has no moment.
    func problem(_ p: LiPoptPolynomial) throws -> SDPProblem {
        let objective = try objective(p)
        var builder = SDPProblem.Builder(blocks: blocks, objective: objective)
        for e in entries {
            if e.moment < 0 {
                builder.addConstant(block: Int(e.block), row: Int(e.row), col: Int(e.col), value: -e.value)
            } else {
                builder.addCoefficient(variable: Int(e.moment), block: Int(e.block), row: Int(e.row), col: Int(e.col), value: e.value)
            }
        }
        return builder.build()
    }

    /// A certified bound from the solver's dual matrices X (the SOS side). Each block is
    /// projected onto the PSD cone (eigenvalues clipped), and shifted by δI with δ bounding
    /// the rounding of the projection, so X̂ ⪰ 0 exactly. For every point of the box the
    /// moment vector m(y) = (y^a) makes M(m(y)) ⪰ 0, so Σ_a y^a q_a ≥ 0 with q_a = ⟨A_a, X̂⟩ and
    /// P(y) ≤ Σ_a y^a (P_a + q_a) ≤ P₀ + q₀ + Σ_{a≠0} max(P_a + q_a, 0) (every y^a ∈ [0, 1]),
    /// with rounding bounds on every term. Returns nil (with a reason) without X.
    func certify(_ p: LiPoptPolynomial, dual: [Matrix]?) -> (value: Double?, reason: String) {
        guard let dual, dual.count == blocks.count else { return (nil, "the solver returned no dual matrices") }
        let u = Double.ulpOfOne
        var projected: [Matrix] = []
        var shift = [Double](repeating: 0, count: blocks.count)
        for (b, blk) in blocks.enumerated() {
            let x = dual[b]
            if blk.isDiagonal {
                projected.append(Matrix(rows: x.rows, columns: 1, storage: x.storage.map { max($0, 0) }))
                continue
            }
            let n = blk.size
            guard x.rows == n, x.columns == n, x.allFinite else { return (nil, "dual matrix \(b) malformed") }
            guard let (values, vectors) = try? LinearAlgebra.symmetricEigen(x) else {
                return (nil, "eigendecomposition of dual block \(b) failed")
            }
            var xt = Matrix(rows: n, columns: n)
            var bound = 0.0
            for k in 0..<n where values[k] > 0 {
                let lam = values[k]
                for j in 0..<n {
                    let vj = vectors[j, k] * lam
                    if vj == 0 { continue }
                    for i in 0..<n { xt.storage[i + j * n] += vectors[i, k] * vj }
                }
            }
            var absSq = 0.0
            for j in 0..<n {
                for i in 0..<n {
                    var s = 0.0
                    for k in 0..<n where values[k] > 0 { s += abs(vectors[i, k]) * values[k] * abs(vectors[j, k]) }
                    absSq += s * s
                }
            }
            bound = absSq.squareRoot()
            shift[b] = 2.02 * Double(n + 3) * u * bound * (1 + 4 * Double(n * n) * u) + Double.leastNormalMagnitude
            projected.append(xt)
        }
        var q = [Double](repeating: 0, count: moments + 1)      // index 0 = m₀
        var qa = [Double](repeating: 0, count: moments + 1)
        var count = [Int32](repeating: 0, count: moments + 1)
        for e in entries {
            let b = Int(e.block), i = Int(e.row), j = Int(e.col)
            let m = Int(e.moment) + 1
            var t: Double
            if blocks[b].isDiagonal {
                t = e.value * projected[b].storage[i]
            } else {
                let n = blocks[b].size
                t = e.value * projected[b].storage[i + j * n] * (i == j ? 1 : 2)
                if i == j { let s = e.value * shift[b]; q[m] += s; qa[m] += abs(s); count[m] += 1 }
            }
            q[m] += t; qa[m] += abs(t); count[m] += 1
        }
        var total = 0.0
        var errorSum = 0.0
        for m in 0...moments {
            let key = m == 0 ? PackedIndices() : momentKeys[m - 1]
            let pa = p.coefficients[key] ?? 0
            let s = pa + q[m]
            let err = 2 * Double(Int(count[m]) + 3) * u * (qa[m] + abs(pa)) + (p.errors[key] ?? 0)
            errorSum += err
            total += m == 0 ? s : max(s, 0)
        }
        var value = total + errorSum
        value += (abs(total) + errorSum) * 2 * Double(moments + 3) * u
        return (value.nextUp, "")
    }
}
