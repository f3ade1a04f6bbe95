/// One block of the block-diagonal structure of an SDP.
public enum SDPBlock: Sendable, Equatable, Hashable {
    /// A dense symmetric block of size k (constraint `X_b ⪰ 0`).
    case dense(Int)
    /// A diagonal block of size k, i.e. k scalar (LP) inequalities.
    case diagonal(Int)

    public var size: Int {
        switch self {
        case .dense(let k), .diagonal(let k): return k
        }
    }

    public var isDiagonal: Bool {
        if case .diagonal = self { return true }
        return false
    }
}

/// A symmetric rank-one term `scale · v vᵀ` on one block, v stored sparse (0-based indices
/// inside the block, strictly increasing).
public struct SDPRankOneTerm: Sendable, Equatable {
    public var block: Int
    public var scale: Double
    public var indices: [Int32]
    public var values: [Double]

    public init(block: Int, scale: Double, indices: [Int32], values: [Double]) {
        precondition(indices.count == values.count, "rank-one term: indices and values differ in length")
        self.block = block
        self.scale = scale
        self.indices = indices
        self.values = values
    }
}

/// One data matrix (F₀ or Fᵢ) of an SDP, block-diagonal, stored as its upper-triangle
/// entries in canonical order: sorted by (block, row, col), row ≤ col, indices 0-based inside
/// their block, no duplicates. Optionally low-rank terms are added on top (`lowRank`).
public struct SDPMatrix: Sendable, Equatable {
    public var block: [Int32] = []
    public var row: [Int32] = []
    public var col: [Int32] = []
    public var value: [Double] = []
    /// Extra rank-one terms; the matrix is the sparse part plus Σ scale·v vᵀ.
    public var lowRank: [SDPRankOneTerm] = []

    public init() {}

    public var entryCount: Int { value.count }
    public var isEmpty: Bool { value.isEmpty && lowRank.isEmpty }

    /// Range of entry positions that lie in `b` (entries are sorted by block).
    public func entryRange(inBlock b: Int) -> Range<Int> {
        let b32 = Int32(b)
        var lo = 0, hi = block.count
        while lo < hi { let mid = (lo + hi) / 2; if block[mid] < b32 { lo = mid + 1 } else { hi = mid } }
        let start = lo
        hi = block.count
        while lo < hi { let mid = (lo + hi) / 2; if block[mid] <= b32 { lo = mid + 1 } else { hi = mid } }
        return start..<lo
    }

    /// The blocks this matrix touches (sparse part or low-rank part), ascending.
    public var blocks: [Int] {
        var s = Set<Int>()
        for b in block { s.insert(Int(b)) }
        for t in lowRank { s.insert(t.block) }
        return s.sorted()
    }

    /// The same matrix with its low-rank terms expanded into sparse upper-triangle entries.
    public func expandingLowRank() -> SDPMatrix {
        if lowRank.isEmpty { return self }
        var acc = EntryAccumulator()
        for k in 0..<value.count { acc.add(Int(block[k]), Int(row[k]), Int(col[k]), value[k]) }
        for t in lowRank {
            for a in 0..<t.indices.count {
                for b in a..<t.indices.count {
                    acc.add(t.block, Int(t.indices[a]), Int(t.indices[b]), t.scale * t.values[a] * t.values[b])
                }
            }
        }
        return acc.build(lowRank: [])
    }

    /// Dense symmetric matrix of block `b` (of size `n`), low-rank terms included.
    public func denseBlock(_ b: Int, size n: Int) -> [Double] {
        var out = [Double](repeating: 0, count: n * n)
        for k in entryRange(inBlock: b) {
            let i = Int(row[k]), j = Int(col[k])
            out[i + j * n] += value[k]
            if i != j { out[j + i * n] += value[k] }
        }
        for t in lowRank where t.block == b {
            for a in 0..<t.indices.count {
                for c in 0..<t.indices.count {
                    out[Int(t.indices[a]) + Int(t.indices[c]) * n] += t.scale * t.values[a] * t.values[c]
                }
            }
        }
        return out
    }
}

/// Accumulates (block, row, col, value) entries, mirrors lower to upper, sums duplicates.
struct EntryAccumulator {
    var keys: [UInt64] = []
    var values: [Double] = []

    mutating func add(_ b: Int, _ i: Int, _ j: Int, _ v: Double) {
        let r = min(i, j), c = max(i, j)
        // 20 bits block, 22 bits row, 22 bits col: blocks < 1M, block sizes < 4M.
        keys.append(UInt64(b) << 44 | UInt64(r) << 22 | UInt64(c))
        values.append(v)
    }

    func build(lowRank: [SDPRankOneTerm]) -> SDPMatrix {
        var m = SDPMatrix()
        m.lowRank = lowRank
        if keys.isEmpty { return m }
        let order = keys.indices.sorted { keys[$0] < keys[$1] }
        var lastKey: UInt64? = nil
        m.block.reserveCapacity(keys.count); m.row.reserveCapacity(keys.count)
        m.col.reserveCapacity(keys.count); m.value.reserveCapacity(keys.count)
        for p in order {
            let k = keys[p]
            if k == lastKey { m.value[m.value.count - 1] += values[p]; continue }
            lastKey = k
            m.block.append(Int32(truncatingIfNeeded: k >> 44))
            m.row.append(Int32(truncatingIfNeeded: (k >> 22) & 0x3FFFFF))
            m.col.append(Int32(truncatingIfNeeded: k & 0x3FFFFF))
            m.value.append(values[p])
        }
        return m
    }
}

