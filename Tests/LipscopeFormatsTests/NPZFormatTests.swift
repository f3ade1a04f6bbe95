import Foundation
import LipscopeEngine
import LipscopeLinearAlgebra
import Testing
import LipscopeTestSupport

@Suite struct NPZFormatTests {
    @Test func mondeqFeedforwardBaseline() throws {
        let net = feedforward(try Files.load("npz/dnn_d3.npz"))
        #expect(net.architecture == [784, 40, 40, 10])
        #expect(net.layers.map(\.activation) == [.relu, .relu, .identity])
        // Naive product of spectral norms: helper value 24.53164 (reference_lipschitz_values.csv).
        let naive = Run.bound(.feedforward(net), "naive")
        #expect(abs(naive.value! - 24.53164) < 1e-5)
        // An independent naive value from the layer matrices.
        let product = try net.layers.map { try LinearAlgebra.spectralNorm($0.weight.dense) }.reduce(1, *)
        #expect(abs(naive.value! - product) <= 1e-9 * product)
    }

    @Test func variantsAgree() throws {
        // float64 C order (W1, b1), float32 Fortran order deflated (fc1.weight), (in, out) layout.
        let expected = Files.json("npz/variants_expected.json") as! [String: Any]
        let w1 = Matrix(rowArrays: expected["W1"] as! [[Double]])
        let w2 = Matrix(rowArrays: expected["W2"] as! [[Double]])
        let b1 = expected["b1"] as! [Double], b2 = expected["b2"] as! [Double]
        let exact = feedforward(try Files.load("npz/variants_f64_c.npz"))
        // (JSON text round trips to within an ulp.)
        func close(_ a: [Double], _ b: [Double]) -> Bool { a.count == b.count && relativeGap(a, b) < 1e-15 }
        #expect(close(exact.layers[0].weight.dense.storage, w1.storage) && close(exact.layers[1].weight.dense.storage, w2.storage))
        #expect(close(exact.layers[0].bias, b1) && close(exact.layers[1].bias, b2))
        let inOut = feedforward(try Files.load("npz/variants_in_out.npz"))
        #expect(close(inOut.layers[0].weight.dense.storage, w1.storage) && close(inOut.layers[1].bias, b2))
        let single = feedforward(try Files.load("npz/variants_f32_fortran_deflated.npz"))
        for (k, w) in [w1, w2].enumerated() {
            let got = single.layers[k].weight.dense
            #expect(got.rows == w.rows && got.columns == w.columns)
            #expect(relativeGap(got.storage, w.storage.map { Double(Float($0)) }) < 1e-7)
        }
        let x = [0.3, -1.2, 0.7]
        #expect(relativeGap(single.forward(x), exact.forward(x)) < 1e-6)
    }

    @Test func mondeqImplicit() throws {
        let net = implicit(try Files.load("npz/mon_h40_m20.0.npz"))
        #expect(net.stateSize == 40 && net.inputSize == 784 && net.outputSize == 10)
        #expect(net.activation == .relu)
        // y = Wout z + Wout_bias: the output bias is kept (it moves forward passes, not bounds).
        #expect(net.outputBias.count == 10 && abs(net.outputBias[0] + 0.16882223) < 1e-7)
        // Pabbaraju et al. Theorem 1: ||Wout|| ||U|| / m = 3.83663330078125 reported (float32);
        // helper (float64) 3.836633251.
        let bound = try LinearAlgebra.spectralNorm(net.C) * LinearAlgebra.spectralNorm(net.B) / 20
        #expect(abs(bound - 3.836633251) < 1e-8)
        #expect(abs(bound - 3.83663330078125) < 1e-7)
        // A = W = (1 - m) I - AᵀA + B - Bᵀ: strongly monotone with m = 20, i.e. the smallest
        // eigenvalue of I - sym(W) is 20 (helper: 20.0000002).
        let sym = 0.5 * (net.A + net.A.transposed)
        let smallest = try LinearAlgebra.symmetricEigenvalues(Matrix.identity(40) - sym).min()!
        #expect(abs(smallest - 20) < 1e-5)
        // Sampled gradients stay below the published certified bound.
        let sampled = Run.bound(.implicit(net), "sampling")
        #expect(sampled.value! > 1 && sampled.value! <= 3.83663330078125)
    }

    @Test func implicitABCD() throws {
        let net = implicit(try Files.load("npz/implicit_abcd.npz"))
        #expect(net.stateSize == 5 && net.inputSize == 3 && net.outputSize == 2)
        #expect(net.bias.count == 5)
    }

    @Test func refusals() throws {
        let single = Fixtures.temporaryFile("a.npy", bytes: [0x93] + Array("NUMPY".utf8) + [1, 0])
        #expect(throws: InputError.self) { try NetworkLoader.load(path: single) }
        let notZip = Fixtures.temporaryFile("b.npz", bytes: Array("hello, this is not a zip archive".utf8))
        let e = #expect(throws: InputError.self) { try NetworkLoader.load(path: notZip) }
        #expect(e?.description.contains("not an .npz archive") == true)
        // Truncated archive: the central directory is gone.
        let bytes = Files.bytes("npz/variants_f64_c.npz")
        let cut = Fixtures.temporaryFile("c.npz", bytes: Array(bytes.prefix(bytes.count / 2)))
        let t = #expect(throws: InputError.self) { try NetworkLoader.load(path: cut) }
        #expect(t?.description.contains("truncated") == true)
        // A flipped byte inside a stored member fails the CRC check.
        var flipped = bytes
        flipped[200] ^= 0x40
        let f = Fixtures.temporaryFile("d.npz", bytes: flipped)
        #expect(throws: InputError.self) { try NetworkLoader.load(path: f) }
        let pt = Fixtures.temporaryFile("e.pt", bytes: [0x80, 2])
        let p = #expect(throws: InputError.self) { try NetworkLoader.load(path: pt) }
        #expect(p?.description.contains("PyTorch pickle") == true)
    }
}
