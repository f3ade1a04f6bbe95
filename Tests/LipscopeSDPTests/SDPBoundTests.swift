import Foundation
import LipscopeLinearAlgebra
import LipscopeSolvers
import Synchronization
import Testing
@testable import LipscopeEngine
import LipscopeTestSupport

/// Published values, reproduced from the original network files, each certified.
@Suite struct PublishedValueTests {
    struct Case: CustomStringConvertible, Sendable {
        let file: String, method: String, output: Int?, value: Double
        var description: String { "\(file) \(method)\(output.map { " output \($0)" } ?? "")" }
    }

    static let cases: [Case] = [
        // LipSDP README (arobey1/LipSDP).
        Case(file: "networks/mat/random_weights.mat", method: "lipsdp-neuron", output: nil, value: 36.482),
        Case(file: "networks/mat/random_weights.mat", method: "lipsdp-layer", output: nil, value: 39.839),
        Case(file: "testnets-real/lipsdp_random_weights.json", method: "lipsdp-neuron", output: nil, value: 36.482),
        // LipSDP mnist_weights.mat, 784-50-10 (README / independent recomputation).
        Case(file: "testnets-real/mnist_weights.mat", method: "lipsdp-neuron", output: nil, value: 24.366),
        Case(file: "testnets-real/mnist_weights.mat", method: "lipsdp-layer", output: nil, value: 26.256),
        // locuslab/lipschitz_mondeq notebook, 784-40-40-10.
        Case(file: "networks/npz/dnn_d3.npz", method: "lipsdp-neuron", output: nil, value: 14.146),
        // ppauli/GLipSDP summary, output index 7.
        Case(file: "networks/mat/fnn2_seed0_weights.mat", method: "lipsdp-neuron", output: 7, value: 5.109714769),
        Case(file: "networks/mat/fnn3_seed0_weights.mat", method: "lipsdp-neuron", output: 7, value: 9.728613898),
        Case(file: "testnets-real/glipsdp_fnn2_seed0.json", method: "lipsdp-neuron", output: 7, value: 5.109714769),
        Case(file: "testnets-real/glipsdp_fnn3_seed0.json", method: "lipsdp-neuron", output: 7, value: 9.728613898),
    ]

    @Test(arguments: cases)
    func reproduces(_ c: Case) throws {
        let net = try Fixtures.load(c.file)
        let r = SDPFixtures.run(c.method, net, output: c.output)
        #expect(r.status == .optimal, "\(r.details)")
        #expect(r.certified, "\(r.details["reason"] ?? .null)")
        // Published values carry 5–10 digits; 1e-4 relative.
        #expect(SDPFixtures.relativeError(r.value, c.value) <= 1e-4, "\(c): \(r.value ?? .nan)")
    }

    /// README: split into chunks of 2, 37.668 = 3.8282 × 9.8397; looser than the full LMI.
    @Test func splitIntoChunksOfTwo() throws {
        let net = try Fixtures.load("networks/mat/random_weights.mat")
        let r = SDPFixtures.run("lipsdp-neuron", net, options: ["split": "2"])
        #expect(r.certified)
        #expect(SDPFixtures.relativeError(r.value, 37.668) <= 1e-4, "\(r.value ?? .nan)")
        guard case .array(let chunks)? = r.details["chunk_bounds"] else { Issue.record("no chunk bounds"); return }
        #expect(chunks.count == 2)
        #expect(r.details["note"] != nil)
    }

    /// monDEQ (Pabbaraju et al.): ‖W_out‖‖U‖/m = 3.8366; the implicit SDP must do no worse.
    @Test func monDEQImplicitBound() throws {
        let net = try Fixtures.load("networks/npz/mon_h40_m20.0.npz")
        let r = SDPFixtures.run("implicit-sdp", net)
        #expect(r.status == .optimal)
        #expect(r.certified)
        let v = try #require(r.value)
        #expect(v <= 3.8366)
        #expect(v > 1)   // sanity: well above zero
    }

    /// Spec A.5: f(x) = ReLU(x) − ReLU(x − 1) has constant 1; the sound variants return ≥ 1
    /// (the coupled "network" variant, not offered, returns ≈ 0).
    @Test func counterexampleToTheNetworkVariant() {
        let net = FeedforwardNetwork(name: "counterexample", inputSize: 1, layers: [
            Layer(weight: Matrix(rowArrays: [[1], [1]]), bias: [0, -1], activation: .relu),
            Layer(weight: Matrix(rowArrays: [[1, -1]]), activation: .identity),
        ])
        for id in ["lipsdp-neuron", "lipsdp-layer", "implicit-sdp"] {
            let r = SDPFixtures.run(id, .feedforward(net))
            #expect(r.certified, "\(id)")
            #expect((r.value ?? 0) >= 1 - 1e-12, "\(id): \(r.value ?? .nan)")
            #expect((r.value ?? .infinity) <= 1 + 1e-5, "\(id): \(r.value ?? .nan)")
        }
        #expect(MethodRegistry.method(named: "lipsdp-network") == nil)
    }
}

