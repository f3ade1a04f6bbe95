import Foundation
@testable import LipscopeEngine
import LipscopeLinearAlgebra
import LipscopeTestSupport
import Testing

/// Networks that are graphs, not chains: the ONNX residual import against the ONNX reference
/// evaluator, a hand-checkable skip connection, the native JSON graph form, and the promise
/// that a chain written as a graph gives the chain's values for every method.
@Suite struct NetworkGraphTests {
    /// synthetic_residual.onnx is y = a + relu(a), a = x (identity MatMul): the Jacobian is
    /// diagonal with entries 1 (x < 0) or 2 (x > 0), so the Lipschitz constant is exactly 2 in
    /// ℓ2 and ℓ∞.
    @Test func skipConnectionIsXPlusReluX() throws {
        let net = try Files.load("onnx/synthetic_residual.onnx")
        guard case .graph(let g) = net else { Issue.record("expected a graph, found \(net.kindName)"); return }
        #expect(!g.isChain && net.inputSize == 3 && net.outputSize == 3)
        for x in [[1.0, -2, 0.5], [-0.25, 3, -1e-3], [0, 0, 0]] {
            #expect(net.forward(x) == x.map { $0 + max(0, $0) }, "\(x)")
        }
        for norm in [Norm.l2, .linf] {
            let naive = Run.bound(net, "naive", norm: norm)
            #expect(naive.certified && naive.value.map { $0 >= 2 && $0 <= 2 * (1 + 1e-9) } == true, "naive \(norm): \(String(describing: naive.value))")
            let sampling = Run.bound(net, "sampling", norm: norm)
            #expect(sampling.value.map { $0 <= 2 * (1 + 1e-12) && $0 >= 1.9 } == true, "sampling \(norm): \(String(describing: sampling.value))")
        }
        let sdp = Run.bound(net, "implicit-sdp")
        #expect(sdp.certified && sdp.value.map { $0 >= 2 && $0 <= 2 * (1 + 1e-4) } == true, "implicit-sdp: \(String(describing: sdp.value))")
        let contraction = Run.bound(net, "contraction-weighted", norm: .linf)
        #expect(contraction.certified && (contraction.value ?? 0) >= 2, "contraction-weighted: \(String(describing: contraction.value))")
        // Chain-only methods refuse with the reason rather than guessing.
        let neuron = Run.bound(net, "lipsdp-neuron")
        #expect(neuron.status == .notApplicable && neuron.value == nil)
        #expect(neuron.details["reason"].map { "\($0)".contains("skip connections") } == true, "\(neuron.details)")
    }

