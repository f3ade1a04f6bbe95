import Foundation
import Testing
@testable import LipscopeEngine
@testable import LipscopeTUI
import LipscopeTestSupport

/// The update function never touches the file system: it asks the runtime with an effect and
/// gets the answer back as an event.
@Suite struct FileEffectTests {
    func record(networkAt path: String, network: Network = multiOutputNetwork()) -> SessionRecord {
        let params = RunParameters(method: "naive", label: "Naive", norm: .l2, network: NetworkSummary(network).name)
        return SessionRecord(events: [
            .sessionStart(version: "0.1.0", time: "t"),
            .networkLoaded(time: "t", path: path, sha256: nil, summary: NetworkSummary(network)),
            .runStarted(time: "t", run: 1, parameters: params),
            .runFinished(time: "t", run: 1, result: result("naive", 2.5)),
        ], problem: nil)
    }

    @Test func replayAsksWhetherItsNetworkExistsInsteadOfLooking() {
        var s = loadedState()
        let effects = Update.apply(&s, .replayLoaded(path: "/tmp/sessions/old.jsonl", record: record(networkAt: "/nowhere/medium_1.json")))
        let checks = effects.compactMap { e -> (String, FileCheck)? in
            if case .checkFile(let path, let purpose) = e { return (path, purpose) }
            return nil
        }
        #expect(checks.count == 1)
        #expect(checks.first?.0 == "/nowhere/medium_1.json" && checks.first?.1 == .sessionNetwork(name: "medium_1"))
        #expect(!effects.contains { if case .loadNetwork = $0 { true } else { false } })
        // Missing: the replay's message says so; present: the network is loaded.
        var missing = s
        #expect(Update.apply(&missing, .fileChecked(path: "/nowhere/medium_1.json", exists: false, purpose: .sessionNetwork(name: "medium_1"))).isEmpty)
        #expect(missing.message?.text == "reopened old.jsonl: 1 runs; its network medium_1 (/nowhere/medium_1.json) is not found")
        let found = Update.apply(&s, .fileChecked(path: "/nets/medium_1.json", exists: true, purpose: .sessionNetwork(name: "medium_1")))
        guard case .loadNetwork("/nets/medium_1.json")? = found.first, found.count == 1 else { Issue.record("\(found)"); return }
        // Its own network loaded already: nothing to check.
        var same = loadedState()
        let none = Update.apply(&same, .replayLoaded(path: "/tmp/a.jsonl", record: record(networkAt: "/x/tiny.json", network: tinyNetwork())))
        #expect(!none.contains { if case .checkFile = $0 { true } else { false } })
    }

    @Test func runtimePerformsTheCheckAndLoadsTheNetworkWhenItIsThere() throws {
        let sessions = makeTempDirectory()
        defer { try? FileManager.default.removeItem(atPath: sessions) }
        let runtime = Runtime(options: WorkbenchOptions(sessionsDirectory: sessions, methods: fakeMethods), inbox: Inbox())
        runtime.dispatch(.resize(rows: 40, cols: 120))
        runtime.dispatch(.replayLoaded(path: sessions + "/old.jsonl", record: record(networkAt: sessions + "/gone.json")))
        #expect(runtime.state.message?.text == "reopened old.jsonl: 1 runs; its network medium_1 (\(sessions)/gone.json) is not found")
        #expect(runtime.state.network == nil)

        let present = Fixtures.repositoryPath("Tests/Fixtures/testnets/medium_1.json")
        runtime.dispatch(.replayLoaded(path: sessions + "/old.jsonl", record: record(networkAt: present)))
        // The load runs on its own thread and answers through the inbox.
        let deadline = Date().addingTimeInterval(20)
        while runtime.state.network == nil && Date() < deadline {
            for event in runtime.inbox.drain() { runtime.dispatch(event) }
            usleep(10_000)
        }
        #expect(runtime.state.network?.summary.name == "medium_1")
        #expect(runtime.state.runs.count == 2)
    }

    /// A guard on the architecture: the pure files name no file-system API.
    @Test func pureFilesDoNotTouchTheFileSystem() throws {
        for file in ["Update.swift", "Keymap.swift", "OptionControls.swift", "State.swift", "View.swift", "Plot.swift"] {
            let source = try String(contentsOfFile: Fixtures.repositoryPath("Sources/LipscopeTUI/" + file), encoding: .utf8)
            // State's initializer defaults the working directory for callers that do not pass one.
            let body = file == "State.swift" ? source.replacingOccurrences(of: "workingDirectory: String = FileManager.default.currentDirectoryPath", with: "") : source
            for api in ["FileManager", "URL(fileURLWithPath", "fopen(", "contentsOfFile", "FileHandle"] {
                #expect(!body.contains(api), "\(file) uses \(api)")
            }
        }
    }
}

