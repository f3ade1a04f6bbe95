import Foundation
import LipscopeLinearAlgebra

/// A vector over the LMI coordinates [input (p) | state (n)]: a dense input part (empty = zero)
/// and a contiguous run of state coordinates.
struct LMIRow: Sendable {
    var input: [Double]
    var stateStart: Int
    var state: [Double]

    /// Calls `body(coordinate, value)` for every non-zero entry (state coordinates offset by p).
    func forEachEntry(inputCount p: Int, _ body: (Int, Double) -> Void) {
        for (j, v) in input.enumerated() where v != 0 { body(j, v) }
        for (j, v) in state.enumerated() where v != 0 { body(p + stateStart + j, v) }
    }
}

/// The slope interval [α, β] of one neuron.
struct SlopeInterval: Sendable, Equatable {
    var alpha: Double
    var beta: Double
}

/// How the input enters the LMI: ρ·I (ℓ2 → one variable) or diag(μ) (ℓ∞ → one per input).
enum LMIInputTerm: Sendable {
    case uniform
    case perCoordinate
}

/// The common shape of LipSDP (Fazlyab et al. 2019) and the implicit-network LMI (Revay et al.
/// 2020): coordinates ξ = [Δu; Δz] (input increments, then neuron-output increments), neuron i has
/// pre-activation increment Δvᵢ = aᵢᵀξ and output Δzᵢ = ξ_{p+i} with slope in [αᵢ, βᵢ], so
///     (Δzᵢ − αᵢΔvᵢ)(βᵢΔvᵢ − Δzᵢ) ≥ 0,  i.e.  ξᵀ Q̂ᵢ ξ ≥ 0 with
///     Q̂ᵢ = −2αβ aaᵀ + (α+β)(abᵀ + baᵀ) − 2bbᵀ,  b = e_{p+i}.
/// The output increment is Δy = Cξ (rows `outputs`). The certificate is
///     −M = In(ρ or μ) − Σᵢ λ_{g(i)} Q̂ᵢ − CᵀC ⪰ 0,  λ ≥ 0,
/// which gives ‖Δy‖₂² ≤ ρ‖Δu‖₂² (ℓ2) or ‖Δy‖² ≤ (Σμ)‖Δu‖∞² (ℓ∞, one output row).
/// Biases never enter. For a feedforward net the state is the stacked hidden layers and M is
/// exactly LipSDP's matrix; for an implicit net it is the LMI of Revay et al. in Schur form.
struct SlopeLMI: Sendable {
    var inputSize: Int
    var stateSize: Int
    /// Pre-activation row aᵢ of every neuron (state coordinate i).
    var rows: [LMIRow]
    var slopes: [SlopeInterval]
    var outputs: [LMIRow]
    /// Multiplier index of every neuron (one per neuron, or one per layer).
    var group: [Int]
    var groupCount: Int
    /// Widths of the hidden layers in coordinate order (feedforward nets); enables the chordal split.
    var layerWidths: [Int]?
    /// Map from this LMI's solution to the LMI of the network as given (layer scaling):
    /// original multiplier g = solved × groupScale[g], original input term = solved × inputScale.
    var groupScale: [Double]
    var inputScale: Double

    var dimension: Int { inputSize + stateSize }

    // MARK: Builders

