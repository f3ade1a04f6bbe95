import Foundation
import Testing
@testable import LipscopeEngine
import LipscopeTestSupport

@Suite struct SessionLogTests {
    @Test func sha256KnownVectors() {
        #expect(SHA256.hex(Data()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex(Data("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        let long = Data("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)
        #expect(SHA256.hex(long) == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }
}

/// A fresh temporary directory per test.
func makeTempDirectory(_ tag: String = "lipscope-tui") -> String {
    let dir = NSTemporaryDirectory() + "\(tag)-\(UUID().uuidString.prefix(8))"
    try! FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

func sampleSummary(_ name: String = "tiny") -> NetworkSummary {
    let net = try! NetworkLoader.load(path: Fixtures.repositoryPath("Tests/Fixtures/testnets/tiny_relu_1.json"))
    var s = NetworkSummary(net)
    s.name = name
    return s
}

/// Path of a file of the package, from this source file's location.
extension SessionLogTests {
    func sampleEvents(iterations: Int = 3) -> [SessionEvent] {
        var events: [SessionEvent] = [
            .sessionStart(version: "0.1.0", time: "2025-01-01T00:00:00.000Z"),
            .networkLoaded(time: "t1", path: "examples/tiny.json", sha256: "abc", summary: sampleSummary()),
            .runStarted(time: "t2", run: 1, parameters: RunParameters(method: "naive", label: "Naive", norm: .l2, network: "tiny")),
        ]
        for i in 1...max(1, iterations) {
            events.append(.iteration(run: 1, record: IterationRecord(index: i, elapsed: Double(i) * 0.01,
                                                                    metrics: [Metric("gap", 1 / Double(i)), Metric("best", 2.5)])))
        }
        events.append(.runFinished(time: "t3", run: 1, result: BoundResult(
            method: "naive", norm: .l2, kind: .upper, value: 2.5, certified: true, status: .optimal, seconds: 0.03, iterations: iterations)))
        events.append(.runStarted(time: "t4", run: 2, parameters: RunParameters(method: "sampling", label: "Sampled", norm: .l2, network: "tiny")))
        events.append(.runFinished(time: "t5", run: 2, result: BoundResult(
            method: "sampling", norm: .l2, kind: .lower, value: 2.0, certified: false, status: .optimal, seconds: 0.5)))
        events.append(.note(time: "t6", text: "looks right"))
        events.append(.sessionEnd(time: "t7"))
        return events
    }

    @Test func eventsRoundTripThroughJSONLines() throws {
        for event in sampleEvents() {
            let line = event.jsonLine()
            #expect(!line.contains("\n"))
            #expect(try SessionEvent.decode(line: line) == event)
        }
        let inf = SessionEvent.iteration(run: 3, record: IterationRecord(index: 1, elapsed: 0, metrics: [Metric("gap", .infinity)]))
        #expect(inf.jsonLine().contains("\"inf\""))
        #expect(try SessionEvent.decode(line: inf.jsonLine()) == inf)
        #expect(sampleEvents()[0].jsonLine() == #"{"time":"2025-01-01T00:00:00.000Z","type":"session_start","version":"0.1.0"}"#)
    }

    @Test func writerAppendsAndFlushesEveryLine() throws {
        let dir = makeTempDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/sub/log.jsonl"
        let writer = try SessionLogWriter(path: path)
        let events = sampleEvents()
        for (k, event) in events.enumerated() {
            writer.append(event)
            // Readable line by line while the writer is still open: nothing sits in a buffer.
            let contents = try SessionLogReader.read(path: path)
            #expect(contents.goodLines == k + 1)
            #expect(contents.isComplete)
        }
        writer.close()
        // Reopening appends; it never truncates what is there.
        let again = try SessionLogWriter(path: path)
        again.append(.note(time: "t8", text: "second writer"))
        again.close()
        let contents = try SessionLogReader.read(path: path)
        #expect(contents.events.count == events.count + 1)
        #expect(contents.events.last == .note(time: "t8", text: "second writer"))
    }

    @Test func thinningKeepsAFewHundredAndAlwaysTheLast() throws {
        #expect((1...128).allSatisfy(IterationThinning.keeps))
        let kept = (1...1_000_000).filter(IterationThinning.keeps).count
        #expect(kept > 128 && kept < 400)
        let dir = makeTempDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/log.jsonl"
        let writer = try SessionLogWriter(path: path)
        writer.append(.runStarted(time: "t", run: 7, parameters: RunParameters(method: "m", label: "M", norm: .linf, network: "n")))
        for i in 1...10_001 {
            writer.append(.iteration(run: 7, record: IterationRecord(index: i, elapsed: 0, metrics: [Metric("x", Double(i))])))
        }
        writer.append(.runFinished(time: "t", run: 7, result: BoundResult(method: "m", norm: .linf, kind: .upper, value: 1, certified: true, status: .optimal)))
        writer.close()
        let record = try SessionRecord.read(path: path)
        let its = record.runs[0].iterations
        #expect(its.count < 300)
        #expect(its.first?.index == 1)
        #expect(its.last?.index == 10_001)
        #expect(its.map(\.index) == its.map(\.index).sorted())
        #expect(record.runs[0].result?.value == 1)
    }

    @Test func truncatedLogRecoversUpToTheLastGoodLine() throws {
        let lines = sampleEvents().map { $0.jsonLine() }
        let whole = lines.joined(separator: "\n") + "\n"
        // Cut in the middle of the 5th line (a crash mid-write).
        let cut = lines[0..<4].joined(separator: "\n") + "\n" + lines[4].prefix(20)
        let truncated = SessionLogReader.parse(Data(cut.utf8))
        #expect(truncated.goodLines == 4)
        #expect(truncated.events == Array(sampleEvents()[0..<4]))
        #expect(truncated.problem == "line 5 is truncated (the log ends mid-line); recovered the 4 lines before it")
        // A garbage line in the middle: everything before it comes back.
        let garbled = lines[0..<3].joined(separator: "\n") + "\n{not json}\n" + lines[3...].joined(separator: "\n")
        let g = SessionLogReader.parse(Data(garbled.utf8))
        #expect(g.goodLines == 3)
        #expect(g.problem?.hasPrefix("line 4 is malformed") == true)
        let record = SessionRecord(contents: g)
        #expect(record.runs.count == 1 && record.runs[0].result == nil)
        // A complete log.
        let full = SessionLogReader.parse(Data(whole.utf8))
        #expect(full.isComplete && full.goodLines == lines.count)
        #expect(SessionLogReader.parse(Data()).problem == "the log holds no events")
    }

    @Test func recordAndReport() throws {
        let record = SessionRecord(events: sampleEvents(iterations: 4))
        #expect(record.version == "0.1.0")
        #expect(record.runs.map(\.id) == [1, 2])
        #expect(record.runs[0].iterations.count == 4)
        #expect(record.comparison(network: "tiny")?.bestLower(.l2) == 2.0)
        let md = SessionReport.markdown(record, title: "demo", logPath: "demo.jsonl")
        #expect(md.hasPrefix("# lipscope session: demo\n"))
        #expect(md.contains("## Network: tiny"))
        #expect(md.contains("| file | `examples/tiny.json` |"))
        #expect(md.contains("| 1 | Naive | ℓ2 |  | all | 2.500000 | upper | yes | optimal | 30.0 ms | 4 | 1.250 |"))
        #expect(md.contains("| 2 | Sampled | ℓ2 |  | all | 2.000000 | lower |  | optimal | 500.0 ms | 0 | 1.000 |"))
        #expect(md.contains("Best lower bound (ℓ2): 2.000000"))
        #expect(md.contains("| gap | 1.000000 | 0.250000 | 0.250000 | 1.000000 |"))
        #expect(md.contains("- looks right"))
        let recovered = SessionRecord(events: Array(sampleEvents()[0..<4]), problem: "line 5 is truncated")
        let md2 = SessionReport.markdown(recovered, title: "cut")
        #expect(md2.contains("**Recovered log:** line 5 is truncated"))
        #expect(md2.contains("did not finish"))
    }

    @Test func saveAndListSessions() throws {
        let dir = makeTempDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let auto = SessionStore.newLogPath(in: dir, date: Date(timeIntervalSince1970: 0), pid: 42)
        #expect(URL(fileURLWithPath: auto).lastPathComponent.hasPrefix("session-1970"))
        #expect(auto.hasSuffix("-42.jsonl"))
        let writer = try SessionLogWriter(path: auto)
        for e in sampleEvents() { writer.append(e) }
        writer.close()
        let saved = try SessionStore.save(log: auto, as: "my run/1", in: dir)
        #expect(saved.log == dir + "/my-run-1.jsonl")
        #expect(saved.report == dir + "/my-run-1.md")
        let report = try String(contentsOfFile: saved.report, encoding: .utf8)
        #expect(report.hasPrefix("# lipscope session: my-run-1"))
        // Saving under the same name never overwrites.
        let second = try SessionStore.save(log: auto, as: "my run/1", in: dir)
        #expect(second.log == dir + "/my-run-1-2.jsonl")
        #expect(throws: InputError.self) { try SessionStore.save(log: auto, as: "///", in: dir) }
        let list = SessionStore.list(directory: dir)
        #expect(list.count == 3)
        let mine = try #require(list.first { $0.name == "my-run-1" })
        #expect(mine.saved && mine.complete && mine.runs == 2 && mine.finished == 2)
        #expect(mine.networks == ["tiny"])
        #expect(mine.report == saved.report)
        #expect(list.first { $0.name.hasPrefix("session-") }?.saved == false)
        #expect(SessionStore.defaultDirectory(environment: ["LIPSCOPE_SESSIONS_DIR": "/x/y"]) == "/x/y")
    }
}
