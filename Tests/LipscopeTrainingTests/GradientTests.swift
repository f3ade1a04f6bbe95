import Foundation
import Testing
@testable import LipscopeEngine
import LipscopeLinearAlgebra

/// The implicit-differentiation gradients (adjoint fixed point + parameterization pullback +
/// smooth bound) against central finite differences of the loss, on tiny nets.
@Suite struct GradientTests {
    static func check(_ parameterization: Parameterization, lambda: Double, negativeDiagonal: Bool, scheme: FixedPointScheme? = nil) throws {
        var settings = TrainingSettings()
        settings.scheme = scheme
        settings.parameterization = parameterization
        settings.lambda = lambda
        settings.gamma = 0.5
        settings.tolerance = 1e-14
        settings.maxIterations = 200_000
        var model = ImplicitModel(parameterization: parameterization, gamma: 0.5, inputs: 3, states: 5, outputs: 3, seed: 21)
        var g = SeededGenerator(seed: 22)
        // Nonzero biases and feedthrough so every parameter's gradient is exercised.
        model.bias = TrainingFixtures.random(5, 1, &g, scale: 0.5)
        model.outputBias = TrainingFixtures.random(3, 1, &g, scale: 0.5)
        model.D = TrainingFixtures.random(3, 3, &g, scale: 0.3)
        model.core = TrainingFixtures.random(5, 5, &g, scale: parameterization == .monotone ? 0.3 : 0.4)
        if negativeDiagonal { model.core[1, 1] = -2.5 }
        if parameterization == .polytope { Parameterization.projectOntoPolytope(&model.core, gamma: 0.5) }
        if negativeDiagonal { #expect(model.stateMatrix[1, 1] < -1) }
        let u = TrainingFixtures.random(3, 6, &g)
        let labels = [0, 1, 2, 1, 0, 2]
        let trainer = ImplicitTrainer(settings: settings)
        let outcome = try #require(trainer.lossAndGradient(model, input: u, labels: labels))
        #expect(outcome.converged)
        if lambda > 0 { #expect(outcome.regularizer > 0) }
        let h = 1e-6
        var worst = 0.0
        let names = ["core", "skew", "B", "C", "D", "b", "c"]
        for t in model.parameters.indices {
            for k in model.parameters[t].storage.indices {
                func loss(_ delta: Double) throws -> Double {
                    var perturbed = model
                    var p = perturbed.parameters
                    p[t].storage[k] += delta
                    perturbed.parameters = p
                    return try #require(trainer.lossAndGradient(perturbed, input: u, labels: labels)).loss
                }
                let numeric = (try loss(h) - loss(-h)) / (2 * h)
                let analytic = outcome.gradients[t].storage[k]
                let error = abs(numeric - analytic) / max(1, abs(numeric))
                worst = max(worst, error)
                #expect(error < 2e-6, "\(parameterization) λ=\(lambda) \(names[t])[\(k)]: analytic \(analytic), finite difference \(numeric)")
            }
        }
    }

    @Test func polytopeWithoutRegularizer() throws { try Self.check(.polytope, lambda: 0, negativeDiagonal: true) }
    @Test func polytopeWithCertifiedBound() throws { try Self.check(.polytope, lambda: 0.05, negativeDiagonal: true) }
    @Test func directParameterization() throws { try Self.check(.direct, lambda: 0.05, negativeDiagonal: false) }
    @Test func monotoneWithPeacemanRachford() throws { try Self.check(.monotone, lambda: 0, negativeDiagonal: false) }
    @Test func monotoneWithForwardBackward() throws { try Self.check(.monotone, lambda: 0, negativeDiagonal: false, scheme: .forwardBackward) }

    /// The smooth bound is never below the certified closed form (log-sum-exp ≥ max, √(x²+ε²) ≥ |x|).
    @Test func smoothBoundIsAboveTheCertifiedOne() throws {
        var g = SeededGenerator(seed: 23)
        for _ in 0..<5 {
            let model = ImplicitModel(parameterization: .polytope, gamma: 0.5, inputs: 4, states: 8, outputs: 3, seed: g.next())
            let net = model.network(name: "t")
            let smooth = try #require(LipschitzRegularizer.evaluate(A: net.A, B: net.B, C: net.C, D: net.D, gamma: 0.5)).value
            let exact = net.D.infinityNorm + net.C.infinityNorm * net.B.infinityNorm / (1 - Parameterization.muInfinity(net.A))
            #expect(smooth >= exact)
            #expect(smooth <= 1.5 * exact)
        }
    }
}
