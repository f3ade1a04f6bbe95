import Foundation
import Testing
@testable import LipscopeEngine
import LipscopeLinearAlgebra
import LipscopeTestSupport

@Suite struct NetworkTests {
    /// Central differences of the forward pass agree with the analytic Jacobian.
    func expectJacobianMatchesFiniteDifferences(_ net: Network, at x: [Double], tolerance: Double) throws {
        let j = try #require(net.jacobian(at: x))
        let h = 1e-6
        for c in 0..<x.count {
            var xp = x, xm = x
            xp[c] += h; xm[c] -= h
            let fp = net.forward(xp), fm = net.forward(xm)
            for r in 0..<j.rows {
                let fd = (fp[r] - fm[r]) / (2 * h)
                #expect(abs(fd - j[r, c]) <= tolerance * max(1, abs(fd)), "J[\(r),\(c)] = \(j[r, c]) vs \(fd)")
            }
        }
    }

    @Test func feedforwardJacobian() throws {
        for file in ["tiny_relu_1.json", "tiny_tanh.json", "tiny_sigmoid.json", "tiny_leaky.json", "medium_2.json"] {
            let net = try Fixtures.load("testnets/\(file)")
            var rng = SeededGenerator(seed: 3)
            let x = (0..<net.inputSize).map { _ in rng.gaussian() }
            try expectJacobianMatchesFiniteDifferences(net, at: x, tolerance: 1e-5)
        }
    }

    @Test func implicitFixedPointAndJacobian() throws {
        let net = try Fixtures.load("testnets/implicit_n20.json")
        guard case .implicit(let imp) = net else { Issue.record("not implicit"); return }
        let u = [0.3, -0.7, 1.1, 0.2]
        var residuals: [Double] = []
        let fp = imp.fixedPoint(input: u) { _, r in residuals.append(r); return true }
        #expect(fp.converged && fp.residual <= 1e-10)
        #expect(residuals.count == fp.iterations)
        // x* really is a fixed point.
        let v = zip(imp.A * fp.state, zip(imp.B * u, imp.bias).map(+)).map(+)
        for (x, vi) in zip(fp.state, v) { #expect(abs(x - max(0, vi)) <= 1e-9) }
        try expectJacobianMatchesFiniteDifferences(net, at: u, tolerance: 1e-5)
    }

    @Test func averagingStepFollowsTheDiagonal() throws {
        let a = Matrix(rowArrays: [[-3, 0.5], [0.2, 0.1]])
        let net = ImplicitNetwork(name: "t", A: a, B: .identity(2), C: .identity(2), D: Matrix(rows: 2, columns: 2),
                                  bias: [0, 0], activation: .relu)
        #expect(net.averagingStep == 0.25)
    }

    @Test func feedforwardAsImplicitNetworkGivesTheSameFunction() throws {
        // implicit_from_ff.json is a 3-5-4-2 net written as an implicit one; its embedding of the
        // feedforward net must agree on forward passes.
        let net = try Fixtures.load("testnets/implicit_from_ff.json")
        guard case .implicit(let imp) = net else { Issue.record("not implicit"); return }
        let system = try #require(EquilibriumSystem(imp))
        #expect(system.minimumSlope == 0)
        var rng = SeededGenerator(seed: 11)
        for _ in 0..<5 {
            let u = (0..<3).map { _ in rng.gaussian() }
            let y = net.forward(u)
            #expect(y.count == 2)
            #expect(imp.fixedPoint(input: u).converged)
        }
    }

    @Test func equilibriumFormOfAFeedforwardNetIsExact() throws {
        guard case .feedforward(let ff) = try Fixtures.load("testnets/tiny_sigmoid.json") else { return }
        let system = try #require(EquilibriumSystem(ff))
        // Build z = ψ(Az + Bu + b) with ψ = σ/β and iterate: it is nilpotent, so depth steps suffice.
        let hidden = ff.withLinearOutput.hiddenLayers
        let biases = hidden.flatMap(\.bias)
        let beta = 0.25
        let u = [0.4, -1.3]
        var z = [Double](repeating: 0, count: system.stateSize)
        for _ in 0..<hidden.count {
            let v = zip(system.A * z, zip(system.B * u, biases).map(+)).map(+)
            z = v.map { Activation.sigmoid.apply($0) / beta }
        }
        let y = zip(system.C * z, system.D * u).map(+)
        let lastBias = ff.layers.last!.bias
        for (a, b) in zip(zip(y, lastBias).map(+), ff.forward(u)) { #expect(abs(a - b) < 1e-12) }
    }

    @Test func nativeFormatRoundTrips() throws {
        for file in ["tiny_leaky.json", "implicit_n5.json", "banded_1.json"] {
            let net = try Fixtures.load("testnets/\(file)")
            let path = Fixtures.temporaryFile("copy.json", "")
            try NetworkLoader.save(net, to: path)
            let again = try NetworkLoader.load(path: path)
            #expect(again == net, "\(file)")
        }
    }

    @Test func sparseLayersAreStoredSparse() throws {
        guard case .feedforward(let ff) = try Fixtures.load("testnets/banded_2.json") else { return }
        #expect(ff.layers.contains { $0.weight.isSparse })
        let summary = NetworkSummary(.feedforward(ff))
        #expect(summary.sparseLayers > 0 && summary.nonzeros < summary.parameters)
    }
}
