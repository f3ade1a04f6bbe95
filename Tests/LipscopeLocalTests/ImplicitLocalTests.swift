import Foundation
import Testing
import LipscopeTestSupport
@testable import LipscopeEngine
import LipscopeLinearAlgebra

/// Implicit (equilibrium) nets over an input region: the proven fixed-point box, and local
/// contraction / implicit-sdp / sampling. Fixed points and Jacobians are recomputed here by
/// plain loops, independently of the engine.
@Suite struct ImplicitLocalTests {
    static func implicit(_ name: String) throws -> ImplicitNetwork {
        guard case .implicit(let net) = try Fixtures.load("testnets/\(name).json") else { fatalError("\(name) is not implicit") }
        return net
    }

    static func run(_ m: any BoundMethod, _ net: ImplicitNetwork, _ norm: Norm, _ options: [String: String] = [:]) -> BoundResult {
        Job.run(m, BoundRequest(network: .implicit(net), norm: norm, options: options))
    }

    static let methods: [(Norm, any BoundMethod)] = [
        (.l2, ImplicitSDPBound()), (.linf, ContractionBound(weighted: true)), (.linf, ContractionBound(weighted: false)),
    ]

    /// x = relu(Ax + Bu + b) by the averaged iteration written out (ReLU nets only), to 1e-14.
    static func fixedPoint(_ net: ImplicitNetwork, _ u: [Double]) -> [Double] {
        let n = net.stateSize
        let step = 1 / (1 - min(0, (0..<n).map { net.A[$0, $0] }.min()!))
        var x = [Double](repeating: 0, count: n)
        for _ in 0..<100_000 {
            var change = 0.0
            let v = preActivation(net, x, u)
            for i in 0..<n {
                let next = (1 - step) * x[i] + step * max(0, v[i])
                change = max(change, abs(next - x[i]))
                x[i] = next
            }
            if change < 1e-15 { break }
        }
        return x
    }

    static func preActivation(_ net: ImplicitNetwork, _ x: [Double], _ u: [Double]) -> [Double] {
        (0..<net.stateSize).map { i in
            (0..<net.stateSize).reduce(net.bias[i]) { $0 + net.A[i, $1] * x[$1] }
                + (0..<net.inputSize).reduce(0) { $0 + net.B[i, $1] * u[$1] }
        }
    }

    /// J = C (I − SA)⁻¹ S B + D at u, S = diag(relu'(v)), by Gaussian elimination written out.
    static func jacobian(_ net: ImplicitNetwork, _ u: [Double]) -> [[Double]] {
        let n = net.stateSize, p = net.inputSize
        let v = preActivation(net, fixedPoint(net, u), u)
        let s = v.map { $0 > 0 ? 1.0 : 0.0 }
        // Solve (I − SA) X = SB column by column (augmented matrix, partial pivoting).
        var m = (0..<n).map { i in (0..<n).map { j in (i == j ? 1 : 0) - s[i] * net.A[i, j] } + (0..<p).map { s[i] * net.B[i, $0] } }
        for c in 0..<n {
            let pivot = (c..<n).max { abs(m[$0][c]) < abs(m[$1][c]) }!
            m.swapAt(c, pivot)
            for r in 0..<n where r != c {
                let f = m[r][c] / m[c][c]
                if f != 0 { for k in c..<(n + p) { m[r][k] -= f * m[c][k] } }
            }
        }
        let x = (0..<n).map { i in (0..<p).map { m[i][n + $0] / m[i][i] } }
        return (0..<net.outputSize).map { r in
            (0..<p).map { j in (0..<n).reduce(net.D[r, j]) { $0 + net.C[r, $1] * x[$1][j] } }
        }
    }

    static let cases: [(String, [Double])] = [
        ("implicit_n5", [0.3, -0.4]), ("implicit_n8", [0.1, -0.2, 0.3]),
        ("implicit_n12", [1, 0, -1]), ("implicit_weighted_only", [0.2, 0.2, 0.2]),
    ]

    @Test func fixedPointBoxHoldsTheFixedPointsOfSampledInputs() throws {
        var rng = SeededGenerator(seed: 3)
        for (name, center) in Self.cases {
            let net = try Self.implicit(name)
            for radius in [0.02, 0.3] {
                let region = try InputRegion(center: center, radius: radius)
                let box = try FixedPointBox.compute(net, region: region).get()
                for _ in 0..<200 {
                    let u = (0..<net.inputSize).map { rng.uniform(region.lower[$0], region.upper[$0]) }
                    let x = Self.fixedPoint(net, u)
                    let v = Self.preActivation(net, x, u)
                    for i in x.indices {
                        let tol = 1e-12 * (1 + abs(x[i]))
                        #expect(box.lower[i] - tol <= x[i] && x[i] <= box.upper[i] + tol, "\(name) r=\(radius) state \(i): \(x[i]) ∉ [\(box.lower[i]), \(box.upper[i])]")
                        #expect(box.preLower[i] - tol <= v[i] && v[i] <= box.preUpper[i] + tol, "\(name) r=\(radius) pre-activation \(i)")
                    }
                }
            }
        }
    }

