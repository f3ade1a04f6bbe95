import Foundation
import Testing
import LipscopeTestSupport

/// `lipscope train` as a user runs it: exit statuses, errors and the `--json` fields.
@Suite struct TrainCLITests {
    func run(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        try CLIProcess.run(arguments, in: Fixtures.repository)
    }

    @Test func jsonHasTheContractFields() throws {
        let out = TrainingFixtures.scratchDirectory().appendingPathComponent("net.json").path
        let r = try run(["train", "--data", "digits", "--hidden", "8", "--epochs", "1", "--gamma", "0.4", "--out", out, "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        for key in ["train_accuracy", "test_accuracy", "mu_inf", "lipschitz_bound", "epochs", "seconds", "network", "status", "history"] {
            #expect(object.keys.contains(key), "missing \(key)")
        }
        #expect(object["network"] as? String == out && FileManager.default.fileExists(atPath: out))
        #expect((object["mu_inf"] as! Double) <= 0.4)
        #expect(object["epochs"] as? Int == 1 && object["status"] as? String == "finished")
        #expect((object["lipschitz_bound"] as! Double) > 0)
    }

    @Test func badDataIsAnInputErrorNamingTheLine() throws {
        let csv = TrainingFixtures.file("bad.csv", bytes: Array("1,2,0\n3,4\n".utf8))
        let r = try run(["train", "--data", csv, "--out", "/dev/null"])
        #expect(r.status == 2)
        #expect(r.stderr.contains(csv) && r.stderr.contains("line 2"))
    }

    @Test func invalidSettingsAreUsageErrors() throws {
        #expect(try run(["train", "--gamma", "1.5", "--out", "/dev/null"]).status == 1)
        #expect(try run(["train", "--lambda-sweep", "0,x", "--out", "/dev/null"]).status == 1)
        #expect(try run(["train", "--param", "monotone", "--lambda", "0.1", "--out", "/dev/null"]).status == 1)
    }
}
