import Foundation
import Testing
import LipscopeTestSupport
@testable import LipscopeEngine
import LipscopeLinearAlgebra

@Suite struct PreActivationBoundsTests {
    /// Pre-activations of every layer at x, by a plain forward pass written here.
    static func preActivations(_ net: FeedforwardNetwork, _ x: [Double]) -> [[Double]] {
        var h = x, out: [[Double]] = []
        for layer in net.withLinearOutput.layers {
            let w = layer.weight.dense
            let z = (0..<w.rows).map { i in (0..<w.columns).reduce(layer.bias[i]) { $0 + w[i, $1] * h[$1] } }
            out.append(z)
            h = z.map(layer.activation.apply)
        }
        return out
    }

    @Test(arguments: ["tiny_relu_1", "tiny_relu_3", "tiny_relu_deep", "tiny_leaky", "tiny_sigmoid", "tiny_tanh"])
    func sampledPreActivationsLieInsideTheBounds(name: String) throws {
        let net = try Fixtures.feedforward("testnets/\(name).json")
        var rng = SeededGenerator(seed: 3)
        let center = (0..<net.inputSize).map { _ in rng.gaussian() }
        let region = try InputRegion(center: center, radius: 0.3)
        for propagation in PreActivationBounds.Propagation.allCases {
            let b = try PreActivationBounds(net, region: region, propagation: propagation)
            let slopes = b.slopes
            for s in 0..<400 {
                // Corners too: the extremes of a box are often at its vertices.
                let x = (0..<net.inputSize).map { i in
                    s % 2 == 0 ? rng.uniform(region.lower[i], region.upper[i]) : (rng.uniform(0, 1) < 0.5 ? region.lower[i] : region.upper[i])
                }
                let zs = Self.preActivations(net, x)
                for (k, z) in zs.enumerated() {
                    for i in z.indices {
                        #expect(b.lower[k][i] <= z[i] && z[i] <= b.upper[k][i], "\(name) \(propagation) layer \(k) neuron \(i)")
                    }
                }
                // Difference quotients against the center fall in the slope intervals.
                let zc = Self.preActivations(net, center)
                for k in slopes.hidden.indices {
                    let act = net.withLinearOutput.layers[k].activation
                    for i in slopes.hidden[k].indices where abs(zs[k][i] - zc[k][i]) > 1e-9 {
                        let q = (act.apply(zs[k][i]) - act.apply(zc[k][i])) / (zs[k][i] - zc[k][i])
                        let iv = slopes.hidden[k][i]
                        #expect(iv.alpha - 1e-9 <= q && q <= iv.beta + 1e-9, "\(name) slope layer \(k) neuron \(i)")
                    }
                }
            }
        }
    }

    /// x ∈ [−1, 1]², z = relu(x₁ + x₂) + relu(x₁ − x₂). By hand: both hidden pre-activations lie in
    /// [−2, 2]; interval arithmetic gives z ∈ [0, 4]; back-substitution with the chord
    /// relu(t) ≤ (t + 2)/2 gives z ≤ (x₁+x₂+2)/2 + (x₁−x₂+2)/2 = x₁ + 2 ≤ 3, and with
    /// relu(t) ≥ t, z ≥ 2x₁ ≥ −2. The intersection is [0, 3].
    @Test func handComputedTwoNeuronNet() throws {
        let net = FeedforwardNetwork(name: "hand", inputSize: 2, layers: [
            Layer(weight: Matrix(rowArrays: [[1, 1], [1, -1]]), activation: .relu),
            Layer(weight: Matrix(rowArrays: [[1, 1]]), activation: .identity)])
        let region = try InputRegion(center: [0, 0], radius: 1)
        let ibp = try PreActivationBounds(net, region: region, propagation: .interval)
        let crown = try PreActivationBounds(net, region: region, propagation: .symbolic)
        let both = try PreActivationBounds(net, region: region)
        for b in [ibp, crown, both] {
            for i in 0..<2 {
                #expect(abs(b.lower[0][i] + 2) < 1e-12 && abs(b.upper[0][i] - 2) < 1e-12)
            }
        }
        #expect(abs(ibp.lower[1][0] - 0) < 1e-12 && abs(ibp.upper[1][0] - 4) < 1e-12)
        #expect(abs(crown.lower[1][0] + 2) < 1e-12 && abs(crown.upper[1][0] - 3) < 1e-12)
        #expect(abs(both.lower[1][0] - 0) < 1e-12 && abs(both.upper[1][0] - 3) < 1e-12)
        // Outward rounding: never tighter than the exact values.
        #expect(both.upper[1][0] >= 3 && both.lower[1][0] <= 0 && both.upper[0][0] >= 2)
        #expect(both.slopes.hidden == [[.init(alpha: 0, beta: 1), .init(alpha: 0, beta: 1)]])
        #expect(both.unstableCount == 2)
    }

    @Test func sigmoidSlopeIntervalIsTheRangeOfTheDerivative() {
        let s = Activation.sigmoid
        let around0 = SlopeIntervals.interval(s, lower: -1, upper: 2)
        #expect(abs(around0.beta - 0.25) < 1e-15 && around0.beta >= 0.25)
        let e2 = 1 / (1 + exp(-2.0))
        #expect(abs(around0.alpha - e2 * (1 - e2)) < 1e-15 && around0.alpha <= e2 * (1 - e2))
        let right = SlopeIntervals.interval(.tanh, lower: 0.5, upper: 1.5)
        #expect(abs(right.beta - (1 - pow(tanh(0.5), 2))) < 1e-14)
        #expect(abs(right.alpha - (1 - pow(tanh(1.5), 2))) < 1e-14)
    }
}
