import Foundation
import LipscopeEngine
import LipscopeLinearAlgebra
import Testing
import LipscopeTestSupport

@Suite struct MATFormatTests {
    @Test func lipSDPRandomWeights() throws {
        let net = feedforward(try Files.load("mat/random_weights.mat"))
        #expect(net.architecture == [2, 10, 30, 20, 2])
        #expect(net.layers.allSatisfy { $0.bias.allSatisfy { $0 == 0 } })  // LipSDP ships no biases
        // Naive product (helper 43.30557); LipSDP-Neuron 36.482 and Layer 39.839 are reported.
        let naive = Run.bound(.feedforward(net), "naive")
        #expect(abs(naive.value! - 43.30557) < 1e-5)
        let sampled = Run.bound(.feedforward(net), "sampling")
        #expect(sampled.value! <= 36.48223 * (1 + 1e-6))   // below LipSDP-Neuron, an upper bound
        #expect(sampled.value! >= 30)
    }

    @Test func compressedElementsAndBiasCells() throws {
        // random_weights re-saved by scipy with zlib compression and a `biases` cell array.
        let plain = feedforward(try Files.load("mat/random_weights.mat"))
        let compressed = feedforward(try Files.load("mat/random_weights_compressed.mat"))
        #expect(compressed.layers.map(\.weight) == plain.layers.map(\.weight))
        #expect(compressed.layers.allSatisfy { $0.bias.contains { $0 != 0 } })
        // The GLipSDP summary file is a real compressed MAT-file (from MATLAB): it parses, and is
        // refused because it holds results, not weights.
        let e = #expect(throws: InputError.self) { try Files.load("mat/lipschitz_summary_all_models.mat") }
        #expect(e?.description.contains("all_results (a struct)") == true)
    }

    @Test func glipSDPFeedforward() throws {
        // Scalar output #8 (index 7); reported Lip_MP (naive) and LipSDP-Neuron, seed 0.
        for (file, naiveReported, lipSDP) in [("fnn2", 7.0922492305107205, 5.109714768971892),
                                             ("fnn3", 14.69421048, 9.728613897)] {
            let net = try Files.load("mat/\(file)_seed0_weights.mat")
            #expect(feedforward(net).architecture == (file == "fnn2" ? [64, 32, 10] : [64, 32, 32, 10]))
            let naive = Run.bound(net, "naive", output: 7)
            #expect(abs(naive.value! - naiveReported) <= 1e-8 * naiveReported, "\(file) naive \(naive.value!)")
            let sampled = Run.bound(net, "sampling", output: 7)
            #expect(sampled.value! <= lipSDP * (1 + 1e-9) && sampled.value! > 0.5 * lipSDP, "\(file) sampled \(sampled.value!)")
        }
    }

    @Test func glipSDPConvolution() throws {
        let net = feedforward(try Files.load("mat/cnn2_seed0_weights.mat"))
        #expect(net.architecture == [64, 512, 10])
        #expect(net.layers[0].weight.isSparse)
        // Forward passes against an independent NumPy evaluation of the documented semantics.
        let cases = (Files.json("mat/cnn2_expected.json") as! [String: Any])["cnn2_seed0_weights.mat"] as! [[String: Any]]
        for c in cases {
            let y = net.forward(c["input"] as! [Double])
            #expect(relativeGap(y, c["output"] as! [Double]) < 1e-12)
        }
        // PyTorch (C, H, W) ordering: sampled gradients of output 7 exceed the reported
        // "upper bound" 5.11109, which was computed on a permuted network (see SOURCES.md).
        let sampled = Run.bound(.feedforward(net), "sampling", output: 7)
        let naive = Run.bound(.feedforward(net), "naive", output: 7)
        #expect(sampled.value! > 5.11109 && sampled.value! <= naive.value!)
    }

    @Test func refusals() throws {
        var header = [UInt8](repeating: 0x20, count: 128)
        let text = Array("MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Mon Jan 1 2024 HDF5 schema 1.00 .".utf8)
        header.replaceSubrange(0..<text.count, with: text)
        let hdf5 = Fixtures.temporaryFile("v73.mat", bytes: header + [0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A])
        let e = #expect(throws: InputError.self) { try NetworkLoader.load(path: hdf5) }
        #expect(e?.description.contains("-v7") == true)
        let v4 = Fixtures.temporaryFile("v4.mat", bytes: [0, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0])
        #expect(throws: InputError.self) { try NetworkLoader.load(path: v4) }
        let bytes = Files.bytes("mat/random_weights.mat")
        let cut = Fixtures.temporaryFile("cut.mat", bytes: Array(bytes.prefix(3000)))
        let t = #expect(throws: InputError.self) { try NetworkLoader.load(path: cut) }
        #expect(t?.description.contains("truncated") == true)
        let zbytes = Files.bytes("mat/random_weights_compressed.mat")
        let zcut = Fixtures.temporaryFile("zcut.mat", bytes: Array(zbytes.prefix(zbytes.count - 100)))
        #expect(throws: InputError.self) { try NetworkLoader.load(path: zcut) }
    }
}
