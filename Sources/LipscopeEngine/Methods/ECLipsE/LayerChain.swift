import Foundation
import CLapack
import LipscopeLinearAlgebra

/// A feedforward net (linear-output form) as the cascade the ECLipsE decomposition works on:
/// input size n₀, hidden layers k = 1…h with weights Wₖ (nₖ × nₖ₋₁) and a slope interval
/// [αᵢ, βᵢ] per neuron (per-layer intervals today; the arrays let per-neuron intervals in
/// later), and the output weight W_out (q × n_h).
///
/// With per-neuron multipliers λ (the LipSDP-Neuron convention of `SlopeLMI`), −M of
/// LipSDP-Neuron is block tridiagonal over the coordinate layers (input, hidden 1, …, hidden h):
///     D₀ = ρI + 2W₁ᵀdiag(αβλ₁)W₁,   Dₖ = 2Λₖ + 2Wₖ₊₁ᵀdiag(αβλₖ₊₁)Wₖ₊₁,   D_h = 2Λ_h − W_outᵀW_out,
///     off-diagonal block (k, k−1) = −diag((α+β)λₖ)Wₖ.
struct LayerChain: Sendable {
    struct Hidden: Sendable {
        var weight: Matrix
        /// The same weight in sparse form when the network stores it sparse (conv layers).
        var sparse: SparseMatrix? = nil
        var alpha: [Double]
        var beta: [Double]
        /// mᵢ = (αᵢ + βᵢ)/2, the coupling of the incremental quadratic constraint.
        var mid: [Double] { zip(alpha, beta).map { ($0 + $1) / 2 } }
        var width: Int { weight.rows }
    }

    var inputSize: Int
    var hidden: [Hidden]
    var output: Matrix

    var widths: [Int] { [inputSize] + hidden.map(\.width) }

    /// The chain of `net` (which must already be in linear-output form with ≥ 1 hidden layer).
    init(_ net: FeedforwardNetwork) {
        inputSize = net.inputSize
        hidden = net.hiddenLayers.map { layer in
            let (a, b) = layer.activation.slopeBounds
            var sparse: SparseMatrix? = nil
            if case .sparse(let s) = layer.weight { sparse = s }
            return Hidden(weight: layer.weight.dense, sparse: sparse, alpha: Array(repeating: a, count: layer.outputSize),
                          beta: Array(repeating: b, count: layer.outputSize))
        }
        output = net.layers[net.layers.count - 1].weight.dense
    }

    /// Why the decomposition does not apply, or nil. The recursion drops the terms
    /// 2Wᵀdiag(αβλ)W from the diagonal blocks, which is conservative only when every αβ ≥ 0
    /// (ReLU, tanh, sigmoid, identity, leaky ReLU with a non-negative slope).
    static func unsupported(_ net: FeedforwardNetwork) -> String? {
        guard !net.hiddenLayers.isEmpty else { return nil }
        for (k, layer) in net.hiddenLayers.enumerated() {
            let (a, b) = layer.activation.slopeBounds
            if a * b < 0 {
                return "hidden layer \(k + 1) has slope interval [\(a), \(b)] with αβ < 0; the layer-by-layer decomposition drops the αβ terms, which is sound only for αβ ≥ 0"
            }
        }
        return nil
    }
}

/// Dense kernels the decomposition needs beyond `LipscopeLinearAlgebra` (BLAS level 3 and the
/// top eigenvalue only).
enum ChainAlgebra {
    /// Y = W L⁻ᵀ for lower-triangular L (solves Y Lᵀ = W), W is r × n, L is n × n.
    static func solveRightLowerTransposed(_ w: Matrix, _ l: Matrix) -> Matrix {
        precondition(w.columns == l.rows && l.isSquare)
        var y = w
        if w.rows == 0 || w.columns == 0 { return y }
        cblas_dtrsm(CblasColMajor, CblasRight, CblasLower, CblasTrans, CblasNonUnit,
                    Int32(w.rows), Int32(w.columns), 1.0, l.storage, Int32(l.rows), &y.storage, Int32(y.rows))
        return y
    }

    /// Y Yᵀ (full symmetric matrix); a large Y skips its rows' leading zeros (`Staircase`).
    static func gram(_ y: Matrix) -> Matrix {
        var c = Matrix(rows: y.rows, columns: y.rows)
        if y.rows == 0 { return c }
        let staircase = Staircase.applies(rows: y.rows, k: y.columns) && y.storage.withUnsafeBufferPointer { ys in
            c.storage.withUnsafeMutableBufferPointer { cs in
                Staircase.addGram(ys.baseAddress!, rows: y.rows, k: y.columns, sign: 1, cs.baseAddress!)
            }
        }
        if !staircase && y.columns > 0 {
            cblas_dsyrk(CblasColMajor, CblasLower, CblasNoTrans, Int32(y.rows), Int32(y.columns),
                        1.0, y.storage, Int32(y.rows), 0.0, &c.storage, Int32(c.rows))
        }
        symmetrizeFromLower(&c)
        return c
    }

    /// a − Y Yᵀ (full symmetric; a is symmetric).
    static func subtractGram(_ a: Matrix, _ y: Matrix) -> Matrix {
        var c = a
        if y.rows == 0 || y.columns == 0 { return c }
        cblas_dsyrk(CblasColMajor, CblasLower, CblasNoTrans, Int32(y.rows), Int32(y.columns),
                    -1.0, y.storage, Int32(y.rows), 1.0, &c.storage, Int32(c.rows))
        symmetrizeFromLower(&c)
        return c
    }

    static func symmetrizeFromLower(_ c: inout Matrix) {
        let n = c.rows
        c.storage.withUnsafeMutableBufferPointer { s in
            for j in 0..<n { for i in (j + 1)..<max(j + 1, n) { s[j + i * n] = s[i + j * n] } }
        }
    }

    /// Above this size the closed form's λ_max comes from Lanczos (dsyevr's n³ reduction
    /// dominated ECLipsE-Fast on the 2048-wide CIFAR layers, and 300 power steps after it). The
    /// closed form only needs λ_max approximately: Xₖ = ℓI − ℓ²K̂ stays ⪰ ℓ/2·I-ish for any ℓ near
    /// 1/(2λ_max), and the certificate checks the result.
    static let iterativeSize = 384

    /// λ_max of a symmetric positive semidefinite matrix: exact (dsyevr) up to `iterativeSize`,
    /// else Lanczos (Ritz value + residual).
    static func topEigenvalue(_ a: Matrix) throws -> Double {
        guard a.rows > iterativeSize else { return try largestEigenvalue(a) }
        return try ChainSparse.lanczosTop(a)
    }

    /// The largest eigenvalue of a symmetric matrix (dsyevr, index range: only the top one).
    static func largestEigenvalue(_ a: Matrix) throws -> Double {
        let n = a.rows
        if n == 0 { return 0 }
        if n == 1 { return a[0, 0] }
        var work = a.storage
        var m: Int32 = 0
        var w = [Double](repeating: 0, count: n)
        var z = [Double](repeating: 0, count: n)
        var isuppz = [Int32](repeating: 0, count: 2)
        let info = LAPACKE_dsyevr(LAPACK_COL_MAJOR, CChar(UInt8(ascii: "N")), CChar(UInt8(ascii: "I")),
                                  CChar(UInt8(ascii: "L")), Int32(n), &work, Int32(n), 0, 0, Int32(n), Int32(n),
                                  0.0, &m, &w, &z, 1, &isuppz)
        if info != 0 { throw MethodFailure("LAPACK dsyevr failed (info = \(info)) on a \(n) × \(n) Schur complement") }
        return w[0]
    }
}
