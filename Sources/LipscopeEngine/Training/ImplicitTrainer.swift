import Foundation
import LipscopeLinearAlgebra

/// Settings of one training run (`lipscope train`).
public struct TrainingSettings: Sendable {
    public var hidden = 100
    /// μ∞(A) ≤ γ < 1 (for `monotone`: I − A ⪰ (1 − γ)I).
    public var gamma = 0.5
    /// Weight of the smooth certified ℓ∞ Lipschitz bound in the loss.
    public var lambda = 0.0
    public var epochs = 15
    public var seed: UInt64 = 0
    public var parameterization = Parameterization.polytope
    public var batchSize = 64
    public var learningRate = 5e-3
    /// Forward residual (absolute, ℓ∞) and backward residual (relative to ‖dL/dx‖∞) while training.
    public var tolerance = 1e-4
    public var maxIterations = 300
    /// The residual the accuracies of each epoch are measured at.
    public var evaluationTolerance = 1e-8
    /// nil: averaged for the ℓ∞ parameterizations, Peaceman–Rachford for monotone (as monDEQ).
    public var scheme: FixedPointScheme? = nil
    public var name = "trained_implicit"

    public init() {}

    public var effectiveScheme: FixedPointScheme { scheme ?? (parameterization == .monotone ? .peacemanRachford : .averaged) }

    /// Problems with the settings, in the words of the CLI's options.
    public func validate() -> String? {
        if hidden < 1 { return "--hidden must be at least 1 (got \(hidden))" }
        if !(gamma < 1) || !gamma.isFinite { return "--gamma must be below 1 (got \(gamma)): the contraction needs μ∞(A) ≤ γ < 1" }
        if parameterization == .monotone && !(gamma < 1 && 1 - gamma > 0) { return "--gamma must be below 1 for monotone (m = 1 − γ > 0)" }
        if !(lambda >= 0) || !lambda.isFinite { return "--lambda must be ≥ 0 (got \(lambda))" }
        if lambda > 0 && parameterization == .monotone {
            return "--lambda > 0 needs an ℓ∞ parameterization (polytope or direct): the monotone one does not keep μ∞(A) < 1, so there is no certified ℓ∞ bound to regularize"
        }
        if epochs < 0 { return "--epochs must be ≥ 0" }
        if batchSize < 1 { return "--batch must be at least 1" }
        if !(learningRate > 0) { return "--learning-rate must be positive" }
        return nil
    }
}

/// Loss, gradients and evaluation of an implicit model on batches (one column per example).
struct ImplicitTrainer {
    let settings: TrainingSettings

    struct BatchOutcome {
        var loss: Double
        var crossEntropy: Double
        var regularizer: Double
        var correct: Int
        var gradients: [Matrix]
        var forwardIterations: Int
        var backwardIterations: Int
        var converged: Bool
    }

    func solver(for a: Matrix, model: ImplicitModel, tolerance: Double) -> BatchedFixedPoint {
        let scheme = settings.effectiveScheme
        let step: Double? = scheme == .forwardBackward ? BatchedFixedPoint.splittingStep(a, monotonicity: max(model.monotonicity, 1e-3)) : nil
        return BatchedFixedPoint(A: a, scheme: scheme, step: step, tolerance: tolerance, maxIterations: settings.maxIterations)
    }

    /// BU + b𝟙ᵀ.
    static func drive(_ model: ImplicitModel, _ u: Matrix) -> Matrix {
        var d = Matrix(rows: model.stateSize, columns: u.columns)
        DenseKernels.gemm(model.B, u, into: &d)
        let n = model.stateSize
        for k in 0..<u.columns { for i in 0..<n { d.storage[i + k * n] += model.bias.storage[i] } }
        return d
    }

    /// Y = CX + DU + c𝟙ᵀ.
    static func logits(_ model: ImplicitModel, state x: Matrix, input u: Matrix) -> Matrix {
        var y = Matrix(rows: model.C.rows, columns: u.columns)
        DenseKernels.gemm(model.C, x, into: &y)
        DenseKernels.gemm(model.D, u, into: &y, beta: 1)
        let q = y.rows
        for k in 0..<u.columns { for i in 0..<q { y.storage[i + k * q] += model.outputBias.storage[i] } }
        return y
    }

