import Foundation
import Testing
@testable import LipscopeEngine
import LipscopeLinearAlgebra

/// The batched forward and adjoint iterations against independent solutions.
@Suite struct FixedPointTests {
    /// x = relu(−3x + 1): μ∞ = −3 < 1, so the equilibrium x* = 1/4 is unique, but Picard's map
    /// x ↦ relu(1 − 3x) has slope −3 there and cycles 0, 1, 0, 1, …; the averaged iteration
    /// (α = 1/4) reaches x* in one step.
    @Test func averagedConvergesWherePicardCycles() {
        let a = Matrix(rowArrays: [[-3]])
        let drive = Matrix(rowArrays: [[1]])
        let picard = BatchedFixedPoint(A: a, scheme: .picard, tolerance: 1e-6, maxIterations: 1000).forward(drive: drive)
        #expect(!picard.converged)
        let averaged = BatchedFixedPoint(A: a, scheme: .averaged, tolerance: 1e-12, maxIterations: 1000).forward(drive: drive)
        #expect(averaged.converged)
        #expect(abs(averaged.state[0, 0] - 0.25) < 1e-12)
    }

    /// A 6-state net with a negative diagonal (μ∞(A) = 0.6): Picard does not converge, the averaged
    /// iteration does, and its state solves the equation on its active set exactly:
    /// x_S = (I − A_SS)⁻¹ d_S, checked by an LU solve.
    @Test func averagedMatchesTheActiveSetLinearSolve() throws {
        var g = SeededGenerator(seed: 11)
        let n = 6, m = 4
        var a = TrainingFixtures.random(n, n, &g)
        for i in 0..<n { a[i, i] = -4 - Double(i) }
        Parameterization.projectOntoPolytope(&a, gamma: 0.6)
        #expect(Parameterization.muInfinity(a) <= 0.6)
        let drive = TrainingFixtures.random(n, m, &g, scale: 2)
        let picard = BatchedFixedPoint(A: a, scheme: .picard, tolerance: 1e-6, maxIterations: 2000).forward(drive: drive)
        #expect(!picard.converged)
        let solve = BatchedFixedPoint(A: a, scheme: .averaged, tolerance: 1e-13, maxIterations: 20000).forward(drive: drive)
        #expect(solve.converged)
        for k in 0..<m {
            let x = solve.state.column(k)
            let z = zip(a * x, drive.column(k)).map(+)
            let active = (0..<n).filter { z[$0] > 0 }
            var system = Matrix(rows: active.count, columns: active.count)
            for (r, i) in active.enumerated() { for (c, j) in active.enumerated() { system[r, c] = (i == j ? 1 : 0) - a[i, j] } }
            let exact = try LinearAlgebra.solve(system, active.map { drive[$0, k] })
            for (r, i) in active.enumerated() { #expect(abs(exact[r] - x[i]) < 1e-10) }
            for i in 0..<n where !active.contains(i) { #expect(x[i] == 0) }
            // The engine's per-example solver agrees.
            let net = ImplicitNetwork(name: "t", A: a, B: Matrix(rows: n, columns: 1), C: Matrix(rows: 1, columns: n), D: Matrix(rows: 1, columns: 1),
                                      bias: drive.column(k), activation: .relu)
            let reference = net.fixedPoint(input: [0])
            for i in 0..<n { #expect(abs(reference.state[i] - x[i]) < 1e-9) }
        }
    }

    /// The adjoint iteration returns V = S g with (I − SA)ᵀ g = H, solved here directly by LU.
    @Test func adjointMatchesTheTransposedLinearSolve() throws {
        var g = SeededGenerator(seed: 12)
        let n = 7, m = 3
        var a = TrainingFixtures.random(n, n, &g)
        a[2, 2] = -3
        Parameterization.projectOntoPolytope(&a, gamma: 0.5)
        let drive = TrainingFixtures.random(n, m, &g)
        let solver = BatchedFixedPoint(A: a, scheme: .averaged, tolerance: 1e-13, maxIterations: 20000)
        let x = solver.forward(drive: drive).state
        var z = a * x
        z = z + drive
        let active = z.storage.map { $0 > 0 }
        let h = TrainingFixtures.random(n, m, &g)
        let adjoint = solver.adjoint(h, active: active)
        #expect(adjoint.converged)
        for k in 0..<m {
            let s = (0..<n).map { active[$0 + k * n] ? 1.0 : 0.0 }
            let system = (Matrix.identity(n) - a.scalingRows(by: s)).transposed
            let gk = try LinearAlgebra.solve(system, h.column(k))
            for i in 0..<n { #expect(abs(adjoint.state[i, k] - s[i] * gk[i]) < 1e-10) }
        }
    }

    /// Peaceman–Rachford on a monotone A (I − A ⪰ 0.5 I) with μ∞(A) > 1, where no ℓ∞ argument
    /// applies: the state solves x = relu(Ax + d) (checked directly) and the adjoint matches LU.
    @Test func peacemanRachfordSolvesMonotoneEquilibria() throws {
        var g = SeededGenerator(seed: 14)
        let n = 8, m = 3
        let model = ImplicitModel(parameterization: .monotone, gamma: 0.5, inputs: 1, states: n, outputs: 1, seed: 15)
        var a = model.stateMatrix
        let q = TrainingFixtures.random(n, n, &g, scale: 0.8)
        a = a + q - q.transposed
        #expect(Parameterization.muInfinity(a) > 1)
        #expect(FixedPointComparison.monotonicity(a) >= 0.5 - 1e-9)
        let drive = TrainingFixtures.random(n, m, &g)
        let solver = BatchedFixedPoint(A: a, scheme: .peacemanRachford, tolerance: 1e-13, maxIterations: 100_000)
        let solve = solver.forward(drive: drive)
        #expect(solve.converged)
        let z = a * solve.state + drive
        for i in z.storage.indices { #expect(abs(max(z.storage[i], 0) - solve.state.storage[i]) < 1e-10) }
        let active = z.storage.map { $0 > 0 }
        let h = TrainingFixtures.random(n, m, &g)
        let adjoint = solver.adjoint(h, active: active)
        #expect(adjoint.converged)
        for k in 0..<m {
            let s = (0..<n).map { active[$0 + k * n] ? 1.0 : 0.0 }
            let gk = try LinearAlgebra.solve((Matrix.identity(n) - a.scalingRows(by: s)).transposed, h.column(k))
            for i in 0..<n { #expect(abs(adjoint.state[i, k] - s[i] * gk[i]) < 1e-9) }
        }
    }

    /// μ∞(A) ≤ γ as `lipscope info` computes it (BLAS row sums of the Metzler majorant), for
    /// the polytope and the direct parameterization, with large random parameters.
    @Test func parameterizationsKeepMuBelowGammaAsInfoSeesIt() {
        var g = SeededGenerator(seed: 16)
        for trial in 0..<20 {
            for parameterization in [Parameterization.polytope, .direct] {
                var model = ImplicitModel(parameterization: parameterization, gamma: 0.5, inputs: 3, states: 40, outputs: 2, seed: UInt64(trial))
                model.core = TrainingFixtures.random(40, 40, &g, scale: 3)
                if parameterization == .polytope { Parameterization.projectOntoPolytope(&model.core, gamma: 0.5) }
                let summary = NetworkSummary(.implicit(model.network(name: "t")))
                #expect(summary.muInf! <= 0.5, "\(parameterization) trial \(trial): μ∞ = \(summary.muInf!)")
                #expect(summary.bestWeightedMu! <= 0.5 + 1e-9)
            }
        }
    }

    /// Projection onto {t + ‖w‖₁ ≤ γ}: feasible, on the boundary, unchanged when already feasible,
    /// and optimal by its KKT conditions (t₀ − t = θ ≥ 0; w₀ − w = θ sign w, or w = 0 and |w₀| ≤ θ).
    @Test func rowProjectionSatisfiesKKT() {
        var g = SeededGenerator(seed: 13)
        for trial in 0..<50 {
            let t0 = 2 * g.gaussian(), w0 = (0..<(1 + trial % 7)).map { _ in g.gaussian() }
            let gamma = 0.5
            var w = w0
            let t = Parameterization.projectRow(diagonal: t0, offDiagonal: &w, limit: gamma)
            let sum = t + w.reduce(0) { $0 + abs($1) }
            if t0 + w0.reduce(0, { $0 + abs($1) }) <= gamma {
                #expect(t == t0 && w == w0)
                continue
            }
            #expect(abs(sum - gamma) < 1e-12)
            let theta = t0 - t
            #expect(theta >= 0)
            for j in w.indices {
                if w[j] == 0 { #expect(abs(w0[j]) <= theta + 1e-12) } else { #expect(abs(w0[j] - w[j] - theta * (w[j] > 0 ? 1 : -1)) < 1e-12) }
            }
        }
        var a = TrainingFixtures.random(30, 30, &g)
        Parameterization.projectOntoPolytope(&a, gamma: 0.5)
        #expect(Parameterization.muInfinity(a) <= 0.5)
    }
}