/// A semidefinite program in SDPA's "LMI in y" form
///
///     (P)  minimize cᵀy  subject to  Σᵢ yᵢ Fᵢ − F₀ ⪰ 0
///     (D)  maximize ⟨F₀, X⟩  subject to  ⟨Fᵢ, X⟩ = cᵢ,  X ⪰ 0
///
/// with block-diagonal data. `matrices[0]` is F₀, `matrices[i]` is Fᵢ (i = 1…m), exactly as
/// in the SDPA file format. Build one with `SDPProblem.Builder`.
public struct SDPProblem: Sendable, Equatable {
    public var blocks: [SDPBlock]
    /// The objective c (length m = number of variables y).
    public var objective: [Double]
    /// F₀, F₁, …, Fₘ.
    public var matrices: [SDPMatrix]

    public var variableCount: Int { objective.count }
    public var totalDimension: Int { blocks.reduce(0) { $0 + $1.size } }

    public init(blocks: [SDPBlock], objective: [Double], matrices: [SDPMatrix]) {
        precondition(matrices.count == objective.count + 1, "SDPProblem: need F0 plus one matrix per variable")
        self.blocks = blocks
        self.objective = objective
        self.matrices = matrices
    }

    /// The problem with all low-rank terms expanded to sparse entries (what a file holds).
    public func expandingLowRank() -> SDPProblem {
        SDPProblem(blocks: blocks, objective: objective, matrices: matrices.map { $0.expandingLowRank() })
    }

    public var hasLowRankData: Bool { matrices.contains { !$0.lowRank.isEmpty } }

    /// cᵀy.
    public func objectiveValue(_ y: [Double]) -> Double {
        zip(objective, y).reduce(0) { $0 + $1.0 * $1.1 }
    }

    /// Checks indices against the block structure; returns a description of the first problem.
    public func validate() -> String? {
        for (mi, m) in matrices.enumerated() {
            for k in 0..<m.value.count {
                let b = Int(m.block[k])
                guard b >= 0 && b < blocks.count else { return "matrix \(mi): block \(b + 1) does not exist" }
                let n = blocks[b].size
                let i = Int(m.row[k]), j = Int(m.col[k])
                guard i >= 0, j >= 0, i < n, j < n else {
                    return "matrix \(mi): entry (\(i + 1), \(j + 1)) outside block \(b + 1) of size \(n)"
                }
                if blocks[b].isDiagonal && i != j {
                    return "matrix \(mi): off-diagonal entry (\(i + 1), \(j + 1)) in diagonal block \(b + 1)"
                }
                if !m.value[k].isFinite { return "matrix \(mi): non-finite value" }
            }
            for t in m.lowRank {
                guard t.block >= 0 && t.block < blocks.count else { return "matrix \(mi): low-rank block does not exist" }
                if blocks[t.block].isDiagonal && t.indices.count > 1 {
                    return "matrix \(mi): low-rank term with off-diagonal part in diagonal block \(t.block + 1)"
                }
                if t.indices.contains(where: { $0 < 0 || Int($0) >= blocks[t.block].size }) {
                    return "matrix \(mi): low-rank index outside block \(t.block + 1)"
                }
            }
        }
        return nil
    }

    /// Incremental builder; entries may come in any order and either triangle; duplicates
    /// are summed. Cost is O(nnz log nnz) in `build()`, nothing dense.
    public struct Builder: Sendable {
        public let blocks: [SDPBlock]
        public var objective: [Double]
        var accumulators: [EntryAccumulator]
        var lowRank: [[SDPRankOneTerm]]

        /// `variables` = m; the objective starts at zero.
        public init(blocks: [SDPBlock], variables: Int) {
            self.blocks = blocks
            self.objective = [Double](repeating: 0, count: variables)
            self.accumulators = Array(repeating: EntryAccumulator(), count: variables + 1)
            self.lowRank = Array(repeating: [], count: variables + 1)
        }

        public init(blocks: [SDPBlock], objective: [Double]) {
            self.init(blocks: blocks, variables: objective.count)
            self.objective = objective
        }

        public var variableCount: Int { objective.count }

        /// Adds `value` at (row, col) and (col, row) of block `block` of matrix `matrix`
        /// (0 = F₀, i = Fᵢ for variable i, 1-based as in SDPA). Indices are 0-based.
        public mutating func add(matrix: Int, block: Int, row: Int, col: Int, value: Double) {
            precondition(matrix >= 0 && matrix < accumulators.count, "matrix index out of range")
            accumulators[matrix].add(block, row, col, value)
        }

        /// F₀ entry.
        public mutating func addConstant(block: Int, row: Int, col: Int, value: Double) {
            add(matrix: 0, block: block, row: row, col: col, value: value)
        }

        /// Entry of the matrix multiplying variable `variable` (0-based: y[variable]).
        public mutating func addCoefficient(variable: Int, block: Int, row: Int, col: Int, value: Double) {
            add(matrix: variable + 1, block: block, row: row, col: col, value: value)
        }

        /// Adds `scale · v vᵀ` on `block` to matrix `matrix` (0 = F₀, i = Fᵢ), v sparse with
        /// 0-based indices inside the block. Backends that can exploit it (DSDP) keep it low-rank.
        public mutating func addRankOne(matrix: Int, block: Int, scale: Double, indices: [Int], values: [Double]) {
            let order = indices.indices.sorted { indices[$0] < indices[$1] }
            lowRank[matrix].append(SDPRankOneTerm(block: block, scale: scale,
                                                  indices: order.map { Int32(indices[$0]) },
                                                  values: order.map { values[$0] }))
        }

        public func build() -> SDPProblem {
            SDPProblem(blocks: blocks, objective: objective,
                       matrices: accumulators.indices.map { accumulators[$0].build(lowRank: lowRank[$0]) })
        }
    }
}
