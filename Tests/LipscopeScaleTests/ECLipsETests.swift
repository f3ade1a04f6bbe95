import Foundation
import Testing
import LipscopeTestSupport
@testable import LipscopeEngine

/// The ℓ2 values of Tests/Fixtures/testnets/expected.json (independent cvxpy/Clarabel runs).
struct ExpectedL2: @unchecked Sendable {
    struct Case: @unchecked Sendable, CustomStringConvertible {
        let file: String
        let values: [String: Double]
        var description: String { file }
    }

    static func cases() throws -> [Case] {
        let url = Fixtures.root.appendingPathComponent("testnets/expected.json")
        let root = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        var out: [Case] = []
        for case let c as [String: Any] in root["cases"] as! [Any] where (c["kind"] as? String) == "feedforward" {
            var values: [String: Double] = [:]
            for (method, byNorm) in c["checks"] as! [String: Any] {
                if let l2 = (byNorm as? [String: Any])?["l2"] as? [String: Any], let v = l2["value"] as? Double { values[method] = v }
            }
            if values["lipsdp-neuron"] != nil { out.append(Case(file: c["file"] as! String, values: values)) }
        }
        return out
    }
}

@Suite struct ECLipsETests {
    /// sampling ≤ relaxed-exact ≤ LipSDP-Neuron ≤ ECLipsE, ECLipsE-Fast (both feasible points of
    /// LipSDP-Neuron), all certified; the references carry 1e-3 relative tolerance (solver accuracy).
    @Test(arguments: try ExpectedL2.cases())
    func orderingAgainstReferences(_ c: ExpectedL2.Case) throws {
        let net = try Fixtures.load("testnets/" + c.file)
        let neuron = c.values["lipsdp-neuron"]!
        let methods = c.file == "mnist_784.json" ? ["eclipse-fast"] : ["eclipse", "eclipse-fast"]
        for id in methods {
            let r = ScaleFixtures.run(id, net)
            #expect(r.status == .optimal && r.certified, "\(id) on \(c.file): \(r.details["reason"] ?? .null)")
            guard let v = r.value else { continue }
            #expect(v >= neuron * (1 - 1e-3), "\(id) \(v) below LipSDP-Neuron \(neuron) on \(c.file)")
            if let exact = c.values["relaxed-exact"] { #expect(v >= exact * (1 - 1e-9)) }
            if let lower = c.values["sampling"] { #expect(v >= lower) }
        }
        if let layer = c.values["lipsdp-layer"], let naive = c.values["naive"] {
            #expect(neuron <= layer * (1 + 1e-3) && layer <= naive * (1 + 1e-3))
        }
    }

    /// ECLipsE-Fast's closed form recomputed here from the paper's recursion with plain arrays:
    /// X₀ = I, ℓ = 1/(2m²λ_max(WX⁻¹Wᵀ)), X = ℓI − ℓ²m²WX⁻¹Wᵀ, L² = λ_max(W_out X⁻¹ W_outᵀ)
    /// (Gauss–Jordan inverse, cyclic Jacobi eigenvalues).
    /// banded_1 and banded_2 store their weights sparse: the sparse Gram of the chain's first layer
    /// and of the certificate's first block row are checked here against the dense recursion.
    @Test(arguments: ["tiny_relu_1.json", "tiny_relu_deep.json", "tiny_sigmoid.json", "medium_1.json", "banded_1.json", "banded_2.json"])
    func closedFormMatchesIndependentRecursion(_ file: String) throws {
        let net = try Fixtures.load("testnets/" + file)
        guard case .feedforward(let ff) = net else { Issue.record("not feedforward"); return }
        let expected = independentClosedForm(ff)
        let r = ScaleFixtures.run("eclipse-fast", net, options: ["closed_form": "eclipse"])
        #expect(r.certified, "\(r.details["reason"] ?? .null)")
        #expect(ScaleFixtures.relativeError(r.value, expected) <= 1e-8, "\(r.value ?? .nan) vs \(expected)")
    }

    /// One hidden layer wider than its input, worked on the input side (Woodbury) and certified on
    /// the (n₀ + q)-sized reduction: the same closed-form value as the plain-array recursion, and
    /// a certified value just above it.
    @Test(arguments: [(UInt64(7), [4, 60, 3]), (UInt64(8), [10, 200, 2]), (UInt64(9), [3, 40, 1])])
    func wideSingleLayerMatchesRecursion(_ seed: UInt64, _ widths: [Int]) throws {
        let net = FeedforwardNetwork.gaussian(widths: widths, seed: seed, name: "wide")
        let expected = independentClosedForm(net)
        let context = JobContext(token: CancellationToken(), sink: { _ in })
        let outcome = try WideLayerChain.run(net.withLinearOutput, context: context)
        #expect(ScaleFixtures.relativeError(outcome.rho.squareRoot(), expected) <= 1e-8, "\(outcome.rho.squareRoot()) vs \(expected)")
        let certified = try #require(outcome.certified, "\(outcome.failure ?? "")")
        #expect(certified >= outcome.rho && certified <= outcome.rho * 1.0001)
    }

    /// ECLipsE-Fast's closed form from the paper's recursion with plain arrays.
    func independentClosedForm(_ ff: FeedforwardNetwork) -> Double {
        let linear = ff.withLinearOutput
        let weights = linear.layers.map { $0.weight.dense.rowArrays }
        let mids = linear.hiddenLayers.map { l -> Double in let (a, b) = l.activation.slopeBounds; return (a + b) / 2 }
        var x = identity(linear.inputSize)
        for (k, w) in weights.dropLast().enumerated() {
            let g = multiply(multiply(w, inverse(x)), transpose(w))
            let m2 = mids[k] * mids[k]
            let ell = 1 / (2 * m2 * largestEigenvalue(g))
            x = g.indices.map { i in g.indices.map { j in (i == j ? ell : 0) - ell * ell * m2 * g[i][j] } }
        }
        let out = weights.last!
        return largestEigenvalue(multiply(multiply(out, inverse(x)), transpose(out))).squareRoot()
    }

    /// Deep random nets (testnets-deep/README.md): the csdp optimum of the plain LMI is the
    /// reference; every ECLipsE value is a certified feasible point, so it lies above it, and below
    /// the naive product.
    @Test(arguments: [("deep_8x30.json", 451.822, 6.28e7), ("deep_6x60.json", 3319.29, 9.12e12)])
    func deepNetsAreCertifiedAboveTheOptimum(_ file: String, _ reference: Double, _ naive: Double) throws {
        let net = try Fixtures.load("testnets-deep/" + file)
        for id in ["eclipse", "eclipse-fast"] {
            let r = ScaleFixtures.run(id, net)
            #expect(r.certified, "\(id) \(file): \(r.details["reason"] ?? .null)")
            #expect((r.value ?? 0) >= reference * (1 - 1e-5) && (r.value ?? .infinity) <= naive, "\(id) \(file): \(r.value ?? .nan)")
        }
    }

    @Test func badOptionIsAnError() throws {
        let net = try Fixtures.load("testnets/tiny_relu_1.json")
        let r = ScaleFixtures.run("eclipse-fast", net, options: ["closed_form": "fastest"])
        #expect(r.status == .failed)
        #expect("\(r.details["reason"] ?? .null)".contains("closed_form"))
    }

    @Test func cancellationStopsTheChain() throws {
        let net = try Fixtures.load("testnets-deep/deep_6x60.json")
        let token = CancellationToken()
        token.cancel()
        let r = Job.run(MethodRegistry.method(named: "eclipse")!, BoundRequest(network: net, norm: .l2), token: token)
        #expect(r.status == .cancelled)
    }

    // MARK: plain-array helpers (independent of LipscopeLinearAlgebra)

    func identity(_ n: Int) -> [[Double]] { (0..<n).map { i in (0..<n).map { i == $0 ? 1 : 0 } } }
    func transpose(_ a: [[Double]]) -> [[Double]] { (0..<a[0].count).map { j in a.map { $0[j] } } }
    func multiply(_ a: [[Double]], _ b: [[Double]]) -> [[Double]] {
        a.map { row in (0..<b[0].count).map { j in row.indices.reduce(0) { $0 + row[$1] * b[$1][j] } } }
    }
    func inverse(_ a: [[Double]]) -> [[Double]] {
        let n = a.count
        var m = a.enumerated().map { i, row in row + identity(n)[i] }
        for c in 0..<n {
            let p = (c..<n).max { abs(m[$0][c]) < abs(m[$1][c]) }!
            m.swapAt(c, p)
            let d = m[c][c]
            m[c] = m[c].map { $0 / d }
            for r in 0..<n where r != c {
                let f = m[r][c]
                m[r] = zip(m[r], m[c]).map { $0 - f * $1 }
            }
        }
        return m.map { Array($0[n...]) }
    }
    func largestEigenvalue(_ s: [[Double]]) -> Double {
        var a = s
        let n = a.count
        for _ in 0..<100 {
            var off = 0.0
            for i in 0..<n { for j in 0..<n where i != j { off += a[i][j] * a[i][j] } }
            if off < 1e-30 { break }
            for p in 0..<n { for q in (p + 1)..<max(p + 1, n) where a[p][q] != 0 {
                let theta = (a[q][q] - a[p][p]) / (2 * a[p][q])
                let t = (theta >= 0 ? 1 : -1) / (abs(theta) + (theta * theta + 1).squareRoot())
                let c = 1 / (t * t + 1).squareRoot(), sn = t * c
                for k in 0..<n {
                    let akp = a[k][p], akq = a[k][q]
                    a[k][p] = c * akp - sn * akq; a[k][q] = sn * akp + c * akq
                }
                for k in 0..<n {
                    let apk = a[p][k], aqk = a[q][k]
                    a[p][k] = c * apk - sn * aqk; a[q][k] = sn * apk + c * aqk
                }
            } }
        }
        return (0..<n).map { a[$0][$0] }.max()!
    }
}

extension ECLipsETests {
    /// The verivital avgpool net (784-23 328-10, one hidden layer past `maximumWidth`): ECLipsE-Fast
    /// works it on the input side (`WideLayerChain`), certified between the sampled lower bound
    /// and the naive product, and its predicted cost is that path's (0.1–0.3 s in release), inside
    /// `compare`'s default budget of 60 s — the per-layer w³ rule had predicted 4 443 s.
    @Test func wideLayerIsCertifiedAndPredictedCheap() throws {
        let net = try Fixtures.load("networks/onnx/vnncomp21_verivital_Convnet_avgpool.onnx")
        let prediction = try #require(ECLipsEBound(.fast).predictedCost(BoundRequest(network: net, norm: .l2)))
        #expect(prediction.seconds < 5 && prediction.basis.contains("Woodbury"), "\(prediction)")
        let r = ScaleFixtures.run("eclipse-fast", net)
        #expect(r.certified, "\(r.details)")
        let lower = ScaleFixtures.run("sampling", net).value ?? .infinity
        let naive = ScaleFixtures.run("naive", net).value ?? 0
        let value = try #require(r.value)
        #expect(lower <= value && value <= naive, "sampling \(lower) ≤ ECLipsE-Fast \(value) ≤ naive \(naive)")
    }
}

extension ECLipsETests {
    /// `closed_form=best` forms the Jacobi member's next coupling only when Lanczos on that
    /// coupling as an operator cannot show its ν above the plain member's
    /// (`ClosedFormRule.provablyAbove`). On cifar base_kw (conv layers 2 048 and 1 024 wide) the
    /// pruned chain must pick the same members as forming both, so the same ρ and multipliers bit
    /// for bit; where it prunes, the member's ν formed outright must indeed be the larger.
    static func baseKwChain() throws -> LayerChain? {
        guard case .feedforward(let ff) = try Fixtures.load("networks/onnx/vnncomp21_oval21_cifar_base_kw.onnx") else {
            Issue.record("cifar_base_kw did not load as a feedforward net")
            return nil
        }
        let given = LayerChain(ff.withLinearOutput)
        return given.bandOrdered()?.chain ?? given
    }

    @Test func pruningTheLosingMemberChangesNothing() throws {
        guard let chain = try Self.baseKwChain() else { return }
        var pruned = 0
        let both = try ChainRecursion.run(chain, context: JobContext(), phase: "both", choose: { stage in
            let plain = try ClosedFormRule.eclipseFast(stage), scaled = try ClosedFormRule.jacobi(stage)
            if stage.next.rows >= ClosedFormRule.pruningWidth,
               let a = try ClosedFormRule.nextCoupling(stage, diagonal: plain),
               let factored = ChainRecursion.factorSchur(stage, diagonal: scaled),
               try ClosedFormRule.provablyAbove(stage, factored: factored, threshold: a.nu) {
                pruned += 1
                let b = try ClosedFormRule.nextCoupling(stage, factored: factored)
                #expect(b.nu > a.nu, "layer \(stage.layer): pruned the Jacobi member with ν \(b.nu) against \(a.nu)")
            }
            return try ClosedFormRule.better(stage, plain: plain, scaled: scaled, prune: false)
        })
        let pruning = try ChainRecursion.run(chain, context: JobContext(), phase: "pruning", choose: ClosedFormRule.rule(.best))
        #expect(pruned >= 1, "no layer was pruned: the test would compare nothing")
        #expect(pruning.rho == both.rho, "ρ \(pruning.rho) with pruning, \(both.rho) forming both members")
        #expect(pruning.multipliers == both.multipliers)
    }

    /// `best` hands the λ_max it measured on the winner's next coupling on as that layer's
    /// ECLipsE-Fast ℓ; recomputing it (Lanczos on cifar base_kw's 1 024-wide coupling, dsyevr on
    /// the 100-wide one) must give the same chain bit for bit.
    @Test func handingOnTheCouplingsTopChangesNothing() throws {
        guard let chain = try Self.baseKwChain() else { return }
        let rule = ClosedFormRule.rule(.best)
        var handedOn = 0
        let recomputing: (ChainRecursion.Stage) throws -> ChainRecursion.Choice = { stage in
            var choice = try rule(stage)
            if choice.prepared?.nextCouplingTop != nil { handedOn += 1 }
            choice.prepared?.nextCouplingTop = nil
            return choice
        }
        let reused = try ChainRecursion.run(chain, context: JobContext(), phase: "reused", choose: rule)
        let recomputed = try ChainRecursion.run(chain, context: JobContext(), phase: "recomputed", choose: recomputing)
        #expect(handedOn >= 2, "only \(handedOn) layers handed a λ_max on")
        #expect(reused.rho == recomputed.rho, "ρ \(reused.rho) reusing λ_max, \(recomputed.rho) recomputing it")
        #expect(reused.multipliers == recomputed.multipliers)
    }

    /// Ritz values never exceed λ_max: a spectrum {10, ≤ 1} passes 9.9 within a few steps and
    /// never passes 10.001.
    @Test func lanczosExceedsOnlyBelowTheTopEigenvalue() throws {
        let n = 600
        let d = (0..<n).map { i in i == 17 ? 10.0 : Double(i % 50) / 50 }
        let times: ([Double]) -> [Double] = { v in zip(d, v).map { $0 * $1 } }
        #expect(try ChainSparse.lanczosExceeds(size: n, steps: 12, threshold: 9.9, times: times))
        #expect(try !ChainSparse.lanczosExceeds(size: n, steps: 40, threshold: 10.001, times: times))
    }
}
