import Foundation
import LipscopeEngine
import LipscopeTestSupport
import ONNXProto
import Testing

/// MaxPool lowered to ReLU layers: the lowered chain computes exactly the pooled network
/// (checked against ReferenceONNX, an independent plain-loop interpreter), `info` says how, and
/// the methods apply to it.
@Suite struct MaxPoolTests {
    static let fixtures = ["onnx/marabou_conv_mp1.onnx", "onnx/marabou_cnn_max_mninst2.onnx",
                           "onnx/vnncomp21_verivital_Convnet_maxpool.onnx"]

    /// Largest |a − b| / max(1, |b|).
    static func relativeGap(_ a: [Double], _ b: [Double]) -> Double {
        precondition(a.count == b.count)
        return zip(a, b).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? 0
    }

    static func compareForward(_ path: String, samples: Int, seed: UInt64) throws {
        let net = try NetworkLoader.load(path: path)
        let reference = try ReferenceONNX(path: path)
        var rng = SeededGenerator(seed: seed)
        for k in 0..<samples {
            let scale = [1.0, 0.1, 10][k % 3]
            let x = (0..<net.inputSize).map { _ in scale * rng.uniform(-1, 1) }
            let gap = relativeGap(net.forward(x), reference.run(x))
            #expect(gap < 1e-9, "\(path) sample \(k): relative gap \(gap)")
        }
    }

    @Test(arguments: fixtures) func loweredForwardMatchesThePooledNetwork(_ file: String) throws {
        try Self.compareForward(Files.path(file), samples: file.contains("verivital") ? 3 : 8, seed: 5)
    }

    @Test func infoSaysWhichLoweringWasUsed() throws {
        let net = try Files.load("onnx/vnncomp21_verivital_Convnet_maxpool.onnx")
        let summary = NetworkSummary(net)
        // The conv gives 32 channels of 27×27 = 23 328 pre-activations; its ReLU moves after
        // the pool (max of relu = relu of max). 4×4 windows, stride 4: 6×6 windows per channel,
        // 1 152 outputs. Each of the ⌈log₂ 16⌉ = 4 levels halves the pairs of every window and
        // spends 3 units per pair (relu(a − b), relu(b), relu(−b)); then the moved ReLU.
        let windows = 32 * 6 * 6
        #expect(summary.sizes == [784, windows * 8 * 3, windows * 4 * 3, windows * 2 * 3, windows * 1 * 3, windows, 10])
        #expect(summary.notes.contains { $0.contains("MaxPool 4x4") && $0.contains("5 ReLU layers") && $0.contains("ReLU before it moved after it") }, "\(summary.notes)")
    }

    /// Signed inputs (no ReLU before the pool), overlapping 3×3 windows with stride 2 and
    /// padding (windows of 4, 6 and 9 cells), and Max/Min against constants: built here as an
    /// ONNX graph, checked against the reference interpreter.
    @Test func signedOverlappingPoolAndConstantMaxMatchTheReference() throws {
        var rng = SeededGenerator(seed: 11)
        func tensor(_ name: String, _ shape: [Int]) -> Onnx_TensorProto {
            var t = Onnx_TensorProto()
            t.name = name
            t.dims = shape.map(Int64.init)
            t.dataType = 1
            t.floatData = (0..<shape.reduce(1, *)).map { _ in Float(rng.gaussian()) }
            return t
        }
        func node(_ op: String, _ ins: [String], _ out: String, ints: [String: [Int]] = [:]) -> Onnx_NodeProto {
            var n = Onnx_NodeProto()
            n.opType = op; n.input = ins; n.output = [out]; n.name = out
            for (k, v) in ints.sorted(by: { $0.key < $1.key }) {
                var a = Onnx_AttributeProto()
                a.name = k; a.ints = v.map(Int64.init); a.type = .ints
                n.attribute.append(a)
            }
            return n
        }
        var g = Onnx_GraphProto()
        g.name = "signed_pool"
        g.initializer = [tensor("k", [3, 2, 3, 3]), tensor("kb", [3]), tensor("c", [1, 3, 1, 1]), tensor("d", [1]),
                         tensor("w", [3 * 4 * 3, 4]), tensor("b", [4])]
        g.node = [node("Conv", ["x", "k", "kb"], "a", ints: ["pads": [1, 1, 1, 1]]),
                  node("MaxPool", ["a"], "p", ints: ["kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1]]),
                  node("Max", ["p", "c"], "m"),
                  node("Min", ["m", "d"], "n"),
                  node("Flatten", ["n"], "f"),
                  node("MatMul", ["f", "w"], "y0"),
                  node("Add", ["y0", "b"], "y")]
        var input = Onnx_ValueInfoProto()
        input.name = "x"
        input.type.tensorType.elemType = 1
        for v in [1, 2, 7, 6] {
            var d = Onnx_TensorShapeProto.Dimension()
            d.dimValue = Int64(v)
            input.type.tensorType.shape.dim.append(d)
        }
        var output = Onnx_ValueInfoProto()
        output.name = "y"
        g.input = [input]
        g.output = [output]
        var model = Onnx_ModelProto()
        model.graph = g
        var opset = Onnx_OperatorSetIdProto()
        opset.version = 13
        model.opsetImport = [opset]
        let path = Fixtures.temporaryFile("signed_pool.onnx", bytes: [UInt8](try model.serializedData()))
        try Self.compareForward(path, samples: 30, seed: 3)
        let summary = NetworkSummary(try NetworkLoader.load(path: path))
        // windows of up to 9 cells: 4 levels, signed pass-through.
        #expect(summary.notes.contains { $0.contains("4 ReLU layers") && $0.contains("relu(b) − relu(−b)") }, "\(summary.notes)")
        #expect(summary.notes.contains { $0.contains("(Max)") } && summary.notes.contains { $0.contains("(Min)") })
    }

    /// Every method that `compare` runs on the small MaxPool net: a lower bound never exceeds
    /// a certified upper bound.
    @Test func samplingStaysBelowEveryCertifiedBound() throws {
        let net = try Files.load("onnx/marabou_conv_mp1.onnx")
        for norm in [Norm.l2, .linf] {
            let lower = Run.bound(net, "sampling", norm: norm)
            let upper = ["naive", "eclipse-fast", "lipsdp-layer"].map { Run.bound(net, $0, norm: norm) }
            guard let l = lower.value else { Issue.record("sampling gave no value"); continue }
            for u in upper where u.certified {
                #expect(l <= u.value!, "\(u.method) \(norm): \(u.value!) < sampling \(l)")
            }
            #expect(upper[0].certified)
        }
    }
}
