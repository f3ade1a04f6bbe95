import Foundation
import Testing
import LipscopeLinearAlgebra
import LipscopeTestSupport
@testable import LipscopeEngine

/// The band path of ECLipsE on conv nets (`ChainBanded.swift`): neurons of a sparse first layer
/// in reverse Cuthill–McKee order, band Cholesky factors, and products that skip leading zeros.
/// Every piece must give the numbers of the dense path up to summation order.
@Suite struct ChainBandedTests {
    /// A conv-like net in channel-major order (as ONNX stores convs): 32 × 8 input, hidden 1 =
    /// 2 channels of 3 × 3 windows (512 neurons), hidden 2 = 4 channels of stride-2 4 × 4 windows
    /// over both channels (256 neurons), 3 dense outputs.
    static func convLike(seed: UInt64) -> FeedforwardNetwork {
        var rng = SeededGenerator(seed: seed)
        var t1: [(Int, Int, Double)] = []
        for c in 0..<2 { for y in 0..<32 { for x in 0..<8 {
            for dy in -1...1 { for dx in -1...1 where (0..<32).contains(y + dy) && (0..<8).contains(x + dx) {
                t1.append((c * 256 + y * 8 + x, (y + dy) * 8 + x + dx, rng.gaussian() / 3))
            } }
        } } }
        var t2: [(Int, Int, Double)] = []
        for c in 0..<4 { for y in 0..<16 { for x in 0..<4 {
            for ci in 0..<2 { for dy in -1...2 { for dx in -1...2 {
                let yy = 2 * y + dy, xx = 2 * x + dx
                if (0..<32).contains(yy) && (0..<8).contains(xx) {
                    t2.append((c * 64 + y * 4 + x, ci * 256 + yy * 8 + xx, rng.gaussian() / 5))
                }
            } } }
        } } }
        let out = Matrix(rows: 3, columns: 256, storage: (0..<768).map { _ in rng.gaussian() / 16 })
        let layers = [
            Layer(weight: .sparse(SparseMatrix(rows: 512, columns: 256, triplets: t1)), bias: Array(repeating: 0, count: 512), activation: .relu),
            Layer(weight: .sparse(SparseMatrix(rows: 256, columns: 512, triplets: t2)), bias: Array(repeating: 0, count: 256), activation: .relu),
            Layer(weight: out, activation: .identity),
        ]
        return FeedforwardNetwork(name: "conv-like", inputSize: 256, layers: layers)
    }

    /// The band-ordered chain gives the dense chain's ρ and certificate to 1e-9 (both closed-form
    /// families), and its first Schur complement does factor as a band.
    @Test(arguments: [ClosedFormRule.Family.eclipse, .best])
    func bandOrderMatchesTheDenseChain(_ family: ClosedFormRule.Family) throws {
        let net = Self.convLike(seed: 11).withLinearOutput
        let context = JobContext(token: CancellationToken(), sink: { _ in })
        let given = LayerChain(net)
        let ordered = try #require(given.bandOrdered())
        #expect(Set(ordered.order) == Set(0..<512))
        let dense = try ChainRecursion.run(given, context: context, phase: "", choose: ClosedFormRule.rule(family))
        let band = try ChainRecursion.run(ordered.chain, context: context, phase: "", choose: ClosedFormRule.rule(family))
        #expect(ScaleFixtures.relativeError(band.rho, dense.rho) <= 1e-9, "\(band.rho) vs \(dense.rho)")
        // The permuted multipliers of the first layer are the given ones, in the new order.
        for (t, i) in ordered.order.enumerated() {
            #expect(abs(band.multipliers[0][t] - dense.multipliers[0][i]) <= 1e-9 * abs(dense.multipliers[0][i]) + 1e-300)
        }
        guard case .success(let a) = try ChainCertificate.certify(given, multipliers: dense.multipliers, rho: dense.rho,
                                                                nullDirection: dense.nullDirection, context: context),
              case .success(let b) = try ChainCertificate.certify(ordered.chain, multipliers: band.multipliers, rho: band.rho,
                                                                nullDirection: band.nullDirection, context: context) else {
            Issue.record("not certified"); return
        }
        #expect(ScaleFixtures.relativeError(b.rho, a.rho) <= 1e-9, "\(b.rho) vs \(a.rho)")
        // X₁ = ℓI − ℓ²K̂₁ in band order factors as a band; in the given order it does not.
        let mid = ordered.chain.hidden[0].mid
        let k1 = ChainSparse.scaledGram(ordered.chain.hidden[0].sparse!, rowScale: mid)
        let x1 = ChainRecursion.schurComplement(coupling: k1, diagonal: Array(repeating: 0.5 / (try ChainAlgebra.largestEigenvalue(k1)), count: 512))
        guard case .band(let f)? = ChainFactor.factor(x1) else { Issue.record("X₁ in band order is not factored as a band"); return }
        #expect(f.kd * 5 <= 512)
        let k1Given = ChainSparse.scaledGram(given.hidden[0].sparse!, rowScale: mid)
        #expect(k1Given.storage.withUnsafeBufferPointer { BandedCholesky.bandwidth($0.baseAddress!, n: 512) } > f.kd)
    }

