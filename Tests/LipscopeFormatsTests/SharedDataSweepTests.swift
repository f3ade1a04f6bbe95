import Foundation
import LipscopeEngine
import Testing

/// Acceptance sweep over ../shared/data/networks (skipped when it is absent): every network
/// file of the formats this target reads loads, or is refused with an InputError; the refusals
/// are exactly the expected ones.
@Suite struct SharedDataSweepTests {
    @Test(.enabled(if: Files.shared != nil)) func everyFileLoadsOrIsRefused() throws {
        let root = Files.shared!
        let files = FileManager.default.enumerator(atPath: root)!.compactMap { $0 as? String }
            .filter { ["onnx", "mat", "npz", "pt"].contains(URL(fileURLWithPath: $0).pathExtension) }.sorted()
        #expect(files.count >= 70)
        var refused: [String: String] = [:]
        for f in files {
            switch loadOrInputError("\(root)/\(f)") {
            case .success(let net): #expect(net.inputSize > 0 && net.outputSize > 0)
            case .failure(let e): refused[f] = e.description
            case nil: Issue.record("\(f): an error that is not an InputError")
            }
        }
        let expectedRefusals: [String: String] = [
            "other/glipsdp_digits/lipschitz_summary_all_models.mat": "all_results (a struct)",
            "other/glipsdp_digits/test_accuracy_summary.mat": "expected network weights",
            "other/mondeq_lipschitz/dnn_d10.pt": "PyTorch pickle",
            "other/mondeq_lipschitz/dnn_d3.pt": "PyTorch pickle",
            "other/mondeq_lipschitz/mon_h40_m20.0.pt": "PyTorch pickle",
            "other/monotone_op_net/mnist_fc_model_trained.pt": "PyTorch pickle",
        ]
        #expect(Set(refused.keys) == Set(expectedRefusals.keys), "\(refused)")
        for (f, phrase) in expectedRefusals { #expect(refused[f]?.contains(phrase) == true, "\(f): \(refused[f] ?? "loaded")") }
    }
}
