import Foundation
import LipscopeEngine
import LipscopeLinearAlgebra
import Testing
import LipscopeTestSupport

@Suite struct ONNXFormatTests {
    struct Case: Sendable { let input: [Double]; let output: [Double] }
    static let expected: [String: [Case]] = (Files.json("onnx_expected.json") as! [String: [[String: Any]]]).mapValues {
        $0.map { Case(input: $0["input"] as! [Double], output: $0["output"] as! [Double]) }
    }

    @Test(arguments: expected.keys.sorted())
    func forwardPassesMatchReference(_ file: String) throws {
        let net = try Files.load("onnx/\(file)")
        for c in Self.expected[file]! {
            let y = net.forward(c.input)
            let want = c.output
            #expect(relativeGap(y, want) < 1e-9, "\(file): \(relativeGap(y, want))")
        }
    }

    @Test func acasXuAgreesWithNNet() throws {
        let onnx = feedforward(try Files.load("onnx/ACASXU_run2a_1_1_batch_2000.onnx"))
        let nnet = feedforward(try Files.load("nnet/ACASXU_run2a_1_1_batch_2000.nnet"))
        #expect(onnx.architecture == nnet.architecture)
        // The ONNX weights are the .nnet decimals rounded to float32 (within 5e-7); rounded the
        // same way, the two networks agree to 1e-9 on forward passes.
        var rounded = nnet
        rounded.layers = nnet.layers.map { layer in
            let w = layer.weight.dense
            return Layer(weight: Matrix(rows: w.rows, columns: w.columns, storage: w.storage.map { Double(Float($0)) }),
                         bias: layer.bias.map { Double(Float($0)) }, activation: layer.activation)
        }
        var generator = SystemRandomNumberGenerator()
        var worstRaw = 0.0
        for _ in 0..<200 {
            let x = (0..<5).map { _ in Double.random(in: -0.5...0.5, using: &generator) }
            #expect(relativeGap(onnx.forward(x), rounded.forward(x)) < 1e-9)
            worstRaw = max(worstRaw, relativeGap(onnx.forward(x), nnet.forward(x)))
        }
        #expect(worstRaw < 1e-4)  // the unrounded decimals differ in the 7th digit only
        let a = Run.bound(.feedforward(onnx), "naive"), b = Run.bound(.feedforward(rounded), "naive")
        #expect(abs(a.value! - b.value!) <= 1e-9 * b.value!)
    }

    @Test func affineNetworkExactValue() throws {
        // marabou_fc2: two Gemms without activation, folded into one layer; ||W2 W1|| = 0.5645361489.
        let net = try Files.load("onnx/marabou_fc2.onnx")
        #expect(feedforward(net).layers.count == 1)
        let exact = Run.bound(net, "relaxed-exact")
        #expect(abs(exact.value! - 0.5645361489) < 1e-9)
        let naive = Run.bound(net, "naive")
        #expect(abs(naive.value! - 0.5645361489) < 1e-9)
    }

    @Test func convolutionsAreSparseToeplitzLayers() throws {
        let net = feedforward(try Files.load("onnx/vnncomp21_oval21_cifar_base_kw.onnx"))
        #expect(net.architecture == [3072, 2048, 1024, 100, 10])
        #expect(net.layers[0].weight.isSparse && net.layers[1].weight.isSparse)
        // Conv(3→8, 4x4, stride 2, pad 1): at most 3·16 taps per output.
        #expect(net.layers[0].weight.nonzeroCount <= 2048 * 48)
        let avg = feedforward(try Files.load("onnx/vnncomp21_verivital_Convnet_avgpool.onnx"))
        #expect(avg.architecture == [784, 23328, 10])  // Pad + AveragePool + Gemm folded into one layer
    }

    @Test func convNetMethodsOrdering() throws {
        // A conv + batch-norm + average-pool net (sparse Toeplitz layers) through every method
        // that applies: sampling ≤ LipSDP-Neuron ≤ LipSDP-Layer ≤ naive (ℓ2), sampling ≤
        // contraction-weighted and naive (ℓ∞); LiPopt's LP is far past its size limit and says so.
        let net = try Files.load("onnx/synthetic_conv_bn_pool.onnx")
        let values = ["sampling", "lipsdp-neuron", "lipsdp-layer", "naive"].map { Run.bound(net, $0) }
        for r in values.dropFirst() { #expect(r.status == .optimal && r.certified, "\(r.method): \(r.details)") }
        let chain = values.compactMap(\.value)
        #expect(chain.count == 4 && chain == chain.sorted(), "\(chain)")
        let sampledInf = try #require(Run.bound(net, "sampling", norm: .linf).value)
        for method in ["contraction-weighted", "naive"] {
            let r = Run.bound(net, method, norm: .linf)
            #expect(r.certified && sampledInf <= r.value!, "\(method)")
        }
        let lipopt = Run.bound(net, "lipopt-lp", norm: .linf)
        #expect(lipopt.status == .tooLarge && lipopt.value == nil)
    }

    @Test func glipsdpConvNetOrdering() throws {
        // GLipSDP digits CNN (64 → 512 conv channels → 10), output 7.
        let net = try Files.load("mat/cnn2_seed0_weights.mat")
        let chain = ["sampling", "lipsdp-neuron", "naive"].map { Run.bound(net, $0, output: 7) }
        #expect(chain[1].certified && chain[2].certified)
        let v = chain.compactMap(\.value)
        #expect(v.count == 3 && v == v.sorted(), "\(v)")
    }

    @Test func refusalsNameTheNode() throws {
        // (MaxPool loads since the exact ReLU lowering: MaxPoolTests; residual Adds as graphs:
        // NetworkGraphTests.)
        let softmax = #expect(throws: InputError.self) { try Files.load("onnx/synthetic_softmax.onnx") }
        #expect(softmax?.location == "node 1 'probs' (Softmax)")
        #expect(softmax?.found == "op type Softmax")
        let garbage = Fixtures.temporaryFile("g.onnx", bytes: Array("definitely not protobuf \u{1}\u{2}".utf8))
        #expect(throws: InputError.self) { try NetworkLoader.load(path: garbage) }
        let empty = Fixtures.temporaryFile("e.onnx", bytes: [])
        #expect(throws: InputError.self) { try NetworkLoader.load(path: empty) }
    }
}
