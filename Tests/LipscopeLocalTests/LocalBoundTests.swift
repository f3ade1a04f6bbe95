import Foundation
import Testing
import LipscopeTestSupport
@testable import LipscopeEngine
import LipscopeLinearAlgebra

@Suite struct LocalBoundTests {
    static let nets = ["tiny_relu_1", "tiny_relu_2", "tiny_relu_3", "tiny_relu_deep", "tiny_leaky", "tiny_sigmoid", "tiny_tanh"]

    static func run(_ m: some BoundMethod, _ net: FeedforwardNetwork, _ norm: Norm, _ options: [String: String] = [:]) -> BoundResult {
        Job.run(m, BoundRequest(network: .feedforward(net), norm: norm, options: options))
    }

    static func ball(_ c: [Double], _ r: Double) -> [String: String] {
        ["center": c.map { "\($0)" }.joined(separator: ","), "radius": "\(r)"]
    }

    /// Induced norm written here: ℓ∞ the largest absolute row sum, ℓ2 by power iteration on JᵀJ.
    static func norm(_ j: [[Double]], _ norm: Norm) -> Double {
        switch norm {
        case .linf: return j.map { $0.reduce(0) { $0 + abs($1) } }.max()!
        case .l2:
            var v = [Double](repeating: 1, count: j[0].count)
            var lambda = 0.0
            for _ in 0..<2000 {
                let jv = j.map { row in zip(row, v).reduce(0) { $0 + $1.0 * $1.1 } }
                var w = (0..<v.count).map { c in j.indices.reduce(0) { $0 + j[$1][c] * jv[$1] } }
                lambda = sqrt(w.reduce(0) { $0 + $1 * $1 })
                if lambda == 0 { return 0 }
                w = w.map { $0 / lambda }
                v = w
            }
            return sqrt(lambda)
        }
    }

    /// W_L diag(s_{L−1}) ⋯ diag(s₁) W₁ by plain loops.
    static func product(_ layers: [Layer], _ slopes: [[Double]]) -> [[Double]] {
        var j = layers[0].weight.dense.rowArrays.enumerated().map { i, row in row.map { $0 * (slopes.count > 0 ? slopes[0][i] : 1) } }
        for k in 1..<layers.count {
            let w = layers[k].weight.dense.rowArrays
            j = w.enumerated().map { i, row in
                (0..<j[0].count).map { c in row.indices.reduce(0) { $0 + row[$1] * j[$1][c] } * (k < slopes.count ? slopes[k][i] : 1) }
            }
        }
        return j
    }

    @Test(arguments: nets)
    func localBoundsSitBetweenTheSampledLocalValueAndTheGlobalBound(name: String) throws {
        let net = try Fixtures.feedforward("testnets/\(name).json")
        var rng = SeededGenerator(seed: 11)
        for norm in [Norm.l2, .linf] {
            for trial in 0..<3 {
                let center = (0..<net.inputSize).map { _ in rng.gaussian() }
                let options = Self.ball(center, [0.05, 0.3, 1.0][trial])
                let sampled = try #require(Self.run(SamplingBound(), net, norm, options).value)
                for method in [NaiveBound() as any BoundMethod, RelaxedExactBound()] {
                    let local = Self.run(method, net, norm, options)
                    let global = Self.run(method, net, norm)
                    let l = try #require(local.value, "\(name) \(method.id) \(local.details)")
                    let g = try #require(global.value)
                    #expect(local.certified)
                    #expect(l <= g * (1 + 1e-12), "\(name) \(method.id) \(norm): local \(l) above global \(g)")
                    #expect(l >= sampled * (1 - 1e-12), "\(name) \(method.id) \(norm): local \(l) below sampled \(sampled)")
                    #expect(local.details["unstable_neurons"] != nil && local.details["region"] != nil)
                }
            }
        }
    }

