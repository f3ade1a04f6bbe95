import LipscopeLinearAlgebra
import LipscopeSolvers

/// A `SlopeLMI` as an SDP in SDPA form: variables y = [input term (1 or p) | multipliers |
/// chordal splits], minimize the input term's sum subject to Σ yᵢFᵢ − F₀ = −M ⪰ 0 and λ ≥ 0
/// (a diagonal block).
struct LMIProblem: Sendable {
    let problem: SDPProblem
    let inputVariables: Int
    let multiplierCount: Int
    let splitVariables: Int
    let blockSizes: [Int]
    let chordal: Bool
}

extension SlopeLMI {
    /// Whether the chordal split (one block per pair of adjacent layers) is available.
    var chordalCliqueCount: Int {
        guard let widths = layerWidths, widths.count >= 2 else { return 1 }
        return widths.count
    }

    /// Free variables the chordal split adds: one symmetric n_k × n_k split per layer shared by
    /// two cliques.
    var chordalSplitVariables: Int {
        guard let widths = layerWidths, widths.count >= 2 else { return 0 }
        return widths.dropLast().reduce(0) { $0 + $1 * ($1 + 1) / 2 }
    }

    /// Builds the SDP. With `chordal` (feedforward nets with ≥ 2 hidden layers), the single
    /// (p+n)-block becomes one block per pair of adjacent coordinate layers (input, hidden 1, …):
    /// with diagonal multipliers −M is block tridiagonal, every Q̂ᵢ lives in the clique of its layer
    /// and the previous one, and −M = Σₖ EₖᵀYₖEₖ with Yₖ ⪰ 0 is exact (Agler et al.; Xue et al.
    /// 2022, τ = 0). The diagonal block of a layer shared by cliques k−1 and k is split by a free
    /// symmetric matrix Rₖ added to one and subtracted from the other.
    func sdpProblem(input: LMIInputTerm, chordal requested: Bool) -> LMIProblem {
        let p = inputSize, n = stateSize
        let inputVars = input == .uniform ? 1 : p
        let coordWidths = [p] + (layerWidths ?? [n])
        var layerStarts = [0]
        for w in coordWidths { layerStarts.append(layerStarts.last! + w) }
        let useChordal = requested && layerWidths != nil && coordWidths.count >= 3
        let layerCount = coordWidths.count

        // Coordinate layer of every state coordinate.
        var stateLayer = [Int](repeating: 1, count: n)
        if let widths = layerWidths {
            var s = 0
            for (k, w) in widths.enumerated() { for _ in 0..<w { stateLayer[s] = k + 1; s += 1 } }
        }

        var blocks: [SDPBlock] = []
        if useChordal {
            for j in 0..<(layerCount - 1) { blocks.append(.dense(coordWidths[j] + coordWidths[j + 1])) }
        } else {
            blocks.append(.dense(p + n))
        }
        let lpBlock = blocks.count
        let lpSize = groupCount + (input == .perCoordinate ? p : 0)
        blocks.append(.diagonal(lpSize))
        let sharedLayers = useChordal ? Array(1..<(layerCount - 1)) : []
        let splitCount = sharedLayers.reduce(0) { $0 + coordWidths[$1] * (coordWidths[$1] + 1) / 2 }
        var b = SDPProblem.Builder(blocks: blocks, variables: inputVars + groupCount + splitCount)
        for j in 0..<inputVars { b.objective[j] = 1 }

        // Global coordinate → (block, local index) inside clique `c`.
        func local(_ coord: Int, clique c: Int) -> Int { useChordal ? coord - layerStarts[c] : coord }

        // Input term, clique 0.
        for j in 0..<p {
            let v = input == .uniform ? 0 : j
            b.addCoefficient(variable: v, block: 0, row: j, col: j, value: 1)
            if input == .perCoordinate { b.addCoefficient(variable: v, block: lpBlock, row: groupCount + j, col: groupCount + j, value: 1) }
        }
        // Multipliers: F = −Q̂ᵢ = 2αβ aaᵀ − (α+β)(abᵀ + baᵀ) + 2bbᵀ.
        for i in 0..<n {
            let variable = inputVars + group[i]
            let c = useChordal ? stateLayer[i] - 1 : 0
            let s = p + i
            let (alpha, beta) = (slopes[i].alpha, slopes[i].beta)
            var support: [(Int, Double)] = []
            rows[i].forEachEntry(inputCount: p) { support.append(($0, $1)) }
            if alpha * beta != 0 {
                for x in 0..<support.count {
                    for y in x..<support.count {
                        b.addCoefficient(variable: variable, block: c, row: local(support[x].0, clique: c),
                                         col: local(support[y].0, clique: c),
                                         value: 2 * alpha * beta * support[x].1 * support[y].1)
                    }
                }
            }
            for (u, a) in support {
                let value = u == s ? -2 * (alpha + beta) * a : -(alpha + beta) * a
                b.addCoefficient(variable: variable, block: c, row: local(u, clique: c), col: local(s, clique: c), value: value)
            }
            b.addCoefficient(variable: variable, block: c, row: local(s, clique: c), col: local(s, clique: c), value: 2)
        }
        for g in 0..<groupCount {
            b.addCoefficient(variable: inputVars + g, block: lpBlock, row: g, col: g, value: 1)
        }
        // F₀ = CᵀC, in the last clique.
        var supportSet = Set<Int>()
        for row in outputs { row.forEachEntry(inputCount: p) { u, _ in supportSet.insert(u) } }
        let support = supportSet.sorted()
        if !support.isEmpty {
            var cs = Matrix(rows: outputs.count, columns: support.count)
            let position = Dictionary(uniqueKeysWithValues: support.enumerated().map { ($1, $0) })
            for (r, row) in outputs.enumerated() { row.forEachEntry(inputCount: p) { cs[r, position[$0]!] = $1 } }
            let gram = Matrix.transposeTimes(cs, cs)
            let c = useChordal ? layerCount - 2 : 0
            for x in 0..<support.count {
                for y in x..<support.count where gram[x, y] != 0 {
                    b.addConstant(block: c, row: local(support[x], clique: c), col: local(support[y], clique: c), value: gram[x, y])
                }
            }
        }
        // Chordal splits.
        var variable = inputVars + groupCount
        for layer in sharedLayers {
            let w = coordWidths[layer]
            let before = coordWidths[layer - 1]
            for i in 0..<w {
                for j in i..<w {
                    b.addCoefficient(variable: variable, block: layer - 1, row: before + i, col: before + j, value: 1)
                    b.addCoefficient(variable: variable, block: layer, row: i, col: j, value: -1)
                    variable += 1
                }
            }
        }
        return LMIProblem(problem: b.build(), inputVariables: inputVars, multiplierCount: groupCount,
                          splitVariables: splitCount, blockSizes: blocks.map(\.size), chordal: useChordal)
    }
}
