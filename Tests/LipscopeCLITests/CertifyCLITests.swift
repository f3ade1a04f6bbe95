import Foundation
import Testing

/// `lipscope certify`: the JSON contract, and bad input as exit 2 naming the field or file/line.
@Suite struct CertifyCLITests {
    let cli = CLITests()
    let tiny = "\(CLITests.fixtures)/testnets/tiny_relu_1.json"

    @Test func centerLabelRadiusGivesAVerdictInJSON() throws {
        let r = try cli.run(["certify", tiny, "--center", "0.1,0.2", "--label", "0", "--radius", "0.1", "--json"])
        #expect(r.status == 0)
        let o = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        for key in ["verdict", "method", "radius", "margins", "bounds", "seconds"] { #expect(o[key] != nil, "\(key)") }
        #expect(o["method"] as? String == "bab", "bab is the default method")
        #expect(["holds", "violated", "unknown"].contains(o["verdict"] as? String ?? ""))
    }

    @Test func badInputIsExitTwoNamingTheField() throws {
        let negative = try cli.run(["certify", tiny, "--center", "0.1,0.2", "--label", "0", "--radius", "-1"])
        #expect(negative.status == 2 && negative.stderr.contains("--radius: expected a finite number ≥ 0, found -1"))
        let wrongSize = try cli.run(["certify", tiny, "--center", "1,2,3", "--label", "0", "--radius", "0.1"])
        #expect(wrongSize.status == 2 && wrongSize.stderr.contains("--center: expected 2 numbers (one per network input), found 3 numbers"))
        let property = "\(CLITests.fixtures)/vnncomp2021/prop_0_0.03.vnnlib"
        let mismatch = try cli.run(["certify", tiny, "--vnnlib", property])
        #expect(mismatch.status == 2 && mismatch.stderr.contains("prop_0_0.03.vnnlib: declare-const X_i: expected 2 inputs (the network's), found 784"))
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lipscope-certify-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let bad = dir.appendingPathComponent("bad.vnnlib")
        try Data("(declare-const X_0 Real)\n(declare-const X_1 Real)\n(assert (and (>= X_0 0) (<= X_0 1)))\n".utf8).write(to: bad)
        let unsupported = try cli.run(["certify", tiny, "--vnnlib", bad.path])
        #expect(unsupported.status == 2 && unsupported.stderr.contains("bad.vnnlib: line 3:") && unsupported.stderr.contains("unsupported property"))
    }
}
