import LipscopeLinearAlgebra

/// An equilibrium network: x = σ(A x + B u + b), y = C x + D u + c (c, the output bias, does not
/// enter any Lipschitz bound).
public struct ImplicitNetwork: Sendable, Equatable {
    public var name: String
    public var A: Matrix
    public var B: Matrix
    public var C: Matrix
    public var D: Matrix
    public var bias: [Double]
    public var outputBias: [Double]
    public var activation: Activation

    public init(name: String, A: Matrix, B: Matrix, C: Matrix, D: Matrix, bias: [Double], outputBias: [Double]? = nil,
                activation: Activation) {
        self.name = name
        self.A = A; self.B = B; self.C = C; self.D = D
        self.bias = bias
        self.outputBias = outputBias ?? [Double](repeating: 0, count: C.rows)
        self.activation = activation
    }

    /// State size n, input size p, output size q.
    public var stateSize: Int { A.rows }
    public var inputSize: Int { B.columns }
    public var outputSize: Int { C.rows }
    public var parameterCount: Int {
        A.rows * A.columns + B.rows * B.columns + C.rows * C.columns + D.rows * D.columns + bias.count + outputBias.count
    }

    /// Step size of the averaged iteration, 1 / (1 − min(0, minᵢ aᵢᵢ)): the largest step for
    /// which the iteration contracts whenever a weighted ℓ∞ measure of A is below 1.
    public var averagingStep: Double {
        let minDiagonal = (0..<stateSize).map { A[$0, $0] }.min() ?? 0
        return 1 / (1 - min(0, minDiagonal))
    }

    /// The fixed point x* for input u by the averaged iteration x ← (1−α)x + α σ(Ax + Bu + b).
    /// `onIteration(k, residual)` sees every iteration; returning false stops early.
    public func fixedPoint(input u: [Double], tolerance: Double = 1e-10, maxIterations: Int = 10_000,
                           onIteration: ((Int, Double) -> Bool)? = nil) -> FixedPointResult {
        precondition(u.count == inputSize)
        let step = averagingStep
        let drive = zip(B * u, bias).map { $0 + $1 }
        var x = [Double](repeating: 0, count: stateSize)
        var residual = Double.infinity
        for k in 1...max(1, maxIterations) {
            let v = A * x
            residual = 0
            for i in 0..<stateSize {
                let target = activation.apply(v[i] + drive[i])
                residual = max(residual, abs(target - x[i]))
                x[i] = (1 - step) * x[i] + step * target
            }
            if let onIteration, !onIteration(k, residual) {
                return FixedPointResult(state: x, residual: residual, iterations: k, converged: false)
            }
            if residual <= tolerance {
                return FixedPointResult(state: x, residual: residual, iterations: k, converged: true)
            }
            if !residual.isFinite { return FixedPointResult(state: x, residual: residual, iterations: k, converged: false) }
        }
        return FixedPointResult(state: x, residual: residual, iterations: maxIterations, converged: false)
    }

    /// y = C x* + D u + c.
    public func forward(_ u: [Double]) -> (output: [Double], fixedPoint: FixedPointResult) {
        let fp = fixedPoint(input: u)
        let cx = C * fp.state, du = D * u
        let y = (0..<outputSize).map { cx[$0] + du[$0] + outputBias[$0] }
        return (y, fp)
    }

    /// dy/du = C (I − S A)⁻¹ S B + D with S = diag(σ'(v)) at the fixed point; nil on a kink,
    /// when the iteration did not converge, or when I − S A is singular.
    public func jacobian(at u: [Double]) -> Matrix? {
        // Tolerance relative to the input's scale: far from the origin 1e-10 absolute is below rounding.
        let scale = max(1, u.map(abs).max() ?? 0)
        let fp = fixedPoint(input: u, tolerance: 1e-10 * scale)
        guard fp.converged else { return nil }
        let v = zip(A * fp.state, zip(B * u, bias).map { $0 + $1 }).map { $0 + $1 }
        if v.contains(where: { activation.isKink($0) }) { return nil }
        let s = v.map { activation.derivative($0) }
        let system = Matrix.identity(stateSize) - A.scalingRows(by: s)
        guard let dx = try? LinearAlgebra.solve(system, B.scalingRows(by: s)) else { return nil }
        return C * dx + D
    }
}

public struct FixedPointResult: Sendable {
    public var state: [Double]
    public var residual: Double
    public var iterations: Int
    public var converged: Bool
}
