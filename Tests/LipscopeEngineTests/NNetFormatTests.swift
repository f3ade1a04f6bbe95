import Foundation
import Testing
@testable import LipscopeEngine
import LipscopeLinearAlgebra
import LipscopeTestSupport

@Suite struct NNetFormatTests {
    static let acasFiles: [String] = {
        let dir = Fixtures.path("nnet/acasxu")
        return ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasSuffix(".nnet") }.sorted()
    }()

    @Test func all45AcasXuNetworksLoadWithTheirArchitecture() throws {
        #expect(Self.acasFiles.count == 45)
        for file in Self.acasFiles {
            guard case .feedforward(let net) = try Fixtures.load("nnet/acasxu/\(file)") else {
                Issue.record("\(file) is not feedforward"); continue
            }
            #expect(net.architecture == [5, 50, 50, 50, 50, 50, 50, 5], "\(file)")
            #expect(net.parameterCount == 13_305, "\(file)")
            #expect(net.layers.dropLast().allSatisfy { $0.activation == .relu })
            #expect(net.layers.last?.activation == .identity)
            #expect(net.inputNormalization?.means.count == 6)
        }
    }

    /// The closed-form, enumeration, sampling and contraction methods on all 45 networks. The SDP
    /// methods take tens of seconds per ACAS Xu net in a debug build (a 305-wide LMI), so this
    /// test leaves them to `lipscope compare` / `lipscope bench compare`.
    static let quickMethods = MethodRegistry.all.filter {
        ["naive", "sampling", "relaxed-exact", "contraction", "contraction-weighted"].contains($0.id)
    }

    @Test func compareRunsOnEveryAcasXuNetwork() throws {
        for file in Self.acasFiles {
            let net = try Fixtures.load("nnet/acasxu/\(file)")
            let c = Comparison.run(net, norms: Norm.allCases, request: { BoundRequest(network: $0, norm: $1) },
                                   methods: Self.quickMethods)
            #expect(c.results.count == 8)
            let naive = try #require(c.results.first { $0.method == "naive" && $0.norm == .l2 }?.value)
            let lower = try #require(c.bestLower(.l2))
            #expect(lower > 0 && lower <= naive, "\(file): sampled \(lower) vs naive \(naive)")
            #expect(NetworkSummary(net).notes.contains { $0.contains("normalized inputs") })
        }
    }

    @Test func acasXu11NaiveMatchesPublishedLayerNorms() throws {
        // networks/nnet/SOURCES.md: product of layer spectral norms for 1_1 is 2.879e7.
        let net = try Fixtures.load("nnet/acasxu/ACASXU_run2a_1_1_batch_2000.nnet")
        let r = Job.run(NaiveBound(), BoundRequest(network: net, norm: .l2))
        #expect(abs(r.value! / 2.879e7 - 1) < 1e-3)
    }

    @Test func handCheckedForwardPasses() throws {
        // 2-2-3: W1 = [[1,1],[-1,-1]], W2 = [[2,-1],[-1,1],[1,-1]], zero biases.
        let fc = try Fixtures.load("nnet/small/marabou_fc_2-2-3.nnet")
        #expect(fc.forward([3, 1]) == [8, -4, 4])
        #expect(fc.forward([-1, -2]) == [-3, 3, -3])
        // NeuralVerification.jl header variant, 1-2-2-1: W1 = [1;1], b1 = 1.5; W2 = 2s, b2 = 2.5; W3 = [3 3], b3 = 3.5.
        let small = try Fixtures.load("nnet/small/nonstandard_header/nvjl_small_nnet.nnet")
        #expect(small.forward([1]) == [78.5])
        #expect(small.forward([-2]) == [18.5])
        let r2 = try Fixtures.load("nnet/small/nonstandard_header/nvjl_R2_R2.nnet")
        // W1 = [[1,1],[-1,1]], b1 = -1; W2 = I, b2 = 0.
        #expect(r2.forward([2, 1]) == [2, 0])
        #expect(r2.forward([0, 3]) == [2, 2])
    }

    @Test func acasXuMatchesTheNNetRepositoryCopyOfTheSameWeights() throws {
        // sisl/NNet's TestNetwork.nnet holds the weights of ACAS Xu 1_1 (written with fewer digits
        // in its header only): both files must give the same function.
        let a = try Fixtures.load("nnet/acasxu/ACASXU_run2a_1_1_batch_2000.nnet")
        let b = try Fixtures.load("nnet/small/sislnnet_TestNetwork.nnet")
        var rng = SeededGenerator(seed: 7)
        for _ in 0..<20 {
            let x = (0..<5).map { _ in rng.uniform(-0.5, 0.5) }
            for (u, v) in zip(a.forward(x), b.forward(x)) { #expect(abs(u - v) <= 1e-9 * max(1, abs(u))) }
        }
    }

    @Test func forwardPassMatchesAPlainLoopEvaluation() throws {
        // The engine's BLAS path against the format's semantics written out: row-major weights,
        // ReLU on hidden layers, affine output.
        let text = try String(contentsOfFile: Fixtures.path("nnet/acasxu/ACASXU_run2a_2_3_batch_2000.nnet"), encoding: .utf8)
        let numbers = text.split(separator: "\n").filter { !$0.hasPrefix("//") }.dropFirst(7)
            .flatMap { $0.split(separator: ",").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) } }
        let sizes = [5, 50, 50, 50, 50, 50, 50, 5]
        let net = try Fixtures.load("nnet/acasxu/ACASXU_run2a_2_3_batch_2000.nnet")
        for x0 in [[0.1, -0.2, 0.3, -0.4, 0.5], [-0.3, 0.45, -0.1, 0.2, 0.0]] {
            var cursor = numbers.startIndex
            var h = x0
            for k in 0..<(sizes.count - 1) {
                var out = [Double](repeating: 0, count: sizes[k + 1])
                for i in 0..<sizes[k + 1] {
                    for j in 0..<sizes[k] { out[i] += numbers[cursor] * h[j]; cursor += 1 }
                }
                for i in 0..<sizes[k + 1] { out[i] += numbers[cursor]; cursor += 1 }
                h = k == sizes.count - 2 ? out : out.map { max(0, $0) }
            }
            #expect(cursor == numbers.endIndex)
            for (u, v) in zip(net.forward(x0), h) { #expect(abs(u - v) <= 1e-9 * max(1, abs(v))) }
        }
    }
}