    /// LipSDP for a feedforward net in linear-output form (at least one hidden layer).
    /// `layerExponents[k]` divides weight k by 2^e (exact in floating point); the multipliers and ρ
    /// of the scaled problem map back to the network as given through `groupScale` / `inputScale`.
    static func feedforward(_ net: FeedforwardNetwork, perNeuron: Bool, layerExponents: [Int]? = nil) -> SlopeLMI {
        let layers = net.layers
        let hidden = Array(net.hiddenLayers)
        precondition(!hidden.isEmpty, "LipSDP needs a hidden layer")
        let exps = layerExponents ?? Array(repeating: 0, count: layers.count)
        let weights: [Matrix] = layers.enumerated().map { k, layer in
            let w = layer.weight.dense
            return exps[k] == 0 ? w : Matrix(rows: w.rows, columns: w.columns,
                                             storage: w.storage.map { scalbn($0, -exps[k]) })
        }
        let widths = hidden.map(\.outputSize)
        let p = net.inputSize
        let n = widths.reduce(0, +)
        var rows: [LMIRow] = []
        var slopes: [SlopeInterval] = []
        var group: [Int] = []
        var groupScale: [Double] = []
        rows.reserveCapacity(n)
        // Running exponent of P_k = ∏_{j<k} 2^{e_j}: hidden layer k's states are scaled by 1/P_k.
        let total = exps.reduce(0, +)
        var prefix = 0
        var offset = 0   // state offset of the previous hidden layer
        for k in 0..<hidden.count {
            prefix += exps[k]
            let w = weights[k]
            let (alpha, beta) = hidden[k].activation.slopeBounds
            for i in 0..<w.rows {
                let row = w.row(i)
                if k == 0 {
                    rows.append(LMIRow(input: row, stateStart: 0, state: []))
                } else {
                    rows.append(LMIRow(input: [], stateStart: offset, state: row))
                }
                slopes.append(SlopeInterval(alpha: alpha, beta: beta))
                if perNeuron || i == 0 {
                    // λ_original = λ_scaled · S² / P_k² with S = ∏ all scales.
                    groupScale.append(scalbn(1.0, 2 * (total - prefix)))
                }
                group.append(groupScale.count - 1)
            }
            if k > 0 { offset += widths[k - 1] }
        }
        let last = weights[weights.count - 1]
        let lastOffset = n - widths[widths.count - 1]
        let outputs = (0..<last.rows).map { LMIRow(input: [], stateStart: lastOffset, state: last.row($0)) }
        return SlopeLMI(inputSize: p, stateSize: n, rows: rows, slopes: slopes, outputs: outputs,
                        group: group, groupCount: groupScale.count, layerWidths: widths,
                        groupScale: groupScale, inputScale: scalbn(1.0, 2 * total))
    }

    /// The implicit-network LMI for z = ψ(Az + Bu + b), y = Cz + Du, slopes in [0, 1], one
    /// multiplier per neuron (Revay et al. 2020 in Schur-complement form, value √ρ).
    static func equilibrium(_ s: EquilibriumSystem) -> SlopeLMI {
        let n = s.stateSize, p = s.B.columns
        let rows = (0..<n).map { LMIRow(input: s.B.row($0), stateStart: 0, state: s.A.row($0)) }
        let outputs = (0..<s.C.rows).map { LMIRow(input: s.D.row($0), stateStart: 0, state: s.C.row($0)) }
        return SlopeLMI(inputSize: p, stateSize: n, rows: rows,
                        slopes: Array(repeating: SlopeInterval(alpha: 0, beta: 1), count: n),
                        outputs: outputs, group: Array(0..<n), groupCount: n, layerWidths: nil,
                        groupScale: Array(repeating: 1, count: n), inputScale: 1)
    }