    /// The enumeration redone here: the slope box from the pre-activation bounds, every vertex
    /// over the unstable neurons, the norm by the loops above; for the output vector and for a margin.
    @Test(arguments: ["tiny_relu_1", "tiny_relu_3", "tiny_leaky", "tiny_tanh"])
    func relaxedExactOverTheRegionEqualsAnIndependentEnumeration(name: String) throws {
        let full = try Fixtures.feedforward("testnets/\(name).json")
        var rng = SeededGenerator(seed: 5)
        let center = (0..<full.inputSize).map { _ in rng.gaussian() }
        let region = try InputRegion(center: center, radius: 0.4)
        let slopes = try PreActivationBounds(full, region: region).slopes.hidden
        for (net, margin) in [(full.withLinearOutput, nil), (full.restricted(toMargin: 1, minus: 0), "1,0")] {
            let free = slopes.indices.flatMap { k in slopes[k].indices.filter { slopes[k][$0].alpha != slopes[k][$0].beta }.map { (k, $0) } }
            var best = 0.0
            for p in 0..<(1 << free.count) {
                var s = slopes.map { $0.map(\.alpha) }
                for (b, (k, i)) in free.enumerated() where (p >> b) & 1 == 1 { s[k][i] = slopes[k][i].beta }
                best = max(best, Self.norm(Self.product(net.layers, s), .linf))
            }
            var options = Self.ball(center, 0.4)
            if let margin { options["margin"] = margin }
            let r = Self.run(RelaxedExactBound(), full, .linf, options)
            let v = try #require(r.value)
            #expect(v >= best && v <= best * (1 + 1e-9), "\(name) margin \(margin ?? "-"): \(v) vs \(best)")
            #expect(r.details["unstable_neurons"] == .number(Double(free.count)))
        }
    }

    /// At a point where no neuron sits near a kink, a small ball fixes every ReLU slope: the
    /// relaxed-exact and sampled local values become ‖J(x₀)‖ and naive the product of the
    /// layer norms with those fixed slopes.
    @Test(arguments: ["tiny_relu_1", "tiny_relu_2", "tiny_relu_deep", "tiny_sigmoid"])
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
        for norm in [Norm.l2, .linf] {
            let exact = Self.norm(Self.product(layers, s), norm)
            let options = Self.ball(center, 1e-7)
            let relaxed = try #require(Self.run(RelaxedExactBound(), net, norm, options).value)
            let sampled = try #require(Self.run(SamplingBound(), net, norm, options).value)
            #expect(abs(relaxed - exact) <= 1e-5 * exact, "\(name) \(norm) relaxed-exact \(relaxed) vs \(exact)")
            #expect(abs(sampled - exact) <= 1e-5 * exact, "\(name) \(norm) sampling \(sampled) vs \(exact)")
            let perLayer = layers.indices.map { k -> Double in
                let rows = layers[k].weight.dense.rowArrays.enumerated().map { i, row in row.map { $0 * (k < s.count ? s[k][i] : 1) } }
                return Self.norm(rows, norm)
            }
            let naive = try #require(Self.run(NaiveBound(), net, norm, options).value)
            let expected = perLayer.reduce(1, *)
            #expect(abs(naive - expected) <= 1e-5 * expected, "\(name) \(norm) naive \(naive) vs \(expected)")
        }
    }

    @Test func badRegionAndMarginOptionsAreNamed() throws {
        let net = try Fixtures.feedforward("testnets/tiny_relu_1.json")
        let wrongSize = Self.run(NaiveBound(), net, .l2, ["center": "1,2,3", "radius": "0.1"])
        #expect(wrongSize.status == .failed)
        #expect(wrongSize.details["reason"] == .string("naive: option 'center': expected 2 numbers (one per network input), found '3 numbers'"))
        let badMargin = Self.run(RelaxedExactBound(), net, .l2, ["margin": "0,7"])
        #expect(badMargin.status == .failed)
        #expect(badMargin.details["reason"] == .string("relaxed-exact: option 'margin': expected two different output indices \"c,j\" in 0..<2, found '0,7'"))
        let negative = Self.run(SamplingBound(), net, .l2, ["center": "0,0", "radius": "-1"])
        #expect(negative.status == .failed)
    }
}