    @Test func localBoundsSitBetweenTheSampledLocalValueAndTheGlobalBound() throws {
        for (name, center) in Self.cases {
            let net = try Self.implicit(name)
            for (norm, method) in Self.methods {
                let global = Self.run(method, net, norm)
                for radius in [0.01, 0.1, 0.5] {
                    let options = LocalBoundTests.ball(center, radius)
                    let local = Self.run(method, net, norm, options)
                    guard let g = global.value else {   // contraction on implicit_weighted_only: μ∞ ≥ 1
                        #expect(local.value == nil || local.details["region"] != nil, "\(name) \(method.id)")
                        continue
                    }
                    let sampled = try #require(Self.run(SamplingBound(), net, norm, options).value)
                    let l = try #require(local.value, "\(name) \(method.id) r=\(radius): \(local.details)")
                    #expect(local.certified, "\(name) \(method.id): \(local.details)")
                    #expect(l <= g * (1 + 1e-5), "\(name) \(method.id) r=\(radius): local \(l) above global \(g)")
                    #expect(l >= sampled * (1 - 1e-9), "\(name) \(method.id) r=\(radius): local \(l) below sampled \(sampled)")
                    #expect(local.details["fixed_point_box"] != nil && local.details["local_fallback"] == nil, "\(local.details)")
                    #expect(local.details["unstable_neurons"] != nil)
                }
            }
        }
    }

    /// Slope intervals all [0, 1] (a huge region): the local contraction bound is the global one.
    @Test func allUnstableRegionGivesTheGlobalContractionBound() throws {
        let net = try Self.implicit("implicit_n8")
        for method in [ContractionBound(weighted: true), ContractionBound(weighted: false)] {
            let global = try #require(Self.run(method, net, .linf).value)
            let local = Self.run(method, net, .linf, LocalBoundTests.ball([0, 0, 0], 1e3))
            #expect(local.details["unstable_neurons"] == .number(8))
            #expect(local.value == global, "\(method.id): \(String(describing: local.value)) vs \(global)")
        }
    }

    /// Around a point whose pre-activations are all ≥ 0.05 from the kink, a tiny ball fixes every
    /// slope. implicit-sdp tends to ‖J(x₀)‖₂ (the constraints force Δz = DΔv); the contraction
    /// closed forms stay above ‖J(x₀)‖∞ (they are not exact even for a linear system) and equal
    /// the closed form of the fixed-slope system.
    @Test func shrinkingRadiusConvergesToTheJacobianNorm() throws {
        var rng = SeededGenerator(seed: 11)
        for name in ["implicit_n5", "implicit_n8", "implicit_n12"] {
            let net = try Self.implicit(name)
            var center: [Double] = []
            repeat {
                center = (0..<net.inputSize).map { _ in rng.gaussian() }
            } while Self.preActivation(net, Self.fixedPoint(net, center), center).contains { abs($0) < 0.05 }
            let j = Self.jacobian(net, center)
            let l2 = LocalBoundTests.norm(j, .l2), linf = LocalBoundTests.norm(j, .linf)
            let sdp = Self.run(ImplicitSDPBound(), net, .l2, LocalBoundTests.ball(center, 1e-7))
            let v = try #require(sdp.value, "\(name): \(sdp.details)")
            #expect(sdp.certified && sdp.details["unstable_neurons"] == .number(0))
            #expect(v >= l2 * (1 - 1e-9) && v <= l2 * (1 + 1e-4), "\(name) implicit-sdp: \(v) vs ‖J(x₀)‖₂ = \(l2)")
            for weighted in [true, false] {
                let r = Self.run(ContractionBound(weighted: weighted), net, .linf, LocalBoundTests.ball(center, 1e-7))
                let c = try #require(r.value, "\(name): \(r.details)")
                #expect(c >= linf * (1 - 1e-9), "\(name) contraction: \(c) below ‖J(x₀)‖∞ = \(linf)")
            }
        }
    }

