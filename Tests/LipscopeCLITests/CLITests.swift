import Foundation
import Testing
import LipscopeTestSupport

/// Runs the real `lipscope` binary: exit statuses and the `--json` contract.
@Suite struct CLITests {
    static let fixtures = Fixtures.root.path

    static func binaryPath() -> String { CLIProcess.binaryPath }

    func run(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        try CLIProcess.run(arguments)
    }

    @Test func boundJSONHasEveryContractField() throws {
        let r = try run(["bound", "\(Self.fixtures)/testnets/tiny_relu_1.json", "--method", "naive", "--norm", "2", "--json"])
        #expect(r.status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        for key in ["method", "norm", "degree", "output", "kind", "value", "certified", "status", "seconds", "iterations", "details"] {
            #expect(object.keys.contains(key), "missing \(key)")
        }
        #expect(object["method"] as? String == "naive" && object["norm"] as? String == "2")
        #expect(abs((object["value"] as! Double) - 4.110333416062645) < 1e-8)
        #expect(object["certified"] as? Bool == true && object["status"] as? String == "optimal")
    }

    @Test func notContractiveExitsZeroWithNullValue() throws {
        let r = try run(["bound", "\(Self.fixtures)/testnets/implicit_weighted_only.json", "--method", "contraction", "--norm", "inf", "--json"])
        #expect(r.status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect(object["status"] as? String == "not_contractive")
        #expect(object["value"] is NSNull)
    }

    @Test func exitStatuses() throws {
        #expect(try run(["bound", "\(Self.fixtures)/testnets/tiny_relu_1.json", "--method", "nope"]).status == 1)
        #expect(try run(["bound", "\(Self.fixtures)/testnets/tiny_relu_1.json", "--method", "naive", "--norm", "7"]).status == 1)
        let missing = try run(["info", "/nonexistent.json"])
        #expect(missing.status == 2 && missing.stderr.contains("/nonexistent.json: expected an existing network file"))
        let failed = try run(["bound", "\(Self.fixtures)/testnets/tiny_relu_1.json", "--method", "naive", "--output", "5", "--json"])
        #expect(failed.status == 3 && failed.stdout.contains("\"status\":\"failed\""))
    }

    /// DSDP prints "Trying Sparse M: …" to stdout whenever its Schur matrix is sparse (as in this
    /// sparse moment SDP); `--json` output must still be exactly one JSON object.
    @Test func jsonStdoutStaysCleanWhenTheSolverPrints() throws {
        let r = try run(["bound", "\(Self.fixtures)/testnets-lipopt/banded_20x20x1.json", "--method", "lipopt-sdp",
                         "--norm", "inf", "--degree", "2", "--cliques", "sparse", "--solver", "dsdp", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let value = try #require(object["value"] as? Double)
        #expect(abs(value - 1.286633875740049) <= 1e-5 * 1.29, "value \(value)")
        #expect(object["certified"] as? Bool == true)
        #expect(r.stderr.contains("Trying Sparse M"), "the chatter went to stderr")
    }

    @Test func solveReadsAnMPSWithEitherCLPAlgorithm() throws {
        for solver in ["clp", "clp-barrier"] {
            let r = try run(["solve", "\(Self.fixtures)/netlib/afiro.mps", "--solver", solver, "--json"])
            #expect(r.status == 0, "\(solver): \(r.stderr)")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
            #expect(object["status"] as? String == "optimal")
            #expect(object["solver"] as? String == solver)
            let objective = try #require(object["objective"] as? Double)
            #expect(abs(objective - -464.75314286) <= 1e-6 * 464.75, "\(solver): \(objective)")
        }
        let wrong = try run(["solve", "\(Self.fixtures)/netlib/afiro.mps", "--solver", "dsdp"])
        #expect(wrong.status == 1 && wrong.stderr.contains("clp-barrier"))
    }

    @Test func helpExitsZero() throws {
        let root = try run(["--help"])
        #expect(root.status == 0 && root.stdout.contains("USAGE: lipscope"))
        let info = try run(["info", "--help"])
        #expect(info.status == 0 && info.stdout.contains("lipscope info"))
        // A command group without a subcommand prints its help from inside `run`, after stdout
        // was separated from library output: it must still reach stdout.
        let bench = try run(["bench"])
        #expect(bench.status == 0 && bench.stdout.contains("USAGE: lipscope bench"), "\(bench.stderr)")
    }

    @Test func compareJSONListsEveryMethodAndTheBestLowerBound() throws {
        let r = try run(["compare", "\(Self.fixtures)/testnets/tiny_relu_2.json", "--json"])
        #expect(r.status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let results = try #require(object["results"] as? [[String: Any]])
        let methods = Set(results.map { $0["method"] as! String })
        #expect(methods.isSuperset(of: ["naive", "sampling", "relaxed-exact", "contraction", "contraction-weighted"]))
        let lower = try #require(object["best_lower"] as? [String: Double])
        #expect(lower["2"]! > 0 && lower["inf"]! > 0)
        // exact closes its gap on this 8-neuron net: the exact value is the best lower bound.
        let exact = try #require(object["exact"] as? [String: Double])
        #expect(exact["2"] == lower["2"] && exact["inf"] == lower["inf"])
        let text = try run(["compare", "\(Self.fixtures)/testnets/tiny_relu_2.json", "--norm", "inf"])
        #expect(text.stdout.contains("÷ exact"))
    }

    /// A method predicted to exceed `--budget` is listed as over_budget with its estimate, not
    /// run; `--include` runs it anyway; rows come cheapest predicted first; every run's details
    /// carry its prediction beside the actual time.
    @Test func compareBudgetSkipsPredictedSlowMethodsUnlessIncluded() throws {
        let net = "\(Self.fixtures)/testnets/tiny_relu_2.json"
        let r = try run(["compare", net, "--norm", "2", "--budget", "0.0001", "--include", "naive", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let results = try #require(object["results"] as? [[String: Any]])
        for row in results {
            let details = row["details"] as? [String: Any] ?? [:]
            let status = row["status"] as! String
            if row["method"] as? String == "naive" {
                #expect(status == "optimal" && row["certified"] as? Bool == true)
                #expect((details["predicted_seconds"] as? Double ?? 0) > 0)
            } else if status != "not_applicable", status != "too_large" {
                #expect(status == "over_budget", "\(row)")
                #expect((details["reason"] as? String)?.contains("over the") == true)
                #expect(details["budget_seconds"] as? Double == 0.0001)
            }
        }
        let predicted = results.compactMap { ($0["details"] as? [String: Any])?["predicted_seconds"] as? Double }
        #expect(predicted == predicted.sorted(), "rows not cheapest first: \(predicted)")
        let text = try run(["compare", net, "--norm", "2", "--budget", "0.0001"])
        #expect(text.stdout.contains("over budget (not run)"))
        #expect(text.stdout.contains("~"))
        let bad = try run(["compare", net, "--budget", "soon"])
        #expect(bad.status != 0 && bad.stderr.contains("--budget"))
    }

    /// `convert` writes a conv net's sparse Toeplitz layers as CSR; `bound` on the JSON gives
    /// the ONNX file's values (to rounding: the two paths compute the conv norm differently).
    @Test func convertKeepsAConvNetsBounds() throws {
        let onnx = "\(Self.fixtures)/networks/onnx/synthetic_conv_bn_pool.onnx"
        let json = Fixtures.temporaryFile("conv.json", "")
        let converted = try run(["convert", onnx, json, "--force"])
        #expect(converted.status == 0, "\(converted.stderr)")
        let root = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [String: Any])
        let layers = try #require(root["layers"] as? [[String: Any]])
        #expect(layers.contains { ($0["weight"] as? [String: Any])?["row_start"] != nil }, "no CSR layer written")
        for norm in ["2", "inf"] {
            func value(_ file: String) throws -> Double? {
                let r = try run(["bound", file, "--method", "naive", "--norm", norm, "--json"])
                let object = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
                return object?["value"] as? Double
            }
            // The ONNX conv layer's ℓ2 norm comes from its banded Gram (structure known), the
            // CSR layer's from a dense SVD: two certified computations of the same norm.
            let original = try #require(try value(onnx))
            let converted = try #require(try value(json))
            #expect(abs(converted - original) <= 1e-9 * original, "norm \(norm): \(converted) vs \(original)")
        }
    }

    @Test func infoDescribesImplicitWellPosedness() throws {
        let r = try run(["info", "\(Self.fixtures)/testnets/implicit_weighted_only.json"])
        #expect(r.status == 0)
        #expect(r.stdout.contains("kind        implicit"))
        #expect(r.stdout.contains("well-posed  yes"))
    }
}