    /// The full method: certified, and the same value as the dense chain's certified ρ.
    @Test func methodOnConvLikeNet() throws {
        let net = Self.convLike(seed: 12)
        let r = ScaleFixtures.run("eclipse-fast", .feedforward(net))
        #expect(r.certified, "\(r.details["reason"] ?? .null)")
        let context = JobContext(token: CancellationToken(), sink: { _ in })
        let chain = LayerChain(net.withLinearOutput)
        let outcome = try ChainRecursion.run(chain, context: context, phase: "", choose: ClosedFormRule.rule(.best))
        guard case .success(let cert) = try ChainCertificate.certify(chain, multipliers: outcome.multipliers, rho: outcome.rho,
                                                                     nullDirection: outcome.nullDirection, context: context) else {
            Issue.record("dense chain not certified"); return
        }
        #expect(ScaleFixtures.relativeError(r.value, cert.rho.squareRoot()) <= 1e-9, "\(r.value ?? .nan) vs \(cert.rho.squareRoot())")
    }

    /// A random banded SPD matrix: the band factor equals dpotrf's, and its staircase solve equals
    /// dtrsm on rows with leading zeros.
    @Test func bandFactorAndSolveMatchDense() throws {
        var rng = SeededGenerator(seed: 5)
        let n = 300, kd = 17, rows = 280
        var a = Matrix(rows: n, columns: n)
        for j in 0..<n { for i in j..<min(n, j + kd + 1) {
            let v = i == j ? Double(2 * kd + 4) : rng.gaussian()
            a[i, j] = v; a[j, i] = v
        } }
        #expect(a.storage.withUnsafeBufferPointer { BandedCholesky.bandwidth($0.baseAddress!, n: n) } == kd)
        let band = try #require(a.storage.withUnsafeBufferPointer { BandedCholesky(lowerOf: $0.baseAddress!, n: n, kd: kd) })
        let dense = try #require(LinearAlgebra.cholesky(a))
        #expect(zip(band.dense.storage, dense.storage).allSatisfy { abs($0 - $1) <= 1e-12 * Double(kd) })
        var w = Matrix(rows: rows, columns: n)
        for r in 0..<rows { for j in (r * n / rows)..<n where rng.next() % 3 == 0 { w[r, j] = rng.gaussian() } }
        let y = band.solveRightLowerTransposed(w)
        let expected = ChainAlgebra.solveRightLowerTransposed(w, dense)
        let scale = expected.storage.map(abs).max() ?? 1
        #expect(zip(y.storage, expected.storage).allSatisfy { abs($0 - $1) <= 1e-11 * scale })
        // Rows zero before their first nonzero stay exact zeros.
        for r in 0..<rows { for j in 0..<(r * n / rows) { #expect(y[r, j] == 0) } }
        // The staircase Gram of Y equals dsyrk's.
        let g = ChainAlgebra.gram(y)
        let yt = Matrix(rows: n, columns: rows, storage: (0..<(n * rows)).map { q in y[q / n, q % n] })
        let reference = Matrix.transposeTimes(yt, yt)
        let gs = reference.storage.map(abs).max() ?? 1
        #expect(zip(g.storage, reference.storage).allSatisfy { abs($0 - $1) <= 1e-11 * gs })
    }
}

/// ECLipsE's joint refinement of all layers' multipliers (`JointRefinement`).
@Suite struct JointRefinementTests {
    /// ρ* from the backward elimination equals the chain's ρ at the chain's own multipliers (the
    /// chain is tight at its last layer), and its gradient matches central differences.
    @Test func valueAndGradientAtTheChainPoint() throws {
        let net = FeedforwardNetwork.gaussian(widths: [6, 9, 8, 3], seed: 21, name: "g").withLinearOutput
        let chain = LayerChain(net)
        let context = JobContext(token: CancellationToken(), sink: { _ in })
        let outcome = try ChainRecursion.run(chain, context: context, phase: "", choose: ClosedFormRule.rule(.eclipse))
        let problem = JointRefinement.Problem(chain)
        let p = try #require(try JointRefinement.evaluate(problem, outcome.multipliers, power: .infinity))
        #expect(ScaleFixtures.relativeError(p.rho, outcome.rho) <= 1e-9, "\(p.rho) vs \(outcome.rho)")
        for (k, i) in [(0, 2), (1, 5), (0, 7)] {
            let step = outcome.multipliers[k][i] * 1e-6
            var up = outcome.multipliers, down = outcome.multipliers
            up[k][i] += step; down[k][i] -= step
            let a = try #require(try JointRefinement.evaluate(problem, up, power: .infinity)).rho
            let b = try #require(try JointRefinement.evaluate(problem, down, power: .infinity)).rho
            let numeric = (a - b) / (2 * step)
            #expect(abs(numeric - p.gradient[k][i]) <= 1e-4 * max(abs(numeric), 1e-3 * p.rho / outcome.multipliers[k][i]),
                    "layer \(k) neuron \(i): \(numeric) vs \(p.gradient[k][i])")
        }
    }

    /// On the reference nets the refined ECLipsE lies between LipSDP-Neuron and the layer-by-layer
    /// value, certified.
    @Test(arguments: ["tiny_relu_deep.json", "medium_1.json"])
    func betweenLipSDPAndTheLayerwiseValue(_ file: String) throws {
        let net = try Fixtures.load("testnets/" + file)
        let neuron = try #require(try ExpectedL2.cases().first { $0.file == file }?.values["lipsdp-neuron"])
        let r = ScaleFixtures.run("eclipse", net)
        #expect(r.certified, "\(r.details["reason"] ?? .null)")
        let value = try #require(r.value)
        #expect(value >= neuron * (1 - 1e-3), "\(value) below LipSDP-Neuron \(neuron)")
        if case .number(let layerwise)? = r.details["rho_layerwise"] {
            #expect(value <= layerwise.squareRoot() * (1 + 1e-6), "\(value) above the layer-by-layer \(layerwise.squareRoot())")
        }
    }
}

/// L-BFGS joint refinement from a poor start: it must get close to LipSDP-Neuron's value.
@Suite struct JointRefinementConvergenceTests {
    /// From ECLipsE-Fast's chain point on the reference nets, `refine` ends between LipSDP-Neuron
    /// and the start, within 5 % of LipSDP-Neuron, and its point certifies.
    @Test(arguments: ["tiny_relu_deep.json", "medium_1.json"])
    func refineFromTheClosedFormPoint(_ file: String) throws {
        let net = try #require(try Fixtures.load("testnets/" + file).layerChain).withLinearOutput
        let neuron = try #require(try ExpectedL2.cases().first { $0.file == file }?.values["lipsdp-neuron"])
        let chain = LayerChain(net)
        let context = JobContext(token: CancellationToken(), sink: { _ in })
        let start = try ChainRecursion.run(chain, context: context, phase: "", choose: ClosedFormRule.rule(.eclipse))
        let r = try #require(try JointRefinement.refine(chain, from: start.multipliers, context: context))
        let value = r.rho.squareRoot()
        #expect(r.rho <= start.rho)
        #expect(value >= neuron * (1 - 1e-3), "\(value) below LipSDP-Neuron \(neuron)")
        #expect(value <= neuron * 1.05, "\(value) vs LipSDP-Neuron \(neuron) (start \(start.rho.squareRoot()))")
        let certificate = try ChainCertificate.certify(chain, multipliers: r.multipliers, rho: r.rho,
                                                       nullDirection: r.nullDirection, context: context)
        guard case .success(let cert) = certificate else { Issue.record("not certified: \(certificate)"); return }
        #expect(cert.rho >= r.rho && cert.rho <= r.rho * 1.01)
    }

    /// The chain certificate's bound on the factorization error is the smaller of the dense
    /// (γ_{n+2}·tr A) and the banded one (γ_{b+2}(2b + 1)·max aᵢᵢ/(1 − γ), b = maxₖ(wₖ + wₖ₊₁) − 1):
    /// on a deep narrow chain the band wins by n²/(4b²), on a wide two-block one the trace does.
    @Test func factorErrorTakesTheBandOnDeepNarrowChains() {
        let deep = [2] + Array(repeating: 80, count: 100)
        let g = LMICertifier.gamma(161)
        let banded = g * 319 * 2 / (1 - g)
        let error = ChainCertificate.factorError(widths: deep, diagonalSum: 8002, diagonalMax: 2)
        #expect(error == banded)
        #expect(error * 500 < LMICertifier.gamma(8004) * 8002, "\(error)")
        let wide = [3072, 2048]
        let dense = LMICertifier.gamma(5122) * 5120
        #expect(ChainCertificate.factorError(widths: wide, diagonalSum: 5120, diagonalMax: 2) == dense)
    }
}