    /// The implicit LMI of `s` after an exact diagonal rescaling of the states and the output, when
    /// A is strictly lower triangular (a feedforward net written as an implicit one), else nil.
    /// z̃ = Dz with D = diag(2^{kᵢ}) keeps every slope interval (z ↦ dψ(·/d) has ψ's slopes), so
    /// (DAD⁻¹, DB, CD⁻¹/c, D_out/c) has the same LMI value: λᵢ = c²dᵢ²λ̃ᵢ, ρ = c²ρ̃ (groupScale,
    /// inputScale). dᵢ = 1/gᵢ (rounded to a power of two) with the forward gain
    /// gᵢ = ‖[Aᵢ·diag(g), Bᵢ]‖₂ (rows normalized in order), c ≈ ‖[CD⁻¹, D_out]‖_F. Without it
    /// the solvers call the ACAS Xu LMI (ρ ≈ 8e9) infeasible.
    static func balancedEquilibrium(_ s: EquilibriumSystem) -> SlopeLMI? {
        let n = s.stateSize, p = s.B.columns
        guard n > 0 else { return nil }
        for i in 0..<n { for j in i..<n where s.A[i, j] != 0 { return nil } }
        var gain = [Double](repeating: 1, count: n)
        var exponent = [Int](repeating: 0, count: n)
        for i in 0..<n {
            var sq = 0.0
            for j in 0..<i { let v = s.A[i, j] * gain[j]; sq += v * v }
            for j in 0..<p { let v = s.B[i, j]; sq += v * v }
            let g = sq.squareRoot()
            exponent[i] = g > 0 && g.isFinite ? max(-300, min(300, Int(log2(g).rounded()))) : 0
            gain[i] = scalbn(1.0, exponent[i])
        }
        // z̃ᵢ = zᵢ / 2^{eᵢ}: Ã_ij = A_ij 2^{e_j − e_i}, B̃ᵢ = Bᵢ 2^{−eᵢ}, C̃_rj = C_rj 2^{e_j}.
        var outSq = 0.0
        for r in 0..<s.C.rows {
            for j in 0..<n { let v = scalbn(s.C[r, j], exponent[j]); outSq += v * v }
            for j in 0..<p { outSq += s.D[r, j] * s.D[r, j] }
        }
        let out = outSq > 0 && outSq.isFinite ? max(-300, min(300, Int(log2(outSq.squareRoot()).rounded()))) : 0
        var rows: [LMIRow] = []
        rows.reserveCapacity(n)
        for i in 0..<n {
            rows.append(LMIRow(input: (0..<p).map { scalbn(s.B[i, $0], -exponent[i]) }, stateStart: 0,
                               state: (0..<n).map { scalbn(s.A[i, $0], exponent[$0] - exponent[i]) }))
        }
        let outputs = (0..<s.C.rows).map { r in
            LMIRow(input: (0..<p).map { scalbn(s.D[r, $0], -out) }, stateStart: 0,
                   state: (0..<n).map { scalbn(s.C[r, $0], exponent[$0] - out) })
        }
        return SlopeLMI(inputSize: p, stateSize: n, rows: rows,
                        slopes: Array(repeating: SlopeInterval(alpha: 0, beta: 1), count: n),
                        outputs: outputs, group: Array(0..<n), groupCount: n, layerWidths: nil,
                        groupScale: (0..<n).map { scalbn(1.0, 2 * (out - exponent[$0])) }, inputScale: scalbn(1.0, 2 * out))
    }

    /// Power-of-two exponents that bring every layer to spectral norm ≈ 1 (LipSDP's value is
    /// invariant under per-layer scaling; the solver's conditioning is not).
    static func balancingExponents(_ net: FeedforwardNetwork) throws -> [Int] {
        try net.layers.map { layer in
            let norm = try balancingNorm(layer.weight)
            guard norm > 0, norm.isFinite else { return 0 }
            return Int(log2(norm).rounded())
        }
    }

    /// Layers above this many entries get their norm by Lanczos instead of a dense SVD.
    static let balancingSVDLimit = 250_000

    /// ‖W‖₂ as accurately as a power-of-two rounding needs (any exponent keeps the LMI exact; the
    /// rounding only conditions it). Small layers: the SVD, as always. Large ones: Lanczos on WᵀW
    /// by products with W — its nonzeros for a conv layer — since the dense SVDs of cifar deep_kw's
    /// 2048 × 3072 and 2048 × 2048 conv layers took seconds each and could not be cancelled.
    static func balancingNorm(_ weight: WeightMatrix) throws -> Double {
        if weight.rows * weight.columns <= balancingSVDLimit || min(weight.rows, weight.columns) <= 1 {
            return try LinearAlgebra.spectralNorm(weight.dense)
        }
        let top: Double
        switch weight {
        case .dense(let w):
            let wt = w.transposed
            top = try ChainSparse.lanczosTop(size: w.columns, steps: 60, tolerance: 1e-6) { wt * (w * $0) }
        case .sparse(let w):
            let wt = ConvolutionNorm.transpose(w)
            top = try ChainSparse.lanczosTop(size: w.columns, steps: 60, tolerance: 1e-6) { wt * (w * $0) }
        }
        return max(0, top).squareRoot()
    }

    // MARK: Input reduction (ℓ2 only)

