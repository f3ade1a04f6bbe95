import Foundation
import Testing

/// `lipscope batch`: sharding, resuming after a kill, merging, and bad job lines, on the real binary.
@Suite struct BatchTests {
    /// A scratch directory with copies of the fixture nets under `nets/` (jobs name them relatively).
    final class Scratch {
        let url: URL
        init(_ nets: [String]) throws {
            url = FileManager.default.temporaryDirectory.appendingPathComponent("lipscope-batch-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: url.appendingPathComponent("nets"), withIntermediateDirectories: true)
            for net in nets {
                try FileManager.default.copyItem(atPath: "\(CLITests.fixtures)/testnets/\(net)",
                                                 toPath: url.appendingPathComponent("nets/\(net)").path)
            }
        }
        deinit { try? FileManager.default.removeItem(at: url) }
        func path(_ name: String) -> String { url.appendingPathComponent(name).path }
        func write(_ name: String, _ text: String) throws { try text.write(toFile: path(name), atomically: true, encoding: .utf8) }
        func read(_ name: String) throws -> String { try String(contentsOfFile: path(name), encoding: .utf8) }
    }

    /// Starts the binary with stdout and stderr going to files (nothing can block on a full pipe).
    static func start(_ arguments: [String], in scratch: Scratch, tag: String) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CLITests.binaryPath())
        process.arguments = arguments
        process.currentDirectoryURL = scratch.url
        FileManager.default.createFile(atPath: scratch.path("\(tag).stdout"), contents: nil)
        FileManager.default.createFile(atPath: scratch.path("\(tag).stderr"), contents: nil)
        process.standardOutput = FileHandle(forWritingAtPath: scratch.path("\(tag).stdout"))
        process.standardError = FileHandle(forWritingAtPath: scratch.path("\(tag).stderr"))
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return process
    }

    static func run(_ arguments: [String], in scratch: Scratch) throws -> (status: Int32, stdout: String, stderr: String) {
        let tag = "run-\(UUID().uuidString)"
        let process = try start(arguments, in: scratch, tag: tag)
        process.waitUntilExit()
        return (process.terminationStatus, try scratch.read("\(tag).stdout"), try scratch.read("\(tag).stderr"))
    }

    /// The complete (newline-terminated) lines of a results file, parsed.
    static func results(_ scratch: Scratch, _ name: String) throws -> [[String: Any]] {
        let text = try scratch.read(name)
        return try text.split(separator: "\n", omittingEmptySubsequences: true).map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
    }

    static func completeLines(_ path: String) -> Int {
        guard let data = FileManager.default.contents(atPath: path) else { return 0 }
        return data.filter { $0 == 0x0A }.count
    }

    static func index(_ result: [String: Any]) -> Int { ((result["job"] as! [String: Any])["index"] as! NSNumber).intValue }

    static let nets = ["tiny_relu_1.json", "tiny_relu_2.json", "tiny_tanh.json", "tiny_leaky.json", "small_relu_20.json",
                       "implicit_n5.json", "implicit_weighted_only.json"]

    /// 20 jobs: fast methods on small nets, both norms, one job with method options, one with an
    /// output, one with a seed, two that end in a non-optimal status, and one slow job (index 4:
    /// relaxed-exact over the 2^20 slope patterns of small_relu_20, seconds in a debug build) that
    /// is the third job of shard 0/2, so a kill after that shard's first two results lands in it.
    static let jobs: [String] = [
        #"{"network": "nets/tiny_relu_1.json", "method": "naive", "norm": "2"}"#,
        #"{"network": "nets/tiny_relu_1.json", "method": "naive", "norm": "inf"}"#,
        #"{"network": "nets/tiny_relu_1.json", "method": "relaxed-exact", "norm": "2"}"#,
        #"{"network": "nets/tiny_relu_1.json", "method": "sampling", "norm": "inf", "seed": 7}"#,
        #"{"network": "nets/small_relu_20.json", "method": "relaxed-exact", "norm": "2"}"#,
        #"{"network": "nets/tiny_relu_2.json", "method": "naive", "norm": "2"}"#,
        #"{"network": "nets/tiny_relu_2.json", "method": "relaxed-exact", "norm": "inf"}"#,
        #"{"network": "nets/tiny_relu_2.json", "method": "sampling", "norm": "2"}"#,
        #"{"network": "nets/tiny_tanh.json", "method": "naive", "norm": "inf"}"#,
        #"{"network": "nets/tiny_tanh.json", "method": "relaxed-exact", "norm": "2"}"#,
        #"{"network": "nets/tiny_tanh.json", "method": "sampling", "norm": "inf"}"#,
        #"{"network": "nets/implicit_n5.json", "method": "contraction-weighted", "norm": "inf"}"#,
        #"{"network": "nets/implicit_n5.json", "method": "contraction", "norm": "inf"}"#,
        #"{"network": "nets/implicit_n5.json", "method": "sampling", "norm": "2"}"#,
        #"{"network": "nets/implicit_weighted_only.json", "method": "contraction-weighted", "norm": "inf"}"#,
        #"{"network": "nets/implicit_weighted_only.json", "method": "contraction", "norm": "inf"}"#,
        #"{"network": "nets/tiny_relu_1.json", "method": "lipsdp-neuron", "norm": "2", "options": {"chordal": "off", "solver": "dsdp"}}"#,
        #"{"network": "nets/tiny_relu_2.json", "method": "relaxed-exact", "norm": "2", "output": 1}"#,
        #"{"network": "nets/tiny_leaky.json", "method": "relaxed-exact", "norm": "inf"}"#,
        #"{"network": "nets/tiny_relu_1.json", "method": "contraction-weighted", "norm": "2"}"#,
    ]

    /// The oracle's value (Tests/Fixtures/testnets/expected.json, independent Python) for a job, if it has one.
    static func oracle(_ net: String, _ method: String, _ norm: String) throws -> (value: Double?, check: String)? {
        let data = try Data(contentsOf: URL(fileURLWithPath: "\(CLITests.fixtures)/testnets/expected.json"))
        let root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let cases = try #require(root["cases"] as? [[String: Any]])
        guard let entry = cases.first(where: { $0["file"] as? String == net }),
              let checks = entry["checks"] as? [String: Any], let byNorm = checks[method] as? [String: Any],
              let check = byNorm[norm == "2" ? "l2" : "linf"] as? [String: Any] else { return nil }
        return (check["value"] as? Double, check["check"] as! String)
    }

    @Test func shardKilledAndResumedMergesToTheUninterruptedRun() throws {
        let scratch = try Scratch(Self.nets)
        try scratch.write("jobs.jsonl", Self.jobs.joined(separator: "\n") + "\n")

        // One uninterrupted run of all 20 jobs.
        let whole = try Self.run(["batch", "jobs.jsonl", "--out", "all.jsonl"], in: scratch)
        #expect(whole.status == 0, "\(whole.stderr)")
        let reference = try Self.results(scratch, "all.jsonl")
        #expect(reference.map(Self.index) == Array(0..<20))

        // Shard 1/2 runs through; shard 0/2 is SIGKILLed once its first two results are on disk
        // (it is then inside the slow job 4).
        let one = try Self.run(["batch", "jobs.jsonl", "--out", "res.1.jsonl", "--shard", "1/2"], in: scratch)
        #expect(one.status == 0, "\(one.stderr)")
        let killed = try Self.start(["batch", "jobs.jsonl", "--out", "res.0.jsonl", "--shard", "0/2"], in: scratch, tag: "killed")
        let deadline = Date().addingTimeInterval(120)
        while Self.completeLines(scratch.path("res.0.jsonl")) < 2, killed.isRunning, Date() < deadline { usleep(5_000) }
        kill(killed.processIdentifier, SIGKILL)
        killed.waitUntilExit()
        #expect(killed.terminationReason == .uncaughtSignal, "shard 0 finished before the kill; the slow job is too fast")
        let survived = try Self.results(scratch, "res.0.jsonl")
        #expect(survived.count >= 2 && survived.count < 10, "\(survived.count) results survived the kill")
        #expect(survived.map(Self.index) == Array(stride(from: 0, to: 2 * survived.count, by: 2)))
        // A kill in the middle of a write leaves an unterminated fragment: the resume must cut it.
        let handle = try #require(FileHandle(forWritingAtPath: scratch.path("res.0.jsonl")))
        handle.seekToEndOfFile()
        handle.write(Data(#"{"batch":{"jobs":20,"shard":"0/2"},"certified":tr"#.utf8))
        try handle.close()

        let resumed = try Self.run(["batch", "jobs.jsonl", "--out", "res.0.jsonl", "--shard", "0/2"], in: scratch)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stderr.contains("cut off an incomplete last line"), "\(resumed.stderr)")
        #expect(resumed.stderr.contains("shard 0/2: 10 jobs, \(survived.count) already in res.0.jsonl, \(10 - survived.count) to run"),
                "\(resumed.stderr)")
        #expect(resumed.stderr.components(separatedBy: "done] job ").count - 1 == 10 - survived.count, "only unfinished jobs ran")
        let shard0 = try Self.results(scratch, "res.0.jsonl")
        #expect(shard0.map(Self.index) == Array(stride(from: 0, to: 20, by: 2)))
        #expect(try scratch.read("res.0.jsonl").hasSuffix("}\n"))

        // A second resume finds every job of the shard done and runs none.
        let again = try Self.run(["batch", "jobs.jsonl", "--out", "res.0.jsonl", "--shard", "0/2"], in: scratch)
        #expect(again.status == 0)
        #expect(again.stderr.contains("10 jobs, 10 already in res.0.jsonl, 0 to run"), "\(again.stderr)")
        #expect(Self.completeLines(scratch.path("res.0.jsonl")) == 10)

        // Merged (files given in reverse order): job order, and the same values and statuses as the single run.
        let merge = try Self.run(["batch", "--merge", "res.1.jsonl", "res.0.jsonl", "--json"], in: scratch)
        #expect(merge.status == 0, "\(merge.stderr)")
        let merged = try #require(try JSONSerialization.jsonObject(with: Data(merge.stdout.utf8)) as? [String: Any])
        #expect(merged["jobs"] as? Int == 20 && (merged["missing"] as? [Int]) == [] && merged["duplicates"] as? Int == 0)
        let rows = try #require(merged["results"] as? [[String: Any]])
        #expect(rows.map(Self.index) == Array(0..<20))
        for (row, ref) in zip(rows, reference) {
            let i = Self.index(row)
            for key in ["method", "norm", "status", "kind"] {
                #expect(row[key] as? String == ref[key] as? String, "job \(i) \(key)")
            }
            #expect(row["certified"] as? Bool == ref["certified"] as? Bool, "job \(i)")
            #expect(row["output"] as? Int == ref["output"] as? Int, "job \(i)")
            if let a = row["value"] as? Double, let b = ref["value"] as? Double {
                #expect(abs(a - b) <= 1e-12 * max(1, abs(b)), "job \(i): \(a) vs \(b)")
            } else {
                #expect(row["value"] is NSNull && ref["value"] is NSNull, "job \(i): value")
            }
            #expect(NSDictionary(dictionary: row["job"] as! [String: Any]).isEqual(to: ref["job"] as! [String: Any]))
        }

        // The values themselves, against the independent oracle (expected.json) where it has them.
        var checked = 0
        for row in rows {
            let job = row["job"] as! [String: Any]
            guard job["output"] == nil, let net = (job["network"] as? String)?.replacingOccurrences(of: "nets/", with: ""),
                  let oracle = try Self.oracle(net, row["method"] as! String, row["norm"] as! String) else { continue }
            let (value, check) = oracle
            let got = row["value"] as? Double
            switch check {
            case "approx": #expect(abs(got! - value!) <= 1e-6 * abs(value!) + 1e-9, "\(net) \(row["method"]!) \(row["norm"]!)")
            case "optimum": #expect(got! >= value! * (1 - 1e-6) && got! <= value! * 1.01, "\(net) \(row["method"]!)")
            case "lower_bound": #expect(got! <= value! * (1 + 1e-6) && got! >= 0.5 * value!, "\(net) sampling \(row["norm"]!)")
            case "status": #expect(got == nil && row["status"] as? String == "not_contractive", "\(net) \(row["method"]!)")
            default: continue
            }
            checked += 1
        }
        #expect(checked >= 15, "only \(checked) results had an oracle value")
        // lipsdp-neuron ran with the job's options and matches the oracle to its SDP tolerance.
        let sdp = rows[16]
        #expect((sdp["details"] as? [String: Any])?["chordal_setting"] as? String == "off")
        #expect(abs((sdp["value"] as! Double) - 1.8169737978016054) <= 1e-3 * 1.817)
        #expect(rows[19]["status"] as? String == "not_applicable" && rows[12]["status"] as? String == "optimal")
    }

    @Test func resultLineIsTheBoundObjectPlusTheJob() throws {
        let scratch = try Scratch(["tiny_relu_2.json"])
        try scratch.write("jobs.jsonl", #"{"network": "nets/tiny_relu_2.json", "method": "relaxed-exact", "norm": "2", "output": 1}"# + "\n")
        let batch = try Self.run(["batch", "jobs.jsonl", "--out", "r.jsonl"], in: scratch)
        #expect(batch.status == 0, "\(batch.stderr)")
        let bound = try Self.run(["bound", "nets/tiny_relu_2.json", "--method", "relaxed-exact", "--norm", "2", "--output", "1", "--json"], in: scratch)
        #expect(bound.status == 0)
        var line = try #require(Self.results(scratch, "r.jsonl").first)
        var single = try #require(try JSONSerialization.jsonObject(with: Data(bound.stdout.utf8)) as? [String: Any])
        let job = try #require(line.removeValue(forKey: "job") as? [String: Any])
        #expect(NSDictionary(dictionary: job).isEqual(to: ["network": "nets/tiny_relu_2.json", "method": "relaxed-exact", "norm": "2", "output": 1, "index": 0]))
        #expect(NSDictionary(dictionary: line.removeValue(forKey: "batch") as! [String: Any]).isEqual(to: ["jobs": 1, "shard": "0/1"]))
        #expect(Set(line.keys) == Set(single.keys))
        line["seconds"] = nil; single["seconds"] = nil
        let canonical = { (object: [String: Any]) in
            String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
        }
        #expect(try canonical(line) == canonical(single))
    }

    @Test func mergeOrdersByJobCountsDuplicatesOnceAndReportsMissing() throws {
        let scratch = try Scratch(["tiny_relu_1.json"])
        let lines = (0..<6).map { i in
            #"{"network": "nets/tiny_relu_1.json", "method": "\#(i % 2 == 0 ? "naive" : "relaxed-exact")", "norm": "\#(i < 3 ? "2" : "inf")"}"#
        }
        try scratch.write("jobs.jsonl", lines.joined(separator: "\n") + "\n")
        for shard in ["0/3", "1/3"] {
            let r = try Self.run(["batch", "jobs.jsonl", "--out", "s\(shard.prefix(1)).jsonl", "--shard", shard], in: scratch)
            #expect(r.status == 0, "\(r.stderr)")
        }
        // Shard 1's file given first, shard 0's twice (a re-run into a second file).
        try FileManager.default.copyItem(atPath: scratch.path("s0.jsonl"), toPath: scratch.path("s0-again.jsonl"))
        let json = try Self.run(["batch", "--merge", "s1.jsonl", "s0.jsonl", "s0-again.jsonl", "--json"], in: scratch)
        #expect(json.status == 0, "\(json.stderr)")
        let merged = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(merged["jobs"] as? Int == 6)
        #expect(merged["missing"] as? [Int] == [2, 5])
        #expect(merged["duplicates"] as? Int == 2)
        let rows = try #require(merged["results"] as? [[String: Any]])
        #expect(rows.map(Self.index) == [0, 1, 3, 4])
        // naive ℓ2 and relaxed-exact ℓ∞ of tiny_relu_1 (oracle values).
        #expect(abs((rows[0]["value"] as! Double) - 4.110333416062645) <= 1e-6 * 4.11)
        #expect(abs((rows[1]["value"] as! Double) - 1.7362542382436006) <= 1e-6 * 1.74)
        #expect(json.stderr.contains("4 of 6 jobs have results, 2 duplicate lines counted once; missing 2: jobs 2, 5"), "\(json.stderr)")

        let table = try Self.run(["batch", "--merge", "s1.jsonl", "s0.jsonl"], in: scratch)
        #expect(table.status == 0)
        let body = table.stdout.split(separator: "\n").dropFirst(2)
        #expect(body.map { $0.split(separator: " ").first.map(String.init) ?? "" } == ["0", "1", "2", "3", "4", "5"])
        #expect(body.map { $0.contains("missing") } == [false, false, true, false, false, true])
        #expect(body.first?.contains("4.110333") == true)
    }

    @Test func malformedJobLinesErrorWithFileLineAndFieldBeforeAnythingRuns() throws {
        let scratch = try Scratch(["tiny_relu_1.json"])
        try scratch.write("jobs.jsonl", [
            #"{"network": "nets/tiny_relu_1.json", "method": "naive", "norm": "2"}"#,
            #"{"network": "nets/tiny_relu_1.json", "method": "naive", "norm": "2""#,
            #"{"network": "nets/tiny_relu_1.json", "method": "lipsdp-neuron", "norm": "2", "options": {"solver": "mosek"}}"#,
            #"{"network": "nets/nope.json", "method": "naive", "norm": "2"}"#,
            "",
            #"{"network": "nets/tiny_relu_1.json", "method": "naive", "norm": "7"}"#,
        ].joined(separator: "\n") + "\n")
        let r = try Self.run(["batch", "jobs.jsonl", "--out", "r.jsonl"], in: scratch)
        #expect(r.status == 2)
        #expect(r.stderr.contains("jobs.jsonl:2: expected a JSON object (one job per line), found text that is not JSON"), "\(r.stderr)")
        #expect(r.stderr.contains(#"jobs.jsonl:3: field "options.solver": expected structured, dsdp, csdp or factored for lipsdp-neuron, found "mosek""#), "\(r.stderr)")
        #expect(r.stderr.contains(#"jobs.jsonl:4: field "network": expected an existing network file, found no such file"#), "\(r.stderr)")
        #expect(r.stderr.contains(#"jobs.jsonl:6: field "norm": expected "2" or "inf", found "7""#), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: scratch.path("r.jsonl")), "nothing ran, no results file")

        // A network that exists but does not parse, and an output it does not have: also before any job runs.
        try scratch.write("broken.json", #"{"format": "lipscope.network", "version": 1, "kind": "feedforward"}"#)
        try scratch.write("jobs2.jsonl", [
            #"{"network": "nets/tiny_relu_1.json", "method": "naive", "norm": "2"}"#,
            #"{"network": "broken.json", "method": "naive", "norm": "2"}"#,
            #"{"network": "nets/tiny_relu_1.json", "method": "naive", "norm": "2", "output": 2}"#,
        ].joined(separator: "\n") + "\n")
        let r2 = try Self.run(["batch", "jobs2.jsonl", "--out", "r.jsonl"], in: scratch)
        #expect(r2.status == 2)
        #expect(r2.stderr.contains(#"jobs2.jsonl:2: field "network": expected a network file lipscope reads, found "#), "\(r2.stderr)")
        #expect(r2.stderr.contains(#"jobs2.jsonl:3: field "output": expected an output index from 0 to 1"#), "\(r2.stderr)")
        #expect(!FileManager.default.fileExists(atPath: scratch.path("r.jsonl")))

        // Shard indices are 0-based.
        let shard = try Self.run(["batch", "jobs2.jsonl", "--out", "r.jsonl", "--shard", "2/2"], in: scratch)
        #expect(shard.status == 1 && shard.stderr.contains("expected a 0-based index I from 0 to 1, found 2"), "\(shard.stderr)")
    }

    @Test func resumeRefusesResultsOfAnotherJobsFile() throws {
        let scratch = try Scratch(["tiny_relu_1.json"])
        try scratch.write("jobs.jsonl", #"{"network": "nets/tiny_relu_1.json", "method": "naive", "norm": "2"}"# + "\n")
        #expect(try Self.run(["batch", "jobs.jsonl", "--out", "r.jsonl"], in: scratch).status == 0)
        try scratch.write("jobs.jsonl", #"{"network": "nets/tiny_relu_1.json", "method": "naive", "norm": "inf"}"# + "\n")
        let r = try Self.run(["batch", "jobs.jsonl", "--out", "r.jsonl"], in: scratch)
        #expect(r.status == 2)
        #expect(r.stderr.contains(#"r.jsonl:1: field "job": expected job 0 of jobs.jsonl, found a result for a different job"#), "\(r.stderr)")
        #expect(Self.completeLines(scratch.path("r.jsonl")) == 1)
    }

    /// `lipscope batch … 2>&1 | head`: the progress reader goes away; the batch must carry on.
    @Test func aClosedStderrDoesNotStopTheBatch() throws {
        let scratch = try Scratch(["tiny_relu_1.json"])
        try scratch.write("jobs.jsonl", (0..<8).map { i in
            #"{"network": "nets/tiny_relu_1.json", "method": "naive", "norm": "\#(i % 2 == 0 ? "2" : "inf")"}"#
        }.joined(separator: "\n") + "\n")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CLITests.binaryPath())
        process.arguments = ["batch", "jobs.jsonl", "--out", "r.jsonl"]
        process.currentDirectoryURL = scratch.url
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try err.fileHandleForReading.close()
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationReason == .exit && process.terminationStatus == 0)
        #expect(try Self.results(scratch, "r.jsonl").map(Self.index) == Array(0..<8))
    }

    @Test func sigtermDropsTheRunningJobAndKeepsEveryFinishedLine() throws {
        let scratch = try Scratch(["tiny_relu_1.json", "small_relu_20.json"])
        try scratch.write("jobs.jsonl", [
            #"{"network": "nets/tiny_relu_1.json", "method": "naive", "norm": "2"}"#,
            #"{"network": "nets/small_relu_20.json", "method": "relaxed-exact", "norm": "2"}"#,
            #"{"network": "nets/tiny_relu_1.json", "method": "naive", "norm": "inf"}"#,
        ].joined(separator: "\n") + "\n")
        let process = try Self.start(["batch", "jobs.jsonl", "--out", "r.jsonl"], in: scratch, tag: "term")
        let deadline = Date().addingTimeInterval(120)
        while Self.completeLines(scratch.path("r.jsonl")) < 1, process.isRunning, Date() < deadline { usleep(5_000) }
        usleep(100_000)  // inside the slow job
        let sent = Date()
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        #expect(Date().timeIntervalSince(sent) < 3, "the running job is cancelled, not waited for")
        #expect(process.terminationReason == .exit && process.terminationStatus == 128 + SIGTERM)
        #expect(try scratch.read("term.stderr").contains("stopped by SIGTERM"))
        let kept = try Self.results(scratch, "r.jsonl")
        #expect(kept.map(Self.index) == [0])
        #expect(try scratch.read("r.jsonl").hasSuffix("}\n"))
    }
}
