import Foundation
import Testing
import LipscopeTestSupport
@testable import LipscopeEngine
import LipscopeLinearAlgebra

/// LipSDP-Neuron/-Layer, ECLipsE(-Fast) and LiPopt LP/SDP over an input region and for margins:
/// each local bound sits between the sampled local value and the same method's global bound,
/// and converges to ‖J(x₀)‖ (computed here by plain loops) as the ball shrinks.
@Suite struct LocalSlopeMethodTests {
    static let l2Methods: [any BoundMethod] = [LipSDPBound(.neuron), LipSDPBound(.layer), ECLipsEBound(.sdp), ECLipsEBound(.fast)]
    static let linfMethods: [any BoundMethod] = [LiPoptLPBound(), LiPoptSDPBound()]

    static func run(_ m: any BoundMethod, _ net: FeedforwardNetwork, _ norm: Norm, _ options: [String: String] = [:]) -> BoundResult {
        Job.run(m, BoundRequest(network: .feedforward(net), norm: norm, options: options))
    }

    @Test(arguments: ["tiny_relu_1", "tiny_relu_2", "tiny_sigmoid"])
    func localBoundsSitBetweenTheSampledLocalValueAndTheGlobalBound(name: String) throws {
        let net = try Fixtures.feedforward("testnets/\(name).json")
        var rng = SeededGenerator(seed: 5)
        for (norm, methods) in [(Norm.l2, Self.l2Methods), (.linf, Self.linfMethods)] {
            let globals = methods.map { Self.run($0, net, norm) }
            for radius in [0.05, 0.4] {
                let center = (0..<net.inputSize).map { _ in rng.gaussian() }
                let options = LocalBoundTests.ball(center, radius)
                let sampled = try #require(Self.run(SamplingBound(), net, norm, options).value)
                for (method, global) in zip(methods, globals) {
                    let local = Self.run(method, net, norm, options)
                    let l = try #require(local.value, "\(name) \(method.id) r=\(radius): \(local.details)")
                    let g = try #require(global.value)
                    #expect(local.certified, "\(name) \(method.id): \(local.details)")
                    #expect(l <= g * (1 + 1e-5), "\(name) \(method.id) r=\(radius): local \(l) above global \(g)")
                    #expect(l >= sampled * (1 - 1e-9), "\(name) \(method.id) r=\(radius): local \(l) below sampled \(sampled)")
                    #expect(local.details["region"] != nil)
                }
            }
        }
    }

    /// Around a point where every pre-activation is ≥ 0.05 away from a kink, a ball of radius
    /// 1e-7 fixes (ReLU) or pins (sigmoid) every slope: all layers merge and each method's
    /// bound is ‖J(x₀)‖ up to the slack.
    @Test(arguments: ["tiny_relu_1", "tiny_relu_deep", "tiny_sigmoid"])
    func shrinkingRadiusConvergesToTheJacobianNorm(name: String) throws {
        let net = try Fixtures.feedforward("testnets/\(name).json")
        var rng = SeededGenerator(seed: 2)
        var center: [Double] = []
        var zs: [[Double]] = []
        repeat {
            center = (0..<net.inputSize).map { _ in rng.gaussian() }
            zs = PreActivationBoundsTests.preActivations(net, center)
        } while zs.dropLast().contains { $0.contains { abs($0) < 0.05 } }
        let layers = net.withLinearOutput.layers
        let s = zs.dropLast().enumerated().map { k, z in z.map(layers[k].activation.derivative) }
        let jacobian = LocalBoundTests.product(layers, s)
        for (norm, methods) in [(Norm.l2, Self.l2Methods), (.linf, Self.linfMethods)] {
            let exact = LocalBoundTests.norm(jacobian, norm)
            for method in methods {
                if norm == .linf, name == "tiny_relu_deep" { continue }   // LiPopt at degree 4 on 2-4-4-4-1: slow in debug
                let r = Self.run(method, net, norm, LocalBoundTests.ball(center, 1e-7))
                let v = try #require(r.value, "\(name) \(method.id): \(r.details)")
                #expect(r.certified)
                #expect(v >= exact * (1 - 1e-9) && v <= exact * (1 + 1e-5), "\(name) \(method.id): \(v) vs ‖J(x₀)‖ = \(exact)")
            }
        }
    }

    /// f_c − f_j = (e_c − e_j)ᵀf: its constant is at most ‖e_c − e_j‖ times the output vector's
    /// (√2 in ℓ2; 2 in ℓ∞, where the vector's constant is the largest row ℓ1 norm), and at least
    /// the sampled margin constant.
    @Test func marginBoundsAreAtMostTheOutputVectorBoundTimesTheRowDifference() throws {
        let net = try Fixtures.feedforward("testnets/tiny_relu_1.json")
        let center = [0.3, -0.2]
        for (norm, methods, factor) in [(Norm.l2, Self.l2Methods, 2.0.squareRoot()), (.linf, Self.linfMethods, 2.0)] {
            let ball = LocalBoundTests.ball(center, 0.3)
            var marginBall = ball
            marginBall["margin"] = "1,0"
            let sampled = try #require(Self.run(SamplingBound(), net, norm, marginBall).value)
            for method in methods {
                let vector = try #require(Self.run(method, net, norm, ball).value)
                let margin = Self.run(method, net, norm, marginBall)
                let m = try #require(margin.value, "\(method.id): \(margin.details)")
                #expect(margin.certified)
                #expect(m <= factor * vector * (1 + 1e-6), "\(method.id) \(norm): margin \(m) vs vector \(vector)")
                #expect(m >= sampled * (1 - 1e-9), "\(method.id) \(norm): margin \(m) below sampled \(sampled)")
                #expect(margin.details["margin"] == .string("f_1 − f_0"))
            }
        }
    }

    /// A region where a whole hidden layer is stably inactive: the map is constant, every method says 0.
    @Test func aDeadLayerGivesZero() throws {
        let w1 = Matrix(rows: 2, columns: 2, storage: [1, 0, 0, 1])
        let net = FeedforwardNetwork(name: "dead", inputSize: 2, layers: [
            Layer(weight: w1, bias: [-10, -10], activation: .relu),
            Layer(weight: Matrix(rows: 1, columns: 2, storage: [1, 1]), activation: .identity)])
        let options = LocalBoundTests.ball([0, 0], 1)
        for method in Self.l2Methods { #expect(Self.run(method, net, .l2, options).value == 0, "\(method.id)") }
        for method in Self.linfMethods {
            let v = try #require(Self.run(method, net, .linf, options).value)
            #expect(v <= 1e-9, "\(method.id)")
        }
    }
}