/// Every SDP value of ../shared/testnets/expected.json within its tolerance, and the ℓ2 chain.
@Suite struct OracleSDPTests {
    static let expected = try! SDPExpected()

    @Test(arguments: Set(expected.checks.map(\.file)).sorted())
    func reproducesOracle(file: String) throws {
        let net = try Fixtures.load("testnets/\(file)")
        for check in Self.expected.checks where check.file == file {
            let r = SDPFixtures.run(check.method, net)
            let v = try #require(r.value, "\(check): \(r.status) \(r.details)")
            #expect(abs(v - check.value) <= check.absTol + check.relTol * abs(check.value), "\(check): \(v) vs \(check.value)")
            #expect(r.certified, "\(check): \(r.details["reason"] ?? .null)")
        }
    }

    /// sampling ≤ relaxed-exact ≤ lipsdp-neuron ≤ lipsdp-layer ≤ naive (ℓ2), on every net with the chain.
    @Test(arguments: Self.expected.chains.keys.sorted().filter { Self.expected.chains[$0]!.contains("lipsdp-neuron") })
    func orderingHolds(file: String) throws {
        let net = try Fixtures.load("testnets/\(file)")
        let chain = Self.expected.chains[file]!
        var values: [(String, Double)] = []
        for id in chain {
            let r = SDPFixtures.run(id, net)
            if let v = r.value { values.append((id, v)) }
        }
        #expect(values.map(\.0).contains("lipsdp-neuron") && values.map(\.0).contains("lipsdp-layer"))
        for (a, b) in zip(values, values.dropFirst()) {
            #expect(a.1 <= b.1 * (1 + Self.expected.invariantTolerance), "\(file): \(a.0) = \(a.1) > \(b.0) = \(b.1)")
        }
    }

    /// implicit_from_ff: its implicit-sdp value equals LipSDP-Neuron of the source feedforward net.
    @Test func implicitFromFeedforwardEqualsLipSDPNeuron() throws {
        let reference = Self.expected.reference("implicit_from_ff")
        let source = try JSONSerialization.data(withJSONObject: reference["source_feedforward"]!)
        let ff = try NativeJSONFormat.read(source, file: "source_feedforward")
        let implicit = try Fixtures.load("testnets/implicit_from_ff.json")
        let a = SDPFixtures.run("implicit-sdp", implicit)
        let b = SDPFixtures.run("lipsdp-neuron", ff)
        let c = SDPFixtures.run("implicit-sdp", ff)   // the feedforward net through its equilibrium form
        let expected = reference["source_lipsdp_neuron"] as! Double
        for r in [a, b, c] {
            #expect(r.certified)
            #expect(SDPFixtures.relativeError(r.value, expected) <= 1e-5, "\(r.method): \(r.value ?? .nan) vs \(expected)")
        }
        #expect(SDPFixtures.relativeError(a.value, b.value!) <= 1e-5)
    }
}

/// The chordal decomposition returns the full LMI's value; the options behave.
@Suite struct ChordalAndOptionTests {
    @Test(arguments: ["testnets/banded_2.json", "testnets/tiny_relu_deep.json",
                      "testnets/tiny_leaky.json", "networks/mat/random_weights.mat", "networks/npz/dnn_d3.npz"])
    func chordalEqualsFull(file: String) throws {
        let net = try Fixtures.load(file)
        for id in ["lipsdp-neuron", "lipsdp-layer"] {
            let on = SDPFixtures.run(id, net, options: ["chordal": "on"])
            let off = SDPFixtures.run(id, net, options: ["chordal": "off"])
            #expect(on.details["chordal"] == .bool(true))
            #expect(off.details["chordal"] == .bool(false))
            #expect(on.certified && off.certified)
            #expect(SDPFixtures.relativeError(on.value, off.value!) <= 1e-6, "\(file) \(id): \(on.value ?? .nan) vs \(off.value ?? .nan)")
        }
    }