    /// implicit_from_ff is the 3-5-4-2 ReLU net written as an implicit one: its box is IBP's
    /// hidden boxes, and local implicit-sdp is local LipSDP-Neuron on the same slopes.
    @Test func implicitFromFeedforwardMatchesIntervalPropagationAndLocalLipSDP() throws {
        let net = try Self.implicit("implicit_from_ff")
        let ff = try Fixtures.feedforward("implicit-local/implicit_from_ff_source.json")
        for (center, radius) in [([0.1, -0.2, 0.3], 0.05), ([0.5, 0.5, -0.5], 0.2), ([0.0, 0, 0], 1.0)] {
            let region = try InputRegion(center: center, radius: radius)
            let box = try FixedPointBox.compute(net, region: region).get()
            let ibp = try PreActivationBounds(ff, region: region, propagation: .interval)
            let hiddenLow = ibp.lower.dropLast().flatMap { $0.map { max(0, $0) } }
            let hiddenHigh = ibp.upper.dropLast().flatMap { $0.map { max(0, $0) } }
            for i in hiddenLow.indices {
                #expect(abs(box.lower[i] - hiddenLow[i]) <= 1e-7 && abs(box.upper[i] - hiddenHigh[i]) <= 1e-7,
                        "state \(i): [\(box.lower[i]), \(box.upper[i])] vs IBP [\(hiddenLow[i]), \(hiddenHigh[i])]")
            }
            let options = LocalBoundTests.ball(center, radius)
            let implicitSDP = Self.run(ImplicitSDPBound(), net, .l2, options)
            let lipsdp = LocalBoundTests.run(LipSDPBound(.neuron), ff, .l2, options)
            let a = try #require(implicitSDP.value), b = try #require(lipsdp.value)
            #expect(implicitSDP.details["unstable_neurons"] == lipsdp.details["unstable_neurons"])
            #expect(abs(a - b) <= 1e-4 * b, "r=\(radius): implicit-sdp \(a) vs lipsdp-neuron \(b)")
        }
    }

    @Test func marginBoundsAreAtMostTheOutputVectorBoundTimesTheRowDifference() throws {
        let net = try Self.implicit("implicit_n8")
        let ball = LocalBoundTests.ball([0.1, -0.2, 0.3], 0.1)
        var marginBall = ball
        marginBall["margin"] = "1,0"
        for (norm, method) in Self.methods {
            let factor = norm == .l2 ? 2.0.squareRoot() : 2.0
            let vector = try #require(Self.run(method, net, norm, ball).value)
            let margin = Self.run(method, net, norm, marginBall)
            let m = try #require(margin.value, "\(method.id): \(margin.details)")
            let sampled = try #require(Self.run(SamplingBound(), net, norm, marginBall).value)
            #expect(margin.certified && margin.details["margin"] == .string("f_1 − f_0"))
            #expect(m <= factor * vector * (1 + 1e-6) && m >= sampled * (1 - 1e-9), "\(method.id): margin \(m), vector \(vector), sampled \(sampled)")
        }
    }

    /// A = [[0, 2], [−2, 0]]: no weighting contracts (⌈A⌉ has abscissa 2), but 2I − A − Aᵀ ≻ 0,
    /// so only the global implicit-SDP certificate proves well-posedness: implicit-sdp computes it
    /// first and then uses the box (which the ReLUs' saturation lets the check prove here);
    /// contraction has no proof, keeps the global slopes and says why.
    @Test func wellPosednessFromTheGlobalSDPWhenContractionCannotProveIt() throws {
        let net = ImplicitNetwork(name: "skew", A: Matrix(rowArrays: [[0, 2], [-2, 0]]), B: Matrix(rowArrays: [[1, 0], [0, 1]]),
                                  C: Matrix(rowArrays: [[1, 1]]), D: Matrix(rowArrays: [[0, 0]]), bias: [0.1, -0.1], activation: .relu)
        let global = try #require(Self.run(ImplicitSDPBound(), net, .l2).value)
        let local = Self.run(ImplicitSDPBound(), net, .l2, LocalBoundTests.ball([0.5, 0.5], 0.1))
        #expect(local.certified && local.details["fixed_point_box"] != nil, "\(local.details)")
        #expect(local.details["well_posed_by"].map { "\($0)" }?.contains("global implicit-sdp certificate") == true, "\(local.details)")
        let sampled = try #require(Self.run(SamplingBound(), net, .l2, LocalBoundTests.ball([0.5, 0.5], 0.1)).value)
        let l = try #require(local.value)
        #expect(l <= global * (1 + 1e-5) && l >= sampled * (1 - 1e-9), "local \(l), global \(global), sampled \(sampled)")
        let region = try InputRegion(center: [0.5, 0.5], radius: 0.1)
        let box = try FixedPointBox.compute(net, region: region).get()
        var rng = SeededGenerator(seed: 4)
        for _ in 0..<200 {
            let u = (0..<2).map { region.lower[$0] + (region.upper[$0] - region.lower[$0]) * rng.uniform(0, 1) }
            let solved = net.fixedPoint(input: u, tolerance: 1e-13, maxIterations: 100_000)
            #expect(solved.converged)
            let x = solved.state
            #expect(zip(x, zip(box.lower, box.upper)).allSatisfy { $1.0 - 1e-9 <= $0 && $0 <= $1.1 + 1e-9 }, "\(x) vs \(box)")
        }
        let contraction = Self.run(ContractionBound(weighted: true), net, .linf, LocalBoundTests.ball([0.5, 0.5], 0.1))
        #expect(contraction.value == nil && contraction.details["local_fallback"] != nil)
    }

    @Test func badRegionsGiveClearErrorsNamingTheOption() throws {
        let net = try Self.implicit("implicit_n8")
        for (norm, method) in Self.methods + [(.l2, SamplingBound())] {
            let wrong = Self.run(method, net, norm, LocalBoundTests.ball([1, 2], 0.1))
            #expect(wrong.status == .failed)
            #expect(wrong.details["reason"] == .string("\(method.id): option 'center': expected 3 numbers (one per network input), found '2 numbers'"))
        }
    }
}
