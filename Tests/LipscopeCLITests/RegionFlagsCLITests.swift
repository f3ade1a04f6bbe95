import Foundation
import Testing

/// `--center … --radius ε`, `--vnnlib FILE` and `--margin c,j` on bound and compare: the same
/// runs as `--option center=…`, values checked against sampling in the same region, and bad
/// input as exit 2 naming the flag or file.
@Suite struct RegionFlagsCLITests {
    let cli = CLITests()
    let tiny = "\(CLITests.fixtures)/testnets/tiny_relu_1.json"

    func value(_ arguments: [String]) throws -> (value: Double, details: [String: Any]) {
        let r = try cli.run(arguments + ["--json"])
        #expect(r.status == 0, "\(arguments): \(r.stderr)")
        let o = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        return (try #require(o["value"] as? Double), o["details"] as? [String: Any] ?? [:])
    }

    @Test func flagsMatchTheOptionKeysAndSamplingWhereTheNetIsAffine() throws {
        // Around (0.1, 0.2) with radius 0.1 no neuron of tiny_relu_1 switches (the run says so),
        // so the local constant is ‖J(x₀)‖ and sampling in the ball reaches it.
        let flags = try value(["bound", tiny, "--method", "lipsdp-neuron", "--center", "0.1,0.2", "--radius", "0.1"])
        let keys = try value(["bound", tiny, "--method", "lipsdp-neuron", "--option", "center=0.1,0.2", "--option", "radius=0.1"])
        #expect(flags.value == keys.value)
        #expect(flags.details["unstable_neurons"] as? Int == 0)
        let sampled = try value(["bound", tiny, "--method", "sampling", "--center", "0.1,0.2", "--radius", "0.1"])
        #expect(abs(flags.value - sampled.value) <= 1e-6 * flags.value)
        let global = try value(["bound", tiny, "--method", "lipsdp-neuron"])
        #expect(flags.value <= global.value * (1 + 1e-9))

        let margin = try value(["bound", tiny, "--method", "lipsdp-neuron", "--center", "0.1,0.2", "--radius", "0.1", "--margin", "0,1"])
        let marginSampled = try value(["bound", tiny, "--method", "sampling", "--center", "0.1,0.2", "--radius", "0.1", "--margin", "0,1"])
        #expect(margin.details["margin"] as? String == "f_0 − f_1")
        #expect(abs(margin.value - marginSampled.value) <= 1e-6 * margin.value)
    }

    @Test func centerFromAJSONFileAndBoxFromAVNNLIBProperty() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lipscope-region-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let point = dir.appendingPathComponent("x0.json")
        try Data("[0.1, 0.2]\n".utf8).write(to: point)
        let fromFile = try value(["bound", tiny, "--method", "naive", "--norm", "inf", "--center", point.path, "--radius", "0.05"])
        let inline = try value(["bound", tiny, "--method", "naive", "--norm", "inf", "--center", "0.1,0.2", "--radius", "0.05"])
        #expect(fromFile.value == inline.value)

        let net = "\(CLITests.fixtures)/vnncomp2021/mnist-net_256x2.onnx"
        let property = "\(CLITests.fixtures)/vnncomp2021/prop_0_0.03.vnnlib"
        let local = try value(["bound", net, "--method", "naive", "--norm", "inf", "--vnnlib", property, "--margin", "0,1"])
        #expect((local.details["region"] as? String)?.hasPrefix("box of 784 inputs") == true)
        let global = try value(["bound", net, "--method", "naive", "--norm", "inf", "--margin", "0,1"])
        let sampled = try value(["bound", net, "--method", "sampling", "--norm", "inf", "--vnnlib", property, "--margin", "0,1"])
        #expect(sampled.value <= local.value && local.value < global.value)
    }

    @Test func compareOverARegionMarksTheGlobalOnlyMethods() throws {
        let r = try cli.run(["compare", tiny, "--center", "0.1,0.2", "--radius", "0.1", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let o = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let results = try #require(o["results"] as? [[String: Any]])
        // lipsdp-linf answers only the global question: it says so instead of a global number.
        let linf = try #require(results.first { $0["method"] as? String == "lipsdp-linf" })
        #expect(linf["status"] as? String == "not_applicable" && (linf["value"] as? Double) == nil)
        #expect(((linf["details"] as? [String: Any])?["reason"] as? String)?.contains("global only") == true)
        // Every other ℓ2 upper bound is over the ball, where the net is affine with ‖J(x₀)‖₂ = 0.722266
        // (the sampled value above): none is below it, and the global implicit-sdp 1.817 is gone.
        let l2 = results.filter { $0["norm"] as? String == "2" && $0["kind"] as? String == "upper" }
        #expect(l2.count >= 6)
        for row in l2 {
            let v = try #require(row["value"] as? Double, "\(row["method"] ?? "?")")
            #expect(v >= 0.722266 * (1 - 1e-5), "\(row["method"] ?? "?"): \(v)")
        }
        let implicit = try #require(l2.first { $0["method"] as? String == "implicit-sdp" }?["value"] as? Double)
        #expect(abs(implicit - 0.722266) < 1e-4)
    }

    @Test func badRegionFlagsNameTheFlagOrFile() throws {
        let negative = try cli.run(["bound", tiny, "--method", "naive", "--center", "0.1,0.2", "--radius", "-1"])
        #expect(negative.status == 2 && negative.stderr.contains("--radius: expected a finite number ≥ 0, found -1"))
        let wrongSize = try cli.run(["bound", tiny, "--method", "naive", "--center", "1,2,3", "--radius", "0.1"])
        #expect(wrongSize.status == 2 && wrongSize.stderr.contains("--center: expected 2 numbers (one per network input), found 3 numbers"))
        let property = "\(CLITests.fixtures)/vnncomp2021/prop_0_0.03.vnnlib"
        let mismatch = try cli.run(["bound", tiny, "--method", "naive", "--vnnlib", property])
        #expect(mismatch.status == 2 && mismatch.stderr.contains("declare-const X_i: expected 2 inputs (the network's), found 784"))
        let alone = try cli.run(["bound", tiny, "--method", "naive", "--radius", "0.1"])
        #expect(alone.status != 0 && alone.stderr.contains("--radius needs --center"))
        let twice = try cli.run(["bound", tiny, "--method", "naive", "--center", "0.1,0.2", "--radius", "0.1", "--option", "center=0,0"])
        #expect(twice.status != 0 && twice.stderr.contains("option 'center' is set twice"))
    }
}