    /// The input enters only through the input parts of the rows and outputs, K (k × p). Any K̃
    /// (k × r) with K̃K̃ᵀ = KKᵀ gives the same LMI value for a ρ·I input term (A.3 of the spec;
    /// K = K̃Vᵀ with Vᵀ a co-isometry). K̃ = U√Λ from the eigendecomposition of the Gram KKᵀ,
    /// dropping eigenvalues below rounding. Returns nil when it would not shrink the input.
    /// Soundness never rests on this: certificates are checked on the unreduced matrix.
    func reducingInput() throws -> SlopeLMI? {
        let carriers = rows.indices.filter { !rows[$0].input.isEmpty }
        let outCarriers = outputs.indices.filter { !outputs[$0].input.isEmpty }
        let k = carriers.count + outCarriers.count
        guard k < inputSize, k > 0 else { return nil }
        var kt = Matrix(rows: inputSize, columns: k)   // Kᵀ, column per carrier
        for (c, i) in carriers.enumerated() { for j in 0..<inputSize { kt[j, c] = rows[i].input[j] } }
        for (c, i) in outCarriers.enumerated() { for j in 0..<inputSize { kt[j, carriers.count + c] = outputs[i].input[j] } }
        let gram = Matrix.transposeTimes(kt, kt)
        let (values, vectors) = try LinearAlgebra.symmetricEigen(gram)
        let top = max(values.last ?? 0, 0)
        let keep = values.indices.filter { values[$0] > top * Double(k) * 1e-15 && values[$0] > 0 }
        guard !keep.isEmpty else { return nil }
        let r = keep.count
        var reduced = self
        func newInput(_ carrier: Int) -> [Double] {
            keep.map { vectors[carrier, $0] * values[$0].squareRoot() }
        }
        for (c, i) in carriers.enumerated() { reduced.rows[i].input = newInput(c) }
        for (c, i) in outCarriers.enumerated() { reduced.outputs[i].input = newInput(carriers.count + c) }
        reduced.inputSize = r
        return reduced
    }

    // MARK: Dense matrices

    /// Dense matrix of the pre-activation rows (n × dim) and of the outputs (q × dim).
    func denseRows() -> (a: Matrix, c: Matrix) {
        var a = Matrix(rows: stateSize, columns: dimension)
        for (i, row) in rows.enumerated() { row.forEachEntry(inputCount: inputSize) { a[i, $0] = $1 } }
        var c = Matrix(rows: outputs.count, columns: dimension)
        for (i, row) in outputs.enumerated() { row.forEachEntry(inputCount: inputSize) { c[i, $0] = $1 } }
        return (a, c)
    }

    /// −M without the input term, −Σᵢ λᵢ Q̂ᵢ − CᵀC, for per-neuron multipliers `lambda`, and the
    /// same sums taken over absolute values (for rounding-error bounds).
    func negatedMatrixWithoutInput(neuronMultipliers lambda: [Double]) -> (value: Matrix, absolute: Matrix) {
        let (a, c) = denseRows()
        let dim = dimension, p = inputSize
        // −Σ λ(−2αβ) aaᵀ = Aᵀ diag(2αβλ) A.
        let w = (0..<stateSize).map { 2 * slopes[$0].alpha * slopes[$0].beta * lambda[$0] }
        var m: Matrix
        var absM: Matrix
        if w.contains(where: { $0 != 0 }) {
            m = Matrix.transposeTimes(a.scalingRows(by: w), a)
            let absA = Matrix(rows: a.rows, columns: a.columns, storage: a.storage.map(abs))
            absM = Matrix.transposeTimes(absA.scalingRows(by: w.map(abs)), absA)
        } else {
            m = Matrix(rows: dim, columns: dim)
            absM = Matrix(rows: dim, columns: dim)
        }
        if c.rows > 0 {
            let g = Matrix.transposeTimes(c, c)
            let absC = Matrix(rows: c.rows, columns: c.columns, storage: c.storage.map(abs))
            let ga = Matrix.transposeTimes(absC, absC)
            for idx in 0..<m.storage.count { m.storage[idx] -= g.storage[idx]; absM.storage[idx] += ga.storage[idx] }
        }
        // −(α+β)λ(abᵀ + baᵀ) + 2λ bbᵀ.
        for i in 0..<stateSize {
            let s = p + i
            let coef = (slopes[i].alpha + slopes[i].beta) * lambda[i]
            if coef != 0 {
                rows[i].forEachEntry(inputCount: p) { u, v in
                    m[u, s] -= coef * v; m[s, u] -= coef * v
                    absM[u, s] += abs(coef * v); absM[s, u] += abs(coef * v)
                }
            }
            m[s, s] += 2 * lambda[i]
            absM[s, s] += abs(2 * lambda[i])
        }
        return (m, absM)
    }
}
