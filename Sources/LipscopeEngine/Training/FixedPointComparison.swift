import LipscopeLinearAlgebra

/// Iterations a scheme needs to solve a network's equilibria for a batch of inputs: the
/// `bench train` comparison of plain Picard against the averaged iteration.
public struct FixedPointRun: Sendable {
    public var scheme: FixedPointScheme
    public var step: Double
    public var iterations: Int
    public var converged: Bool
    public var residual: Double
}

public enum FixedPointComparison {
    /// Solves x = relu(Ax + Bu + b) for every column u of `inputs` at once, from x = 0, until
    /// maxᵢⱼ |relu(Ax + Bu + b) − x| ≤ tolerance (forward–backward: the step size over α).
    public static func run(_ net: ImplicitNetwork, inputs: Matrix, scheme: FixedPointScheme, tolerance: Double = 1e-6,
                           maxIterations: Int = 2000) -> FixedPointRun {
        var drive = net.B * inputs
        for k in 0..<inputs.columns { for i in 0..<net.stateSize { drive[i, k] += net.bias[i] } }
        let step: Double? = scheme == .forwardBackward
            ? BatchedFixedPoint.splittingStep(net.A, monotonicity: max(1e-3, monotonicity(net.A))) : nil
        let solver = BatchedFixedPoint(A: net.A, scheme: scheme, step: step, tolerance: tolerance, maxIterations: maxIterations)
        let solve = solver.forward(drive: drive)
        return FixedPointRun(scheme: scheme, step: solver.step, iterations: solve.iterations, converged: solve.converged, residual: solve.residual)
    }

    /// m with I − A ⪰ mI: the smallest eigenvalue of the symmetric part of I − A.
    public static func monotonicity(_ a: Matrix) -> Double {
        let s = 0.5 * ((Matrix.identity(a.rows) - a) + (Matrix.identity(a.rows) - a).transposed)
        return (try? LinearAlgebra.symmetricEigenvalues(s))?.first ?? 0
    }

    /// The first `count` examples of a data set as input columns.
    public static func inputs(_ data: Dataset, count: Int) -> Matrix { data.gather(0..<min(count, data.count)) }
}
