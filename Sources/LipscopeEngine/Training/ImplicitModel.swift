import Foundation
import LipscopeLinearAlgebra

/// The trainable parameters of x = relu(Ax + Bu + b), y = Cx + Du + c, with A given through its
/// parameterization (`Parameterization`).
struct ImplicitModel: Sendable {
    let parameterization: Parameterization
    let gamma: Double
    /// A (polytope), P (direct, monotone).
    var core: Matrix
    /// Q (monotone); 0 × 0 otherwise.
    var skew: Matrix
    var B: Matrix, C: Matrix, D: Matrix
    /// b (n × 1) and c (q × 1).
    var bias: Matrix, outputBias: Matrix

    var stateSize: Int { B.rows }
    var monotonicity: Double { 1 - gamma }

    /// Seeded initialization: B and C Gaussian with variance 1/fan-in, small random A made
    /// feasible, zero D and biases.
    init(parameterization: Parameterization, gamma: Double, inputs p: Int, states n: Int, outputs q: Int, seed: UInt64) {
        self.parameterization = parameterization
        self.gamma = gamma
        var generator = SeededGenerator(seed: seed)
        func gaussian(_ rows: Int, _ columns: Int, _ sd: Double) -> Matrix {
            Matrix(rows: rows, columns: columns, storage: (0..<(rows * columns)).map { _ in sd * generator.gaussian() })
        }
        let coreScale = 0.5 / Double(max(n, 1)).squareRoot()
        core = gaussian(n, n, parameterization == .polytope ? coreScale : 0.1 * coreScale)
        // Small Q keeps ‖I − A‖₂ near m at the start: forward–backward converges at rate √(1 − m²/‖I − A‖₂²).
        skew = parameterization == .monotone ? gaussian(n, n, 0.2 * coreScale) : Matrix(rows: 0, columns: 0)
        B = gaussian(n, p, 1 / Double(max(p, 1)).squareRoot())
        C = gaussian(q, n, 1 / Double(max(n, 1)).squareRoot())
        D = Matrix(rows: q, columns: p)
        bias = Matrix(rows: n, columns: 1)
        outputBias = Matrix(rows: q, columns: 1)
        if parameterization == .polytope { Parameterization.projectOntoPolytope(&core, gamma: gamma) }
    }

    /// The state matrix A.
    var stateMatrix: Matrix {
        let n = stateSize
        switch parameterization {
        case .polytope:
            return core
        case .direct:
            // γ − slack, and a rounding-level push down where the row measure still exceeds it:
            // computed in floating point, γ + pᵢᵢ − Σ|pᵢⱼ| + Σ_{j≠i}|pᵢⱼ| can land an ulp above γ.
            let limit = gamma - Parameterization.projectionSlack * max(1, abs(gamma))
            var a = core
            for i in 0..<n {
                let rowSum = (0..<n).reduce(0.0) { $0 + abs(core[i, $1]) }
                a[i, i] = limit + core[i, i] - rowSum
                let measure = a[i, i] + (0..<n).reduce(0.0) { $1 == i ? $0 : $0 + abs(a[i, $1]) }
                if measure > limit { a[i, i] -= (measure - limit) * 2 + Double.ulpOfOne * max(1, abs(measure)) }
            }
            return a
        case .monotone:
            var a = Matrix.transposeTimes(core, core)
            for k in a.storage.indices { a.storage[k] = -a.storage[k] }
            a = a + skew - skew.transposed
            for i in 0..<n { a[i, i] += 1 - monotonicity }
            return a
        }
    }

    /// Gradient with respect to `core` and `skew` from the gradient G = dL/dA.
    func pullback(_ g: Matrix) -> (core: Matrix, skew: Matrix) {
        let n = stateSize
        switch parameterization {
        case .polytope:
            return (g, skew)
        case .direct:
            // aᵢⱼ = pᵢⱼ (j ≠ i), aᵢᵢ = γ + pᵢᵢ − Σⱼ|pᵢⱼ|.
            var d = g
            for j in 0..<n {
                for i in 0..<n {
                    let sign: Double = core[i, j] > 0 ? 1 : (core[i, j] < 0 ? -1 : 0)
                    d[i, j] -= g[i, i] * sign
                }
            }
            return (d, skew)
        case .monotone:
            // d(−PᵀP)/dP applied to G: −P(G + Gᵀ); d(Q − Qᵀ)/dQ: G − Gᵀ.
            let symmetric = g + g.transposed
            return (-1 * (core * symmetric), g - g.transposed)
        }
    }

    var parameters: [Matrix] {
        get { [core, skew, B, C, D, bias, outputBias] }
        set { core = newValue[0]; skew = newValue[1]; B = newValue[2]; C = newValue[3]; D = newValue[4]; bias = newValue[5]; outputBias = newValue[6] }
    }

    /// The network as lipscope stores it.
    func network(name: String) -> ImplicitNetwork {
        ImplicitNetwork(name: name, A: stateMatrix, B: B, C: C, D: D, bias: bias.storage, outputBias: outputBias.storage, activation: .relu)
    }
}