    /// resnet_2b (VNN-COMP 2021 cifar10_resnet: conv, two residual blocks, two Gemm): the
    /// forward pass against the ONNX reference evaluator (resnet_expected.py), then sampling ≤
    /// every certified upper bound that runs at this size.
    @Test func resnet2bMatchesTheONNXReferenceAndOrdersItsBounds() throws {
        let net = try Fixtures.load("vnncomp2021/resnet_2b.onnx")
        #expect(net.kindName == "graph" && net.inputSize == 3072 && net.outputSize == 10)
        let data = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("vnncomp2021/resnet_expected.json")))
        let expected = try #require((try JSONSerialization.jsonObject(with: data) as? [String: [[String: [Double]]]])?["resnet_2b.onnx"])
        #expect(expected.count == 2)
        for case_ in expected {
            let x = try #require(case_["input"]), y = try #require(case_["output"])
            #expect(relativeGap(net.forward(x), y) < 1e-9, "\(net.forward(x)) vs \(y)")
        }
        let sampling = try #require(Run.bound(net, "sampling", norm: .linf).value)
        for method in ["naive", "contraction-weighted"] {
            let r = Run.bound(net, method, norm: .linf)
            #expect(r.certified, "\(method): \(r.status)")
            #expect(sampling <= (r.value ?? 0), "\(method): \(String(describing: r.value)) below sampling \(sampling)")
        }
        let naive2 = Run.bound(net, "naive", norm: .l2)
        let sampling2 = try #require(Run.bound(net, "sampling", norm: .l2).value)
        #expect(naive2.certified && sampling2 <= (naive2.value ?? 0))
        // The absolute path product keeps contraction-weighted below naive (it was 1.6× above).
        let weighted = try #require(Run.bound(net, "contraction-weighted", norm: .linf).value)
        let naiveInf = try #require(Run.bound(net, "naive", norm: .linf).value)
        #expect(weighted < naiveInf / 5, "contraction-weighted \(weighted), naive \(naiveInf)")
    }

    /// contraction-weighted (ℓ∞) on a graph: ‖D‖∞ + max row of |C|(I − |A|)⁻¹|B|, computed here
    /// independently from the dense equilibrium matrices (A nilpotent: the Neumann series ends),
    /// on tiny_relu_1 with a skip edge from the input into its second hidden layer.
    @Test func contractionWeightedIsTheAbsolutePathProduct() throws {
        let chain = try Fixtures.load("testnets/tiny_relu_1.json")
        guard let ff = chain.layerChain else { Issue.record("not a chain"); return }
        var nodes = ff.layers.enumerated().map { k, layer in
            GraphNode(name: "n\(k)", inputs: [GraphEdge(source: k == 0 ? .input : .node(k - 1), weight: layer.weight)],
                      bias: layer.bias, activation: layer.activation)
        }
        let skip: [[Double]] = [[0.4, -0.3], [0.1, 0.5], [-0.6, 0.2], [0.3, 0.3], [-0.2, -0.4], [0.5, -0.1]]
        nodes[1].inputs.append(GraphEdge(source: .input, weight: .dense(Matrix(rowArrays: skip))))
        let net = Network.graph(NetworkGraph(name: "skip", inputSize: 2, nodes: nodes))
        let system = try #require(net.equilibriumSystem)
        let n = system.A.rows
        let absA = Matrix(rows: n, columns: n, storage: system.A.storage.map(abs))
        // v = Σₖ |A|ᵏ |B| 1 (k < n suffices: |A| is nilpotent).
        var term = (0..<n).map { i in (0..<system.B.columns).reduce(0.0) { $0 + abs(system.B[i, $1]) } }
        var v = term
        for _ in 0..<n {
            term = absA * term
            for i in 0..<n { v[i] += term[i] }
        }
        let rows = (0..<system.C.rows).map { r in (0..<n).reduce(0.0) { $0 + abs(system.C[r, $1]) * v[$1] } }
        let want = system.D.infinityNorm + rows.max()!
        let r = Run.bound(net, "contraction-weighted", norm: .linf)
        let got = try #require(r.value)
        #expect(r.certified && got >= want && got <= want * (1 + 1e-12), "\(got) vs \(want)")
        let sampling = try #require(Run.bound(net, "sampling", norm: .linf).value)
        let naive = try #require(Run.bound(net, "naive", norm: .linf).value)
        #expect(sampling <= got && got <= naive, "sampling \(sampling), bound \(got), naive \(naive)")
    }

    /// implicit-sdp (ℓ2) on resnet_2b: its LMI (9 316) is past the SDP solvers, so the closed-form
    /// point of the same LMI is certified instead; it lies between sampling and the naive product
    /// (measured: 198.28 against naive 1 512.55).
    @Test func resnet2bImplicitSDPIsCertifiedBetweenSamplingAndNaive() throws {
        let net = try Fixtures.load("vnncomp2021/resnet_2b.onnx")
        let sdp = Run.bound(net, "implicit-sdp", norm: .l2)
        #expect(sdp.certified && sdp.details["solver"] == .string("graph-closed-form"), "\(sdp.status) \(sdp.details)")
        let value = try #require(sdp.value)
        let naive = try #require(Run.bound(net, "naive", norm: .l2).value)
        let sampling = try #require(Run.bound(net, "sampling", norm: .l2).value)
        #expect(sampling <= value && value < naive / 5, "sampling \(sampling), implicit-sdp \(value), naive \(naive)")
    }

    /// The batched graph Jacobians (stacked adjoints, what sampling evaluates) are the
    /// one-input-at-a-time Jacobians, on resnet_2b (sparse conv edges, a skip, dense Gemms).
    @Test func resnet2bBatchedJacobiansAreTheOneByOneJacobians() throws {
        let net = try Fixtures.load("vnncomp2021/resnet_2b.onnx")
        guard case .graph(let g) = net else { Issue.record("expected a graph"); return }
        var rng = SeededGenerator(seed: 5)
        let xs = (0..<3).map { k in (0..<g.inputSize).map { _ in [1.0, 10, 0.1][k] * rng.gaussian() } }
        let batched = g.jacobians(at: xs)
        #expect(batched.count == 3)
        for (x, b) in zip(xs, batched) {
            let one = try #require(g.jacobian(at: x)), j = try #require(b)
            #expect(j.rows == 10 && j.columns == 3072)
            #expect(relativeGap(j.storage, one.storage) < 1e-12)
        }
    }

    /// A residual net's conv edges carry no convolution annotation: the sparse-norm path finds a
    /// pixel-major order of the rows (channels = a divisor of the row count) and its banded
    /// Cholesky proof is an upper bound within 1e-9 of the dense SVD's value.
    @Test func resnet2bConvEdgeNormIsCertifiedAndTight() throws {
        let net = try Fixtures.load("vnncomp2021/resnet_2b.onnx")
        guard case .graph(let g) = net, case .sparse(let w) = g.nodes[2].inputs[0].weight else {
            Issue.record("expected a sparse conv edge into node 2"); return
        }
        #expect(w.rows == 1024 && w.columns == 1024)
        let bound = try SparseSpectralNorm.upperBound(w)
        let svd = try LinearAlgebra.spectralNorm(w.dense)
        #expect(bound.upper >= svd && bound.upper <= svd * (1 + 1e-9), "\(bound.upper) vs SVD \(svd)")
        #expect(bound.how.contains("pixel-major"), "\(bound.how)")
    }

    /// Sampling stopped by its clock right after the first batch: the stop is reported, the
    /// value is the best of that batch, which the full run (same seed, same first batch) can only
    /// exceed, and it stays a lower bound (≤ 2 on y = x + relu(x)).
    @Test func samplingCutByTheClockKeepsALowerBound() throws {
        let net = try Files.load("onnx/synthetic_residual.onnx")
        #expect(SamplingBound().option("time_limit")?.defaultValue == String(SamplingBound.defaultTimeLimit))
        let short = Job.run(SamplingBound(), BoundRequest(network: net, norm: .l2, options: ["time_limit": "1e-9"]))
        let full = Job.run(SamplingBound(), BoundRequest(network: net, norm: .l2, options: ["time_limit": "1e9"]))
        #expect(short.details["stopped_by"] == .string("time limit") && full.details["stopped_by"] == .string("work budget"))
        guard case .number(let shortSamples) = short.details["samples"], case .number(let fullSamples) = full.details["samples"],
              let s = short.value, let f = full.value else { Issue.record("no samples or value"); return }
        #expect(shortSamples >= 1 && shortSamples < fullSamples)
        #expect(s > 0 && s <= f && f <= 2 * (1 + 1e-12), "short \(s), full \(f)")
    }

    /// tiny_relu_1 (2-5-6-2 chain) rewritten in the JSON graph form, each node fed by the one
    /// before: every method, both norms, gives the chain's status and value.
    @Test func chainWrittenAsAGraphGivesTheChainsValues() throws {
        let chain = try Fixtures.load("testnets/tiny_relu_1.json")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: Fixtures.path("testnets/tiny_relu_1.json")))) as? [String: Any])
        let layers = try #require(object["layers"] as? [[String: Any]])
        let nodes: [[String: Any]] = layers.enumerated().map { k, layer in
            var node = layer
            node["weight"] = nil
            node["inputs"] = [["from": k == 0 ? "input" as Any : (k - 1) as Any, "weight": layer["weight"]!]]
            return node
        }
        let graphObject: [String: Any] = ["format": "lipscope.network", "version": 1, "name": "tiny_relu_1_graph", "kind": "graph",
                                          "input_size": object["input_size"]!, "nodes": nodes]
        let path = Fixtures.temporaryFile("tiny_relu_1_graph.json", bytes: [UInt8](try JSONSerialization.data(withJSONObject: graphObject)))
        let graph = try NetworkLoader.load(path: path)
        guard case .graph(let g) = graph else { Issue.record("expected a graph"); return }
        #expect(g.isChain)
        for x in [[0.3, -0.7], [-1.5, 2.0]] { #expect(relativeGap(graph.forward(x), chain.forward(x)) == 0) }
        for method in MethodRegistry.all {
            for norm in method.norms {
                let a = Job.run(method, BoundRequest(network: chain, norm: norm, seed: 1))
                let b = Job.run(method, BoundRequest(network: graph, norm: norm, seed: 1))
                #expect(a.status == b.status && a.certified == b.certified, "\(method.id) \(norm): \(a.status) vs \(b.status)")
                if let va = a.value, let vb = b.value {
                    #expect(abs(va - vb) <= 1e-6 * max(1, abs(va)), "\(method.id) \(norm): chain \(va), graph \(vb)")
                } else {
                    #expect(a.value == nil && b.value == nil, "\(method.id) \(norm)")
                }
            }
        }
    }

    /// The graph form survives write → read unchanged, and bad edges are named.
    @Test func graphJSONRoundTripsAndNamesBadEdges() throws {
        let net = try Files.load("onnx/synthetic_residual.onnx")
        let path = Fixtures.temporaryFile("residual.json", "")
        try NetworkLoader.save(net, to: path)
        #expect(try NetworkLoader.load(path: path).forward([1, -2, 0.5]) == net.forward([1, -2, 0.5]))
        let bad = Fixtures.temporaryFile("bad_graph.json", """
            {"format": "lipscope.network", "version": 1, "kind": "graph", "input_size": 2,
             "nodes": [{"inputs": [{"from": 1, "weight": [[1, 0]]}], "activation": "relu"}]}
            """)
        let error = #expect(throws: InputError.self) { try NetworkLoader.load(path: bad) }
        #expect(error?.location == "nodes[0].inputs[0].from", "\(String(describing: error))")
    }
}