    @Test func csdpAgreesWithDSDP() throws {
        let net = try Fixtures.load("networks/mat/random_weights.mat")
        let r = SDPFixtures.run("lipsdp-neuron", net, options: ["solver": "csdp", "chordal": "off"])
        #expect(r.details["solver"] == .string("csdp"))
        #expect(r.certified, "\(r.details["reason"] ?? .null)")
        #expect(SDPFixtures.relativeError(r.value, 36.48223) <= 1e-5, "\(r.value ?? .nan)")
    }

    @Test func badOptionsFailWithoutANumber() throws {
        let net = try Fixtures.load("networks/mat/random_weights.mat")
        for options in [["solver": "clp"], ["chordal": "maybe"], ["split": "0"]] {
            let r = SDPFixtures.run("lipsdp-neuron", net, options: options)
            #expect(r.status == .failed)
            #expect(r.value == nil)
        }
    }

    @Test func applicability() throws {
        let implicit = try Fixtures.load("testnets/implicit_n5.json")
        #expect(SDPFixtures.run("lipsdp-neuron", implicit).status == .notApplicable)
        #expect(SDPFixtures.run("lipsdp-linf", implicit, norm: .linf).status == .notApplicable)
        let ff = try Fixtures.load("testnets/tiny_relu_1.json")
        #expect(SDPFixtures.run("lipsdp-neuron", ff, norm: .linf).status == .notApplicable)
    }

    /// Iterations stream while the solver runs, and cancelling stops the job.
    @Test func streamsIterationsAndCancels() throws {
        let net = try Fixtures.load("networks/npz/dnn_d3.npz")
        let seen = Atomic<Int>(0)
        let boxed = Mutex<Job?>(nil)
        let job = Job.start(MethodRegistry.method(named: "lipsdp-neuron")!,
                            BoundRequest(network: net, norm: .l2, options: ["chordal": "on"])) { event in
            if case .iteration = event {
                if seen.add(1, ordering: .relaxed).newValue == 3 { boxed.withLock { $0?.cancel() } }
            }
        }
        boxed.withLock { $0 = job }
        if seen.load(ordering: .relaxed) >= 3 { job.cancel() }
        let r = job.wait()
        #expect(seen.load(ordering: .relaxed) >= 3)
        #expect(r.status == .cancelled)
        #expect(r.value == nil)
    }

    @Test func iterationsAreReported() throws {
        let net = try Fixtures.load("networks/mat/random_weights.mat")
        let rows = Mutex<[IterationRecord]>([])
        let r = Job.run(MethodRegistry.method(named: "lipsdp-neuron")!, BoundRequest(network: net, norm: .l2)) { event in
            if case .iteration(let it) = event { rows.withLock { $0.append(it) } }
        }
        let records = rows.withLock { $0 }
        #expect(records.count >= 5)
        #expect(records.last?.value("primal") != nil)
        #expect(r.iterations >= records.count - 1)
    }
}

/// The ℓ∞ SDP: between relaxed-exact (ℓ∞) and the √n₀·ℓ2 conversion.
@Suite struct LinfSDPTests {
    @Test(arguments: ["testnets/tiny_relu_1.json", "testnets/tiny_relu_5.json", "testnets/small_relu_20.json",
                      "testnets/tiny_tanh.json"])
    func sandwiched(file: String) throws {
        let net = try Fixtures.load(file)
        let sdp = SDPFixtures.run("lipsdp-linf", net, norm: .linf)
        let exact = SDPFixtures.run("relaxed-exact", net, norm: .linf)
        let sampling = SDPFixtures.run("sampling", net, norm: .linf)
        #expect(sdp.certified, "\(sdp.details["reason"] ?? .null)")
        let v = try #require(sdp.value)
        #expect(exact.value! <= v * (1 + 1e-6), "\(file): relaxed-exact \(exact.value!) > SDP \(v)")
        #expect(sampling.value! <= v)
        guard case .number(let conversion)? = sdp.details["l2_conversion"] else { Issue.record("no conversion"); return }
        #expect(v <= conversion * (1 + 1e-6), "\(file): SDP \(v) > conversion \(conversion)")
    }

    @Test func perOutputMatchesRestrictedRun() throws {
        let net = try Fixtures.load("testnets/tiny_relu_1.json")
        let all = SDPFixtures.run("lipsdp-linf", net, norm: .linf)
        let one = SDPFixtures.run("lipsdp-linf", net, norm: .linf, output: 1)
        guard case .array(let per)? = all.details["per_output"], case .number(let second) = per[1] else {
            Issue.record("no per-output values"); return
        }
        #expect(SDPFixtures.relativeError(one.value, second) <= 1e-6)
    }

