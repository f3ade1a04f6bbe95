import Foundation
import LipscopeEngine
import Testing

/// What `lipscope convert` does to a conv net: ONNX → native JSON (sparse Toeplitz layers as
/// CSR) → back. The weights must come back bit for bit, so every bound is unchanged.
@Suite struct NativeJSONRoundTripTests {
    static let convNets = [
        "vnncomp21_oval21_cifar_base_kw.onnx",
        "vnncomp21_verivital_Convnet_avgpool.onnx",
        "synthetic_conv_bn_pool.onnx",
        "vnncomp21_marabou_cifar10_small.onnx",
    ]

    @Test(arguments: convNets)
    func convNetSurvivesTheRoundTrip(_ file: String) throws {
        let original = try Files.load("onnx/\(file)")
        let layers = feedforward(original).layers
        #expect(layers.contains { $0.weight.isSparse }, "\(file) should have sparse (convolution) layers")

        let data = try NativeJSONFormat.write(original)
        let back = try NativeJSONFormat.read(data, file: "\(file).json")
        let backLayers = feedforward(back).layers
        #expect(backLayers.count == layers.count && back.name == original.name && back.inputSize == original.inputSize)
        for (k, (a, b)) in zip(layers, backLayers).enumerated() {
            let identical = a == b  // (not inside #expect: it would print every weight)
            #expect(identical, "\(file) layer \(k) changed in the round trip")
        }
        // The sparse layers are written as CSR objects, not as lists of rows.
        let root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let written = try #require(root["layers"] as? [[String: Any]])
        for (k, layer) in layers.enumerated() {
            #expect((written[k]["weight"] is [String: Any]) == layer.weight.isSparse, "\(file) layer \(k)")
        }
        for norm in [Norm.l2, .linf] {
            let before = Run.bound(original, "naive", norm: norm), after = Run.bound(back, "naive", norm: norm)
            #expect(before.status == .optimal && before.value != nil)
            // The ONNX conv layers carry their geometry (ℓ2 norm from the banded Gram), the CSR
            // layers read back do not (dense SVD): the same norm by two certified computations.
            let (a, b) = (after.value ?? .nan, before.value ?? .nan)
            #expect(abs(a - b) <= 1e-9 * abs(b), "\(file) \(norm): \(a) vs \(b)")
        }
    }

    @Test func csrWeightIsReadAsWritten() throws {
        // [[0, 2, 0], [1, 0, -3]] in CSR; its ℓ∞ norm is max(2, 4) = 4 and x = (1, 1, 1) ↦ (2, -2).
        let json = """
            {"format": "lipscope.network", "version": 1, "kind": "feedforward", "input_size": 3,
             "layers": [{"weight": {"rows": 2, "columns": 3, "row_start": [0, 1, 3],
                                    "column_index": [1, 0, 2], "values": [2, 1, -3]},
                         "bias": [0, 0], "activation": "identity"}]}
            """
        let net = feedforward(try NativeJSONFormat.read(Data(json.utf8), file: "csr.json"))
        #expect(net.layers[0].weight.isSparse)
        #expect(net.layers[0].weight.dense.rowArrays == [[0, 2, 0], [1, 0, -3]])
        #expect(net.forward([1, 1, 1]) == [2, -2])
        let back = try NativeJSONFormat.read(try NativeJSONFormat.write(.feedforward(net)), file: "again.json")
        #expect(back == .feedforward(net))
    }

    @Test func seventeenDigitNumbersReadExactly() throws {
        // Float32 weights widened to Double need 17 digits; Linux Foundation parses such
        // numbers as NSDecimalNumber, whose doubleValue is off by an ulp or two.
        let weights = [-0.34260082244873047, 0.30000000000000004, 5.798976053483784e-05, 0.1]
        let json = """
            {"format": "lipscope.network", "version": 1, "kind": "feedforward", "input_size": 4,
             "layers": [{"weight": [[-0.34260082244873047, 0.30000000000000004, 5.798976053483784e-05, 0.1]],
                         "activation": "identity"}]}
            """
        let net = feedforward(try NativeJSONFormat.read(Data(json.utf8), file: "digits.json"))
        #expect(net.layers[0].weight.dense.rowArrays == [weights])
    }
}