    /// Mean cross-entropy over the batch, dL/dY, and the number of correct predictions.
    static func crossEntropy(_ y: Matrix, labels: [Int]) -> (loss: Double, gradient: Matrix, correct: Int) {
        let q = y.rows, m = y.columns
        var g = Matrix(rows: q, columns: m)
        var loss = 0.0
        var correct = 0
        for k in 0..<m {
            var top = -Double.infinity, arg = 0
            for i in 0..<q where y[i, k] > top { top = y[i, k]; arg = i }
            if arg == labels[k] { correct += 1 }
            var total = 0.0
            for i in 0..<q { total += exp(y[i, k] - top) }
            loss += top + log(total) - y[labels[k], k]
            for i in 0..<q { g[i, k] = (exp(y[i, k] - top) / total - (i == labels[k] ? 1 : 0)) / Double(m) }
        }
        return (loss / Double(m), g, correct)
    }

    /// Loss = mean cross-entropy + λ · smooth certified bound, and its gradient with respect to
    /// `model.parameters`, through the implicit-function adjoint.
    func lossAndGradient(_ model: ImplicitModel, input u: Matrix, labels: [Int], tolerance: Double? = nil) -> BatchOutcome? {
        let a = model.stateMatrix
        let fp = solver(for: a, model: model, tolerance: tolerance ?? settings.tolerance)
        let drive = Self.drive(model, u)
        let forward = fp.forward(drive: drive)
        guard forward.residual.isFinite else { return nil }
        let x = forward.state
        let y = Self.logits(model, state: x, input: u)
        let (ce, dY, correct) = Self.crossEntropy(y, labels: labels)

        // Output layer: dC = dY Xᵀ, dD = dY Uᵀ, dc = dY𝟙, and H = Cᵀ dY = dL/dx*.
        var dC = Matrix(rows: model.C.rows, columns: model.C.columns)
        DenseKernels.gemm(dY, x, transposeB: true, into: &dC)
        var dD = Matrix(rows: model.D.rows, columns: model.D.columns)
        DenseKernels.gemm(dY, u, transposeB: true, into: &dD)
        var dc = Matrix(rows: model.outputBias.rows, columns: 1)
        for k in 0..<dY.columns { for i in 0..<dY.rows { dc.storage[i] += dY[i, k] } }
        var h = Matrix(rows: model.stateSize, columns: u.columns)
        DenseKernels.gemm(model.C, transposeA: true, dY, into: &h)

        // The active set at the equilibrium: z = Ax* + Bu + b > 0.
        var z = drive
        DenseKernels.gemm(a, x, into: &z, beta: 1)
        let active = z.storage.map { $0 > 0 }
        let adjoint = fp.adjoint(h, active: active)
        guard adjoint.residual.isFinite else { return nil }
        let v = adjoint.state
        var dA = Matrix(rows: a.rows, columns: a.columns)
        DenseKernels.gemm(v, x, transposeB: true, into: &dA)
        var dB = Matrix(rows: model.B.rows, columns: model.B.columns)
        DenseKernels.gemm(v, u, transposeB: true, into: &dB)
        var db = Matrix(rows: model.stateSize, columns: 1)
        for k in 0..<v.columns { for i in 0..<v.rows { db.storage[i] += v[i, k] } }

        var regularizer = 0.0
        if settings.lambda > 0 {
            guard let r = LipschitzRegularizer.evaluate(A: a, B: model.B, C: model.C, D: model.D, gamma: model.gamma) else { return nil }
            regularizer = r.value
            let l = settings.lambda
            dA = dA + l * r.dA; dB = dB + l * r.dB; dC = dC + l * r.dC; dD = dD + l * r.dD
        }
        let (dCore, dSkew) = model.pullback(dA)
        return BatchOutcome(loss: ce + settings.lambda * regularizer, crossEntropy: ce, regularizer: regularizer, correct: correct,
                            gradients: [dCore, dSkew, dB, dC, dD, db, dc],
                            forwardIterations: forward.iterations, backwardIterations: adjoint.iterations,
                            converged: forward.converged && adjoint.converged)
    }

    /// Accuracy on a data set, with the equilibria solved to `tolerance`.
    func accuracy(_ model: ImplicitModel, on data: Dataset, tolerance: Double, batch: Int = 512) -> Double {
        if data.count == 0 { return .nan }
        let fp = solver(for: model.stateMatrix, model: model, tolerance: tolerance)
        var correct = 0
        var start = 0
        while start < data.count {
            let range = start..<min(start + batch, data.count)
            let u = data.gather(range)
            let x = fp.forward(drive: Self.drive(model, u)).state
            let y = Self.logits(model, state: x, input: u)
            for (k, i) in range.enumerated() {
                var top = -Double.infinity, arg = 0
                for c in 0..<y.rows where y[c, k] > top { top = y[c, k]; arg = c }
                if arg == data.labels[i] { correct += 1 }
            }
            start = range.upperBound
        }
        return Double(correct) / Double(data.count)
    }
}