    /// A margin f_c − f_j is one scalar row: its ℓ∞ → |·| bound sits between the exact margin
    /// constant (relaxed-exact is exact on tiny_relu_1) and the sum of the two rows' bounds.
    @Test func marginIsTheDifferenceRow() throws {
        let net = try Fixtures.load("testnets/tiny_relu_1.json")
        let margin = SDPFixtures.run("lipsdp-linf", net, norm: .linf, options: ["margin": "0,1"])
        let exact = SDPFixtures.run("relaxed-exact", net, norm: .linf, options: ["margin": "0,1"])
        let all = SDPFixtures.run("lipsdp-linf", net, norm: .linf)
        #expect(margin.certified && margin.details["margin"] == .string("f_0 − f_1"))
        guard case .array(let per)? = all.details["per_output"], case .number(let r0) = per[0], case .number(let r1) = per[1],
              let v = margin.value, let e = exact.value else { Issue.record("missing values"); return }
        #expect(e <= v * (1 + 1e-6), "exact margin constant \(e) > SDP \(v)")
        #expect(v <= (r0 + r1) * (1 + 1e-6))
        let both = SDPFixtures.run("lipsdp-linf", net, norm: .linf, output: 0, options: ["margin": "0,1"])
        #expect(both.status == .failed, "a margin and --output together are refused")
    }
}

/// The certificate itself: it passes at the solver's point and refuses points that are not feasible.
@Suite struct CertificateTests {
    static func setup() throws -> (SlopeLMI, Double, [Double]) {
        guard case .feedforward(let net) = try Fixtures.load("networks/mat/random_weights.mat") else { fatalError() }
        let linear = net.withLinearOutput
        let lmi = SlopeLMI.feedforward(linear, perNeuron: true)
        // Solved in the balanced form (powers of two), mapped back to the network as given.
        let balanced = SlopeLMI.feedforward(linear, perNeuron: true, layerExponents: try SlopeLMI.balancingExponents(linear))
        let y = try DSDPSolverFacade.solve(balanced.sdpProblem(input: .uniform, chordal: false).problem)
        return (lmi, y[0] * balanced.inputScale, (0..<lmi.groupCount).map { y[1 + $0] * balanced.groupScale[$0] })
    }

    @Test func certifiesTheSolverPointAndRejectsBadOnes() throws {
        let (lmi, rho, lambda) = try Self.setup()
        #expect(abs(rho.squareRoot() - 36.48223) < 1e-4)
        let base = Array(repeating: rho, count: lmi.inputSize)
        guard case .success(let cert) = try LMICertifier.certify(lmi, base: base, groupMultipliers: lambda) else {
            Issue.record("the solver's point did not certify"); return
        }
        #expect(cert.shift <= 1e-6 * rho)
        // ρ 1% too small: no shift within 0.5% can repair it.
        let low = Array(repeating: rho * 0.99, count: lmi.inputSize)
        if case .success = try LMICertifier.certify(lmi, base: low, groupMultipliers: lambda, maxRelativeShift: 0.005) {
            Issue.record("certified a ρ below the optimum")
        }
        // Multipliers zero: the hidden block is −W_LᵀW_L-ish, no input term helps.
        let zeros = [Double](repeating: 0, count: lambda.count)
        guard case .failure(let why) = try LMICertifier.certify(lmi, base: base, groupMultipliers: zeros) else {
            Issue.record("certified zero multipliers"); return
        }
        #expect(why.description.contains("hidden-state block"))
        // Negative multipliers are clipped to zero, never used.
        let negated = lambda.map { -$0 }
        if case .success = try LMICertifier.certify(lmi, base: base, groupMultipliers: negated) {
            Issue.record("certified negative multipliers")
        }
    }

    /// The input reduction keeps the LMI's value (spec A.3).
    @Test func inputReductionIsExact() throws {
        let net = try Fixtures.load("testnets/medium_1.json")
        let on = SDPFixtures.run("lipsdp-neuron", net)
        let off = SDPFixtures.run("lipsdp-neuron", net, options: ["reduce": "off", "scale": "off"])
        #expect(on.certified && off.certified)
        #expect(SDPFixtures.relativeError(on.value, off.value!) <= 1e-6)
        let mnist = try Fixtures.load("testnets-real/mnist_weights.mat")
        let reduced = SDPFixtures.run("lipsdp-neuron", mnist)
        #expect(reduced.details["input_reduction"] == .string("784 → 50 input coordinates"))
    }
}

/// Direct solver access for the certificate tests.
enum DSDPSolverFacade {
    static func solve(_ p: SDPProblem) throws -> [Double] {
        let r = try DSDPSolver().solve(.sdp(p))
        guard r.status == .optimal else { throw MethodFailure("\(r.status)") }
        return r.x
    }
}
