import Foundation
import Testing
import LipscopeTestSupport

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

    // Implicit (equilibrium) nets: the same JSON fields, their own methods, --vnnlib and --radius-search.
    let implicitNet = "\(CLITests.fixtures)/testnets/implicit_n8.json"

    func object(_ r: (status: Int32, stdout: String, stderr: String)) throws -> [String: Any] {
        #expect(r.status == 0, "\(r.stderr)")
        return try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], "\(r.stdout)")
    }

    @Test func implicitNetGivesTheSameJSONFields() throws {
        let o = try object(try cli.run(["certify", implicitNet, "--center", "0.1,-0.2,0.3", "--label", "1", "--radius", "0.001", "--json"]))
        for key in ["verdict", "method", "radius", "margins", "bounds", "lower_margins", "seconds", "unstable_neurons", "certificate",
                    "label", "others", "box_lower_margins", "lipschitz_lower_margins", "sources", "well_posed_by"] {
            #expect(o[key] != nil, "\(key)")
        }
        #expect(o["method"] as? String == "equilibrium", "equilibrium is the default for implicit nets")
        #expect(o["verdict"] as? String == "holds" && o["others"] as? [Int] == [0])
        #expect((o["lower_margins"] as? [Double])?.allSatisfy { $0 > 0 } == true)
        for method in ["box", "contraction"] {
            let m = try object(try cli.run(["certify", implicitNet, "--center", "0.1,-0.2,0.3", "--label", "1", "--radius", "0.001",
                                            "--method", method, "--json"]))
            #expect(m["method"] as? String == method && m["verdict"] as? String == "holds")
        }
        // A large ball: violated, with a counterexample inside it.
        let v = try object(try cli.run(["certify", implicitNet, "--center", "0.1,-0.2,0.3", "--label", "1", "--radius", "3", "--json"]))
        #expect(v["verdict"] as? String == "violated")
        let ce = try #require(v["counterexample"] as? [String: Any])
        let input = try #require(ce["input"] as? [Double])
        #expect(zip(input, [0.1, -0.2, 0.3]).allSatisfy { abs($0 - $1) <= 3 } && ce["class"] as? Int == 0)
    }

    @Test func implicitNetRadiusSearchAndVNNLIB() throws {
        let s = try object(try cli.run(["certify", implicitNet, "--center", "0.1,-0.2,0.3", "--label", "1", "--radius", "0.001",
                                        "--radius-search", "--json"]))
        let r = try #require(s["certified_radius"] as? Double)
        #expect(r >= 0.001)
        let property = Fixtures.temporaryFile("implicit.vnnlib", """
        (declare-const X_0 Real)
        (declare-const X_1 Real)
        (declare-const X_2 Real)
        (declare-const Y_0 Real)
        (declare-const Y_1 Real)
        (assert (>= X_0 0.099))
        (assert (<= X_0 0.101))
        (assert (>= X_1 -0.201))
        (assert (<= X_1 -0.199))
        (assert (>= X_2 0.299))
        (assert (<= X_2 0.301))
        (assert (>= Y_0 Y_1))

        """)
        let o = try object(try cli.run(["certify", implicitNet, "--vnnlib", property, "--json"]))
        #expect(o["verdict"] as? String == "holds" && o["label"] as? Int == 1 && o["others"] as? [Int] == [0])
        #expect(abs((o["radius"] as? Double ?? 0) - 0.001) < 1e-9)
    }

    @Test func methodOfTheOtherKindIsAnErrorNamingTheAcceptedValues() throws {
        let bab = try cli.run(["certify", implicitNet, "--center", "0.1,-0.2,0.3", "--label", "1", "--radius", "0.01", "--method", "bab"])
        #expect(bab.status == 2 && bab.stderr.contains("--method: expected one of equilibrium, box, contraction for an implicit network, found 'bab'"), "\(bab.stderr)")
        let box = try cli.run(["certify", tiny, "--center", "0.1,0.2", "--label", "0", "--radius", "0.1", "--method", "box"])
        #expect(box.status == 2 && box.stderr.contains("--method: expected one of bab, alpha-crown, crown, interval, naive, relaxed-exact for a feedforward network, found 'box'"), "\(box.stderr)")
        let nonsense = try cli.run(["certify", implicitNet, "--center", "0.1,-0.2,0.3", "--label", "1", "--radius", "0.01", "--method", "nope"])
        #expect(nonsense.status != 0 && nonsense.stderr.contains("--method: expected one of") && nonsense.stderr.contains("equilibrium, box, contraction (implicit nets)"), "\(nonsense.stderr)")
    }
}
