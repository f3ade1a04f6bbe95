import LipscopeLinearAlgebra

/// The LipSDP family of LMIs in the form the structured backend exploits:
///     minimize ρ  s.t.  S(ρ, λ) = ρ·Σ_{j<r} e_j e_jᵀ + Σᵢ λ_{g(i)} Fᵢ − CᵀC ≻ 0,  λ > 0,
///     Fᵢ = pᵢ aᵢaᵢᵀ + qᵢ (aᵢbᵢᵀ + bᵢaᵢᵀ) + sᵢ bᵢbᵢᵀ,  bᵢ = e_{r+i}.
/// Coordinates are [input (r) | neurons (n)]; neuron i's pre-activation row aᵢ is dense on a
/// column range shared by its `Band` (one band per layer of a feedforward net), so every Fᵢ is a
/// rank-2 term and the Newton matrix is assembled from the Gram matrix of the vectors aᵢ, bᵢ.
/// For a slope interval [α, β]: p = 2αβ, q = −(α+β), s = 2 (LipSDP's −Q̂ᵢ).
public struct RankTwoLMI: Sendable {
    /// Consecutive neurons [firstRow, firstRow + weights.rows) whose rows aᵢ live on columns
    /// [columnStart, columnStart + weights.columns); row i of `weights` is aᵢ there.
    public struct Band: Sendable {
        public var firstRow: Int
        public var columnStart: Int
        public var weights: Matrix

        public init(firstRow: Int, columnStart: Int, weights: Matrix) {
            self.firstRow = firstRow
            self.columnStart = columnStart
            self.weights = weights
        }
    }

    public var inputCount: Int
    public var neuronCount: Int
    public var bands: [Band]
    /// The output rows C on their column range (`firstRow` unused).
    public var output: Band
    public var p: [Double]
    public var q: [Double]
    public var s: [Double]
    /// Multiplier index of every neuron.
    public var group: [Int]
    public var groupCount: Int

    public var dimension: Int { inputCount + neuronCount }

    public init(inputCount: Int, neuronCount: Int, bands: [Band], output: Band, p: [Double], q: [Double], s: [Double],
                group: [Int], groupCount: Int) {
        self.inputCount = inputCount
        self.neuronCount = neuronCount
        self.bands = bands
        self.output = output
        self.p = p
        self.q = q
        self.s = s
        self.group = group
        self.groupCount = groupCount
    }

    /// Why the data is inconsistent, or nil.
    public func validate() -> String? {
        let n = neuronCount, dim = dimension
        guard inputCount >= 0, n > 0 else { return "needs at least one neuron (found \(n))" }
        guard p.count == n, q.count == n, s.count == n, group.count == n else {
            return "coefficient arrays must have one entry per neuron (\(n))"
        }
        guard group.allSatisfy({ $0 >= 0 && $0 < groupCount }) else { return "group index outside 0..<\(groupCount)" }
        var covered = 0
        for (k, band) in bands.enumerated() {
            guard band.firstRow == covered else { return "band \(k) starts at neuron \(band.firstRow), expected \(covered)" }
            guard band.columnStart >= 0, band.columnStart + band.weights.columns <= dim else {
                return "band \(k) columns \(band.columnStart)..<\(band.columnStart + band.weights.columns) outside 0..<\(dim)"
            }
            covered += band.weights.rows
        }
        guard covered == n else { return "bands cover \(covered) neurons, expected \(n)" }
        guard output.columnStart >= 0, output.columnStart + output.weights.columns <= dim else { return "output columns outside the LMI" }
        guard bands.allSatisfy({ $0.weights.allFinite }), output.weights.allFinite,
              (p + q + s).allSatisfy(\.isFinite) else { return "non-finite data" }
        return nil
    }
}
