import Foundation
import LipscopeEngine
import Testing
import LipscopeTestSupport

/// The files of `lipscope batch`: jobs lines, result lines, the writer's crash safety, shards.
@Suite struct BatchFilesTests {
    /// A jobs file in Tests/Fixtures (so `testnets/…` paths resolve against its directory).
    static let jobsPath = Fixtures.path("jobs.jsonl")

    @Test func jobLinesParseWithRelativePathsBlankLinesAndTypedOptions() throws {
        let text = """
        {"network": "testnets/tiny_relu_1.json", "method": "naive", "norm": "2"}\r

        {"network": "testnets/tiny_relu_1.json", "method": "lipopt-lp", "norm": "inf", "degree": 3, "output": 1, "seed": 9, \
        "options": {"max_lp_nonzeros": 5000000, "cliques": "dense"}}
        {"network": "\(Fixtures.path("testnets/tiny_relu_2.json"))", "method": "lipsdp-neuron", "norm": 2, "options": {"scale": false}}
        """
        let file = try JobsFile.parse(Data(text.utf8), path: Self.jobsPath)
        #expect(file.jobs.map(\.index) == [0, 1, 2])
        #expect(file.jobs.map(\.line) == [1, 3, 4])
        #expect(file.jobs[0].networkPath == Fixtures.path("testnets/tiny_relu_1.json"))
        #expect(file.jobs[0].given == ["network": .string("testnets/tiny_relu_1.json"), "method": .string("naive"), "norm": .string("2")])
        #expect(file.jobs[1].norm == .linf && file.jobs[1].degree == 3 && file.jobs[1].output == 1 && file.jobs[1].seed == 9)
        #expect(file.jobs[1].options == ["max_lp_nonzeros": "5000000", "cliques": "dense"])
        #expect(file.jobs[2].networkPath == Fixtures.path("testnets/tiny_relu_2.json") && file.jobs[2].norm == .l2)
        #expect(file.jobs[2].options == ["scale": "off"])
        #expect(file.jobs[1].record["index"] == .number(1))
    }

    @Test func everyBadLineIsReportedWithItsLineAndField() throws {
        let text = """
        {"network": "testnets/tiny_relu_1.json", "method": "naive", "norm": "2", "output": -1}
        {"network": "testnets/tiny_relu_1.json", "method": "lipopt-lp", "norm": "inf", "options": {"cliques": "some"}}
        {"network": "testnets/tiny_relu_1.json", "method": "lipopt-lp", "norm": "inf", "options": {"tolerance": 1}}
        {"network": "testnets/tiny_relu_1.json", "method": "naive", "norm": "inf", "options": [1]}
        {"network": 3, "method": "naive", "norm": "inf"}
        """
        let errors = try #require(throws: BatchInputErrors.self) { try JobsFile.parse(Data(text.utf8), path: Self.jobsPath) }.errors
        #expect(errors.map(\.line) == [1, 2, 3, 4, 5])
        #expect(errors.map(\.field) == ["output", "options.cliques", "options.tolerance", "options", "network"])
        #expect(errors[0].description == "\(Self.jobsPath):1: field \"output\": expected an output index (an integer ≥ 0) or null, found -1")
        #expect(errors[1].expected == "sparse or dense for lipopt-lp" && errors[1].found == "\"some\"")
        #expect(errors[2].found == "an option lipopt-lp does not declare" && errors[2].expected.contains("max_lp_nonzeros"))
        #expect(errors[4].found == "3")
        #expect(throws: InputError.self) { try JobsFile.parse(Data("\n\n".utf8), path: Self.jobsPath) }
    }

    @Test func resultLinesRoundTripAndAFragmentIsSetApart() throws {
        let job = try JobsFile.parse(Data(#"{"network": "testnets/tiny_relu_1.json", "method": "naive", "norm": "inf", "degree": 2}"#.utf8),
                                     path: Self.jobsPath).jobs[0]
        let result = BoundResult(method: "naive", norm: .linf, degree: 2, kind: .upper, value: 14.742834242076693, certified: true,
                                 status: .optimal, seconds: 0.25, iterations: 3, details: ["x": .numbers([1, 2.5])])
        let line = BatchRecord.encode(result, job: job, jobs: 7, shard: Shard(index: 1, count: 3))
        #expect(!line.contains("\n"))
        let text = line + "\n" + line + "\n" + #"{"batch":{"jobs":7,"#
        let contents = try ResultsContents.parse(Data(text.utf8), file: "r.jsonl")
        #expect(contents.records.count == 2 && contents.completeLength == 2 * (line.utf8.count + 1))
        #expect(contents.truncatedBytes == #"{"batch":{"jobs":7,"#.utf8.count)
        let record = contents.records[1]
        #expect(record.result == result && record.index == 0 && record.line == 2)
        #expect(record.job == job.given && record.jobs == 7 && record.shard == "1/3")

        let bad = try #require(throws: BatchInputErrors.self) {
            try ResultsContents.parse(Data((line + "\n{\"value\": 1}\n").utf8), file: "r.jsonl")
        }
        #expect(bad.errors.map(\.line) == [2] && bad.errors[0].field == "job")
    }

    @Test func writerCutsTheFragmentAppendsWholeLinesAndLocksTheFile() throws {
        let path = Fixtures.temporaryFile("r.jsonl", "{\"a\"\n")
        defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
        // A complete line that is not a result is an error naming the line, not silently dropped.
        #expect(throws: BatchInputErrors.self) { _ = try ResultsWriter(path: path) }
        // A file that is not a results file (`--out` naming a network by mistake) is never cut.
        let network = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("testnets/tiny_relu_1.json")))
        try network.filter { $0 != 0x0A }.write(to: URL(fileURLWithPath: path))
        #expect(throws: InputError.self) { _ = try ResultsWriter(path: path) }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == network.filter { $0 != 0x0A })

        let job = try JobsFile.parse(Data(#"{"network": "testnets/tiny_relu_1.json", "method": "naive", "norm": "2"}"#.utf8),
                                     path: Self.jobsPath).jobs[0]
        let line = BatchRecord.encode(BoundResult(method: "naive", norm: .l2, kind: .upper, value: 1, certified: true, status: .optimal),
                                      job: job, jobs: 1, shard: .all)
        try Data((line + "\n" + String(line.prefix(30))).utf8).write(to: URL(fileURLWithPath: path))
        do {
            let writer = try ResultsWriter(path: path)
            #expect(writer.existing.records.count == 1 && writer.existing.truncatedBytes == 30)
            #expect(throws: InputError.self) { _ = try ResultsWriter(path: path) }  // locked by `writer`
            try writer.append(line)
        }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == line + "\n" + line + "\n")
    }

    @Test func shardsAreZeroBased() throws {
        let shard = try Shard(parsing: "3/4")
        #expect(shard == Shard(index: 3, count: 4) && shard.contains(7) && !shard.contains(8))
        #expect(try Shard(parsing: "0/1") == .all)
        for text in ["4/4", "-1/4", "1/0", "a/b", "1", "1/2/3"] {
            #expect(throws: ShardError.self, "\(text)") { try Shard(parsing: text) }
        }
        do { _ = try Shard(parsing: "4/4") } catch { #expect(error.description.contains("--array=0-3")) }
    }
}
