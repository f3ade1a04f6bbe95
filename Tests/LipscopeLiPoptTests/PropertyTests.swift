import Foundation
import LipscopeLinearAlgebra
import Testing
@testable import LipscopeEngine

/// Properties of the hierarchies on random tiny networks, against p* from `relaxed-exact`
/// (exhaustive over slope-box vertices): θ_k ≥ p*, θ non-increasing in k (k = L, L + 1), sparse ≥ dense,
/// the dense LP at k = n equals p*; the SDP values ≥ p* and non-increasing in r.
@Suite struct PropertyTests {
    static func randomNet(_ sizes: [Int], seed: UInt64, activation: Activation, zeroFraction: Double = 0.25) -> Network {
        var rng = SeededGenerator(seed: seed)
        var layers: [Layer] = []
        for l in 1..<sizes.count {
            let rows = (0..<sizes[l]).map { _ in (0..<sizes[l - 1]).map { _ -> Double in
                let v = rng.uniform(-1, 1)
                return abs(rng.uniform(-1, 1)) < zeroFraction ? 0 : (v * 1e6).rounded() / 1e6 } }
            layers.append(Layer(weight: .dense(Matrix(rowArrays: rows)), bias: [Double](repeating: 0.1, count: sizes[l]),
                                activation: l == sizes.count - 1 ? .identity : activation))
        }
        return .feedforward(FeedforwardNetwork(name: "random\(seed)", inputSize: sizes[0], layers: layers))
    }

    static let nets: [(sizes: [Int], seed: UInt64, activation: Activation)] = [
        ([2, 3, 1], 11, .relu), ([3, 2, 2], 12, .relu), ([2, 2, 2, 1], 13, .relu), ([2, 2, 2, 1], 14, .leakyRelu(slope: 0.2)),
        ([3, 3, 1], 15, .sigmoid), ([2, 3, 2, 1], 16, .tanh), ([2, 2, 1], 17, .relu), ([3, 2, 1], 18, .relu),
    ]

    static func pstar(_ net: Network) -> Double {
        Job.run(RelaxedExactBound(), BoundRequest(network: net, norm: .linf)).value!
    }

    static func lp(_ net: Network, _ k: Int, _ cliques: String) -> Double {
        let r = Job.run(LiPoptLPBound(), BoundRequest(network: net, norm: .linf, degree: k, options: ["cliques": cliques]))
        #expect(r.status == .optimal && r.certified, "\(r.status) \(r.details)")
        return r.value ?? .nan
    }

    @Test(arguments: 0..<nets.count)
    func lpHierarchy(index: Int) {
        let spec = Self.nets[index]
        let net = Self.randomNet(spec.sizes, seed: spec.seed, activation: spec.activation)
        let p = Self.pstar(net)
        let L = spec.sizes.count - 1
        let n = spec.sizes.dropLast().reduce(0, +)
        // The certified values carry CLP's residuals (≈ 1e-9 per row): compare at the oracle's 1e-6.
        let tol = 1e-6 * max(1, p)
        var previousDense = Double.infinity, previousSparse = Double.infinity
        for k in L...(L + 1) {
            let dense = Self.lp(net, k, "dense"), sparse = Self.lp(net, k, "sparse")
            #expect(dense >= p - tol, "k=\(k): dense \(dense) < p* \(p)")
            #expect(sparse >= dense - tol, "k=\(k): sparse \(sparse) < dense \(dense)")
            #expect(dense <= previousDense + tol, "k=\(k): dense \(dense) > θ_{k−1} \(previousDense)")
            #expect(sparse <= previousSparse + tol, "k=\(k): sparse \(sparse) > θ_{k−1} \(previousSparse)")
            previousDense = dense; previousSparse = sparse
        }
        if n > 6 { return }  // keep the suite fast: C(3n + n − 1, n) nonzeros
        let exact = Self.lp(net, n, "dense")
        #expect(abs(exact - p) <= 1e-7 * max(1, p), "dense θ_n = \(exact), p* = \(p) (n = \(n))")
    }

    /// An output whose last-layer row is zero has the zero polynomial and, with sparse cliques,
    /// no variable at all: both hierarchies must give 0 for it (up to rounding bounds), certified; the SDP without a solve.
    @Test func zeroOutputRowGivesZero() throws {
        let net = Network.feedforward(FeedforwardNetwork(name: "zero_row", inputSize: 2, layers: [
            Layer(weight: .dense(Matrix(rowArrays: [[1, -2], [0.5, 1]])), bias: [0, 0], activation: .relu),
            Layer(weight: .dense(Matrix(rowArrays: [[1, -0.5], [0, 0]])), bias: [0, 0], activation: .identity),
        ]))
        for method in [LiPoptLPBound(), LiPoptSDPBound()] as [any BoundMethod] {
            let r = Job.run(method, BoundRequest(network: net, norm: .linf, output: 1, options: ["cliques": "sparse"]))
            #expect(r.status == .optimal, "\(method.id): \(r.details)")
            #expect(r.certified)
            let v = try #require(r.value)
            #expect(v >= 0 && v <= 1e-12, "\(method.id): \(v)")  // 0 up to the certificate's rounding bound
        }
    }

    @Test(arguments: [0, 1, 4, 6, 7])
    func sdpHierarchy(index: Int) {
        let spec = Self.nets[index]
        let net = Self.randomNet(spec.sizes, seed: spec.seed, activation: spec.activation)
        let p = Self.pstar(net)
        var previous = Double.infinity
        for r in 1...2 {
            for cliques in ["dense", "sparse"] {
                let res = Job.run(LiPoptSDPBound(), BoundRequest(network: net, norm: .linf, degree: r, options: ["cliques": cliques]))
                #expect(res.status == .optimal, "\(res.details)")
                guard let v = res.value else { continue }
                #expect(res.certified, "\(res.details)")
                #expect(v >= p - 1e-7, "r=\(r) \(cliques): \(v) < p* \(p)")
                if cliques == "dense" {
                    #expect(v <= previous + 1e-6, "r=\(r): \(v) > order \(r - 1) value \(previous)")
                    previous = v
                }
            }
        }
    }
}
