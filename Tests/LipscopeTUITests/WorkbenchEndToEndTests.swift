import Foundation
import Testing
import LipscopeLinearAlgebra
@testable import LipscopeEngine
import LipscopeTUI
import LipscopeTestSupport

/// The real binary in tmux: keys in, `capture-pane` out. No fixed sleeps: every step polls
/// the screen (every 30 ms) until what it expects shows up.
@Suite(.serialized) struct WorkbenchEndToEndTests {
    struct Setup {
        let root: String
        let nets: String
        let sessions: String
        let binary: String
        let tmux: TmuxDriver

        init(tag: String) throws {
            guard let binary = lipscopeBinary() else { throw TmuxDriver.Failure(description: "lipscope binary not found next to the tests") }
            self.binary = binary
            root = makeTempDirectory("lipscope-e2e")
            nets = root + "/nets"
            sessions = root + "/sessions"
            try FileManager.default.createDirectory(atPath: nets, withIntermediateDirectories: true)
            for file in ["examples/tiny_relu_1.json", "Tests/Fixtures/testnets/small_relu_20.json"] {
                try FileManager.default.copyItem(atPath: Fixtures.repositoryPath(file),
                                                 toPath: nets + "/" + URL(fileURLWithPath: file).lastPathComponent)
            }
            tmux = TmuxDriver(tag: tag)
        }

        func start(_ arguments: String, exec: Bool = false, cols: Int = 120, rows: Int = 40) throws {
            let command = exec ? "exec \(binary) \(arguments)" : "\(binary) \(arguments); echo __EXIT=$?; sleep 60"
            try tmux.start(command, directory: nets, environment: ["LANG": "C.UTF-8", "LIPSCOPE_SESSIONS_DIR": sessions,
                                                                  "OPENBLAS_NUM_THREADS": "1"], cols: cols, rows: rows)
        }

        func sessionLogs() -> [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: sessions)) ?? [])
                .filter { $0.hasPrefix("session-") && $0.hasSuffix(".jsonl") }.sorted().map { sessions + "/" + $0 }
        }

        func cleanUp() {
            tmux.kill()
            try? FileManager.default.removeItem(atPath: root)
        }
    }

    /// The methods the Run pane lists for a network and norm, in order (cheapest predicted first).
    static func applicable(_ net: Network, _ norm: Norm) -> [any BoundMethod] {
        let methods = MethodRegistry.all
        var predictions: [Int: CostPrediction] = [:]
        let indices = methods.indices.filter { i in
            let m = methods[i]
            let request = BoundRequest(network: net, norm: norm, degree: m.minimumDegree(for: net))
            guard m.norms.contains(norm), m.applicability(request) == .applicable else { return false }
            predictions[i] = m.predictedCost(request)
            return true
        }
        return Update.runListOrder(indices, predictions).map { methods[$0] }
    }

    /// Moves the Run pane's cursor to a method by id.
    static func select(_ id: String, on net: Network, norm: Norm, _ tmux: TmuxDriver) throws {
        try tmux.waitFor("the method check to finish") { $0.contains("┌ Run ─") }
        let list = applicable(net, norm)
        guard let k = list.firstIndex(where: { $0.id == id }) else { throw TmuxDriver.Failure(description: "\(id) does not apply") }
        tmux.send(contentsOf: Array(repeating: "Up", count: list.count) + Array(repeating: "Down", count: k))
        try tmux.waitFor("▸ \(list[k].label)")
    }

    /// Opens small_relu_20 in the workbench (exec'd, so the pane's pid is the workbench's), starts
    /// relaxed-exact (seconds of Gray-code enumeration) and waits until `iterations` show: the
    /// workbench's pid and the iteration count on screen.
    static func startLongRun(_ setup: Setup, iterations wanted: Int) throws -> (pid: pid_t, shown: Int) {
        let tmux = setup.tmux
        try setup.start("small_relu_20.json", exec: true)
        try tmux.waitFor("loaded small_relu_20")
        try select("relaxed-exact", on: try NetworkLoader.load(path: setup.nets + "/small_relu_20.json"), norm: .l2, tmux)
        tmux.send("Enter")
        let screen = try tmux.waitFor("iterations on screen", timeout: 60) { (iterations($0) ?? 0) >= wanted }
        let pid = try #require(tmux.panePID, "no pane pid")
        return (pid, iterations(screen) ?? wanted)
    }

    static func iterations(_ screen: String) -> Int? {
        TmuxDriver.match(#"running [0-9.]+ m?s, (\d+) iterations"#, in: screen).flatMap(Int.init)
    }

    @Test(.enabled(if: tmuxAvailable()), .timeLimit(.minutes(5)))
    func fullSession() throws {
        let setup = try Setup(tag: "full")
        defer { setup.cleanUp() }
        let tmux = setup.tmux
        try setup.start("tiny_relu_1.json")

        // Start on a bundled network.
        var screen = try tmux.waitFor("loaded tiny_relu_1: feedforward 2-5-6-2")
        #expect(screen.contains("┌ Network"))
        try tmux.waitFor("▸ \(Self.applicable(try NetworkLoader.load(path: setup.nets + "/tiny_relu_1.json"), .l2)[0].label)")
        // Colors and attributes when the terminal has them (tmux: 8 colors): SGR codes in the pane.
        let styled = tmux.captureWithEscapes()
        #expect(styled.hasPrefix("\u{1B}[1;7m"), "no bold reverse title bar")
        #expect(styled.range(of: #"\u001B\[3[1-6]m"#, options: .regularExpression) != nil, "no foreground colors")
        #expect(screen.contains("log sessions/") || screen.contains("log \(setup.sessions)/"))

        // Run two methods (chosen by id: the registry may grow).
        let tiny = try NetworkLoader.load(path: setup.nets + "/tiny_relu_1.json")
        try Self.select("sampling", on: tiny, norm: .l2, tmux)
        tmux.send("Enter")
        try tmux.waitFor("Sampled lower bound ℓ2: ")
        try Self.select("relaxed-exact", on: tiny, norm: .l2, tmux)
        tmux.send("Enter")
        screen = try tmux.waitFor("Relaxed exact ℓ2: 1.73625 certified upper bound")
        #expect(screen.contains("  1 Sampled lower bound    ℓ2"))
        #expect(screen.contains("  2 Relaxed exact          ℓ2           1.73625 ✓ optimal"))
        #expect(screen.contains("Live: #2 Relaxed exact ℓ2 — optimal, "))

        // Open a bigger network with the file browser (letter jump, Enter).
        tmux.send("o")
        try tmux.waitFor("Open network — \(setup.nets)")
        try tmux.waitFor("small_relu_20.json")
        tmux.send("s")
        try tmux.waitFor("▸ small_relu_20.json")
        tmux.send("Enter")
        try tmux.waitFor("loaded small_relu_20")
        // Which methods apply is checked in the background after loading ("checking which methods
        // apply…" in the Run pane): the list, with the method still selected, follows it. A CI run
        // on two loaded cores captured the screen in between.
        screen = try tmux.waitFor("▸ Relaxed exact")

        // A long run: the live table grows, then cancel it.
        tmux.send("Enter")
        screen = try tmux.waitFor("a few iterations", timeout: 60) { (Self.iterations($0) ?? 0) >= 2 }
        let first = Self.iterations(screen)!
        #expect(screen.contains("    it      best     time"))
        screen = try tmux.waitFor("more iterations", timeout: 60) { (Self.iterations($0) ?? 0) > first }
        let cancelAt = Date()
        tmux.send("c")
        screen = try tmux.waitFor("Relaxed exact ℓ2: cancelled", timeout: 20)
        let cancelSeconds = Date().timeIntervalSince(cancelAt)
        #expect(cancelSeconds < 3, "cancelling took \(cancelSeconds) s")
        #expect(screen.contains("cancelled   ") || screen.contains("cancelled "))

        // Change the degree: on a hierarchy method when the registry has one, else the message.
        let net = try NetworkLoader.load(path: setup.nets + "/small_relu_20.json")
        var degreeMethod: (index: Int, norm: Norm, min: Int)?
        for norm in [Norm.l2, .linf] where degreeMethod == nil {
            let list = Self.applicable(net, norm)
            if let k = list.firstIndex(where: { $0.minimumDegree(for: net) != nil }) {
                degreeMethod = (k, norm, list[k].minimumDegree(for: net)!)
            }
        }
        if let dm = degreeMethod {
            if dm.norm == .linf { tmux.send("n"); try tmux.waitFor("norm ℓ∞") }
            for _ in 0..<12 { tmux.send("Up") }
            for _ in 0..<dm.index { tmux.send("Down") }
            try tmux.waitFor("degree \(dm.min) (min)")
            tmux.send("+")
            try tmux.waitFor("degree \(dm.min + 1) (min \(dm.min))")
            tmux.send("-", "-")
            try tmux.waitFor("is the admissible minimum")
            if dm.norm == .linf { tmux.send("n"); try tmux.waitFor("norm ℓ2") }
        } else {
            tmux.send("+")
            try tmux.waitFor("Relaxed exact has no relaxation degree")
        }

        // A note, then save a named copy and its report (compare rows stayed).
        tmux.send("a")
        try tmux.waitFor("Note: ")
        tmux.type("relaxed-exact is exact here")
        tmux.send("Enter")
        try tmux.waitFor("note added to the session log")
        tmux.send("w")
        try tmux.waitFor("Save session as: small_relu_20")
        for _ in 0..<14 { tmux.send("BSpace") }
        tmux.type("e2e-demo")
        try tmux.waitFor("Save session as: e2e-demo")
        tmux.send("Enter")
        try tmux.waitFor("e2e-demo.md")
        let savedLog = setup.sessions + "/e2e-demo.jsonl"
        let report = try String(contentsOfFile: setup.sessions + "/e2e-demo.md", encoding: .utf8)
        #expect(report.contains("## Network: tiny_relu_1"))
        #expect(report.contains("## Network: small_relu_20"))
        #expect(report.contains("| 2 | Relaxed exact | ℓ2 |  | all | 1.736254 | upper | yes | optimal |"))
        #expect(report.contains("| cancelled |"))
        #expect(report.contains("## Notes\n\n- relaxed-exact is exact here"))
        let saved = try SessionRecord.read(path: savedLog)
        #expect(saved.problem == nil)
        #expect(saved.runs.count == 3)
        #expect(saved.runs.map(\.result?.status) == [.optimal, .optimal, .cancelled])
        #expect(saved.networks.map { $0.summary.name } == ["tiny_relu_1", "small_relu_20"])
        #expect(saved.networks.allSatisfy { $0.sha256?.count == 64 })

        // Reopen the saved log: its rows and convergence plot come back.
        tmux.send("O")
        try tmux.waitFor("Reopen session — \(setup.sessions)")
        try tmux.waitFor("e2e-demo.jsonl")
        tmux.send("e")
        try tmux.waitFor("▸ e2e-demo.jsonl")
        tmux.send("Enter")
        screen = try tmux.waitFor("reopened e2e-demo.jsonl: 3 runs")
        #expect(screen.contains("(replayed)"))
        // Rows of the loaded network: the cancelled run (#3) and its replayed copy (#6).
        #expect(screen.contains("  3 Relaxed exact          ℓ2"))
        #expect(screen.contains("  6 Relaxed exact          ℓ2"))

        // Resize to 80×24 and back: everything still drawn.
        tmux.resize(cols: 80, rows: 24)
        screen = try tmux.waitFor("the 80×24 layout") { s in
            let lines = s.split(separator: "\n", omittingEmptySubsequences: false)
            return lines.count >= 24 && lines[23].hasPrefix("F1Help") && s.contains("┌ Compare") && lines[1].count == 80
        }
        #expect(screen.split(separator: "\n").allSatisfy { $0.count <= 80 })
        #expect(screen.contains("┌ Live"))
        tmux.resize(cols: 120, rows: 40)
        screen = try tmux.waitFor("the 120×40 layout") { s in
            let lines = s.split(separator: "\n", omittingEmptySubsequences: false)
            return lines.count >= 40 && lines[39].hasPrefix("F1Help") && lines[1].count == 120
        }
        #expect(screen.contains("  6 Relaxed exact"))

        // Help, then quit.
        tmux.send("?")
        try tmux.waitFor("Help — any key closes")
        tmux.send("Escape")
        try tmux.waitFor("the help closed") { !$0.contains("Help — any key closes") }
        tmux.send("q")
        screen = try tmux.waitFor("__EXIT=0")
        #expect(screen.contains("lipscope: session log "))

        // The automatic session log is complete and ends with session_end.
        let logs = setup.sessionLogs()
        #expect(logs.count == 1)
        let contents = try SessionLogReader.read(path: logs[0])
        #expect(contents.isComplete)
        guard case .sessionStart? = contents.events.first, case .sessionEnd? = contents.events.last else {
            Issue.record("the log should start with session_start and end with session_end"); return
        }
        let record = SessionRecord(contents: contents)
        #expect(record.runs.count == 6)  // 3 runs, then the 3 replayed from e2e-demo.jsonl
        #expect(record.runs.filter { $0.parameters.replayedFrom == "e2e-demo.jsonl" }.count == 3)
        #expect(record.notes == ["relaxed-exact is exact here", "reopened e2e-demo.jsonl: 3 finished runs"])
    }

    @Test(.enabled(if: tmuxAvailable()), .timeLimit(.minutes(3)))
    func killedMidRunLosesNothingAlreadyShown() throws {
        let setup = try Setup(tag: "kill")
        defer { setup.cleanUp() }
        let tmux = setup.tmux
        let (pid, shown) = try Self.startLongRun(setup, iterations: 3)
        #expect(kill(pid, SIGKILL) == 0)
        try tmux.waitFor("the pane to die") { _ in kill(pid, 0) != 0 }
        let logs = setup.sessionLogs()
        #expect(logs.count == 1)
        let contents = try SessionLogReader.read(path: logs[0])
        // Every line written is whole (one write per line), and every iteration shown is logged.
        #expect(contents.isComplete, "\(contents.problem ?? "")")
        let record = SessionRecord(contents: contents)
        #expect(record.runs.count == 1)
        #expect(record.runs[0].result == nil)
        #expect(record.runs[0].iterations.count >= shown)
        // `lipscope report` renders what there is.
        let md = SessionReport.markdown(record, title: "killed")
        #expect(md.contains("did not finish"))
    }

    @Test(.enabled(if: tmuxAvailable()), .timeLimit(.minutes(3)))
    func replayOptionReopensATruncatedLogAndSaysSo() throws {
        let setup = try Setup(tag: "replay")
        defer { setup.cleanUp() }
        let tmux = setup.tmux
        // A log of a run on small_relu_20 with 40 iterations, cut mid-line after the result.
        let net = try NetworkLoader.load(path: setup.nets + "/small_relu_20.json")
        let old = setup.root + "/old.jsonl"
        let writer = try SessionLogWriter(path: old)
        writer.append(.sessionStart(version: "0.1.0", time: "2026-01-01T00:00:00.000Z"))
        writer.append(.networkLoaded(time: "t", path: setup.nets + "/small_relu_20.json", sha256: nil, summary: NetworkSummary(net)))
        writer.append(.runStarted(time: "t", run: 1, parameters: RunParameters(method: "relaxed-exact", label: "Relaxed exact", norm: .l2, network: "small_relu_20")))
        for i in 1...40 {
            writer.append(.iteration(run: 1, record: IterationRecord(index: i, elapsed: Double(i) / 10, metrics: [Metric("gap", pow(10, -Double(i) / 8)), Metric("pinf", 1 / Double(i))])))
        }
        writer.append(.runFinished(time: "t", run: 1, result: BoundResult(method: "relaxed-exact", norm: .l2, kind: .upper, value: 1.69694, certified: true, status: .optimal, seconds: 4, iterations: 40)))
        writer.close()
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: old))
        handle.seekToEndOfFile()
        handle.write(Data(#"{"type":"note","te"#.utf8))
        try handle.close()

        try setup.start("small_relu_20.json --replay \(old)")
        let screen = try tmux.waitFor("reopened old.jsonl: 1 runs — log recovered: line 45 is truncated")
        #expect(screen.contains("Live: #1 Relaxed exact ℓ2 — optimal, 40 iterations, 4.00 s (replayed)"))
        #expect(screen.contains("● gap  ● pinf  (log scale)"))
        #expect(screen.contains("    40     1e-05     0.025   4.00 s"))
        #expect(screen.contains("  1 Relaxed exact          ℓ2           1.69694 ✓ optimal"))
        tmux.send("q")
        try tmux.waitFor("__EXIT=0")
        // The replayed run is now in this session's log too.
        let record = try SessionRecord.read(path: setup.sessionLogs()[0])
        #expect(record.runs.first?.parameters.replayedFrom == "old.jsonl")
        #expect(record.runs.first?.iterations.count == 40)
    }

    @Test(.enabled(if: tmuxAvailable()), .timeLimit(.minutes(3)))
    func sigtermCancelsTheRunAndClosesTheLog() throws {
        let setup = try Setup(tag: "term")
        defer { setup.cleanUp() }
        let tmux = setup.tmux
        let (pid, _) = try Self.startLongRun(setup, iterations: 1)
        #expect(kill(pid, SIGTERM) == 0)
        try tmux.waitFor("the workbench to exit", timeout: 20) { _ in kill(pid, 0) != 0 }
        let contents = try SessionLogReader.read(path: setup.sessionLogs()[0])
        #expect(contents.isComplete)
        let record = SessionRecord(contents: contents)
        #expect(record.runs.first?.result?.status == .cancelled)
        #expect(record.notes == ["terminated by signal 15"])
        guard case .sessionEnd? = contents.events.last else { Issue.record("no session_end"); return }
    }

    /// The Run pane offers an SDP method exactly its declared options; the solver key cycles the
    /// SDP backends only, and the run uses the one chosen.
    @Test(.enabled(if: tmuxAvailable()), .timeLimit(.minutes(3)))
    func sdpMethodShowsItsOptionsAndCyclesOnlySDPSolvers() throws {
        let setup = try Setup(tag: "opts")
        defer { setup.cleanUp() }
        let tmux = setup.tmux
        try setup.start("tiny_relu_1.json")
        try tmux.waitFor("loaded tiny_relu_1")
        let tiny = try NetworkLoader.load(path: setup.nets + "/tiny_relu_1.json")
        try Self.select("lipsdp-neuron", on: tiny, norm: .l2, tmux)
        var screen = try tmux.waitFor("[solver structured]")
        for token in ["chordal auto", "split —", "reduce on", "scale on", "gap —", "time_limit —"] {
            #expect(screen.contains(token), "\(token) missing")
        }
        #expect(!screen.contains("cliques"))
        // b: dsdp (set), csdp (set), factored (set), back to the default structured, dsdp again —
        // never an LP solver.
        for (shown, message) in [("[solver dsdp* (default structured)]", "LipSDP-Neuron solver: dsdp (set; default structured)"),
                                 ("[solver csdp* (default structured)]", "LipSDP-Neuron solver: csdp (set; default structured)"),
                                 ("[solver factored* (default structured)]", "LipSDP-Neuron solver: factored (set; default structured)"),
                                 ("[solver structured]", "LipSDP-Neuron solver: structured (default)"),
                                 ("[solver dsdp* (default structured)]", "LipSDP-Neuron solver: dsdp (set; default structured)")] {
            tmux.send("b")
            screen = try tmux.waitFor("\(shown) and '\(message)'") { $0.contains(shown) && $0.contains(message) }
            #expect(!screen.contains("clp"))
            tmux.send("a", "Escape")  // a note discarded: clears the message for the next step
            try tmux.waitFor("note discarded")
        }
        tmux.send("d")
        try tmux.waitFor("[chordal on* (default auto)]")
        tmux.send("b", "Enter")
        try tmux.waitFor("LipSDP-Neuron ℓ2: 1.81", timeout: 60)
        tmux.send("q")
        try tmux.waitFor("__EXIT=0")
        let record = try SessionRecord.read(path: setup.sessionLogs()[0])
        let run = try #require(record.runs.first)
        #expect(run.parameters.options == ["solver": "csdp", "chordal": "on"])
        #expect(run.result?.details["solver"] == .string("csdp"))
        #expect(run.result?.details["chordal_setting"] == .string("on"))
        // LipSDP-Neuron ℓ2 on tiny_relu_1: 1.8169737978016054 in testnets/expected.json (rel. tol. 1e-3).
        let value = try #require(run.result?.value)
        #expect(abs(value - 1.8169737978016054) <= 1e-3 * 1.8169737978016054)
    }

    /// A LiPopt-LP degree sweep on tiny_relu_1 first computes p* with relaxed-exact (11 hidden
    /// neurons: cheap), then stops at degree 3, where the LP bound equals it.
    @Test(.enabled(if: tmuxAvailable()), .timeLimit(.minutes(3)))
    func sweepStopsWhereTheBoundReachesPStar() throws {
        let setup = try Setup(tag: "sweep")
        defer { setup.cleanUp() }
        let tmux = setup.tmux
        try setup.start("tiny_relu_1.json")
        try tmux.waitFor("loaded tiny_relu_1")
        tmux.send("n")
        try tmux.waitFor("norm ℓ∞")
        let tiny = try NetworkLoader.load(path: setup.nets + "/tiny_relu_1.json")
        try Self.select("lipopt-lp", on: tiny, norm: .linf, tmux)
        tmux.send("s")
        // relaxed-exact ℓ∞ on tiny_relu_1 is 1.7961325189435495 (testnets/expected.json).
        let screen = try tmux.waitFor("reached relaxed-exact p* = 1.79613 at degree 3; higher degrees cannot be lower", timeout: 120)
        #expect(screen.contains("p* = 1.79613 (relaxed-exact"))
        #expect(screen.contains("Relaxed exact          ℓ∞"))
        #expect(screen.contains("LiPopt-LP              ℓ∞     3     1.79613 ✓ optimal"))
        // The LP run's own pane: its "output j: solving" lines gave way to the per-output values.
        tmux.send("p")
        let live = try tmux.waitFor("per output 0: 1.79613, 1: ")
        #expect(!live.contains("solving"))
        tmux.send("q")
        try tmux.waitFor("__EXIT=0")
        let record = try SessionRecord.read(path: setup.sessionLogs()[0])
        #expect(record.runs.map(\.parameters.method) == ["relaxed-exact", "lipopt-lp"])
        #expect(record.runs.allSatisfy { $0.parameters.sweep })
        let bound = try #require(record.runs.last?.result?.value)
        #expect(bound >= 1.7961325189435495 * (1 - 1e-9) && bound <= 1.7961325189435495 * (1 + 1e-6))
    }

    /// t, a tiny configuration (hidden 10, 2 epochs), Enter: epoch rows stream into the live
    /// table, the end message names the saved network, the workbench opens it, and the session
    /// log has the run. The logged bound is checked against the closed form on the saved file.
    @Test(.enabled(if: tmuxAvailable()), .timeLimit(.minutes(5)))
    func trainsATinyNetworkAndOpensIt() throws {
        let setup = try Setup(tag: "train")
        defer { setup.cleanUp() }
        let tmux = setup.tmux
        try setup.start("tiny_relu_1.json", cols: 200)  // wide: the end message is long
        try tmux.waitFor("loaded tiny_relu_1")
        tmux.send("t")
        try tmux.waitFor("▸ hidden states n     ◂ 100 ▸")
        tmux.send(contentsOf: Array(repeating: "Left", count: 5))  // 100 → 75 → 50 → 30 → 20 → 10
        try tmux.waitFor("▸ hidden states n     ◂ 10 ▸")
        tmux.send(contentsOf: ["Down", "Down", "Down"] + Array(repeating: "Left", count: 13))  // 15 → 2 epochs
        try tmux.waitFor("▸ epochs              ◂ 2 ▸")
        tmux.send("Enter")
        var screen = try tmux.waitFor("trained 2 epochs", timeout: 120)
        #expect(screen.contains("epoch      loss train_acc  test_acc    mu_inf     bound      iter   epoch_s"))
        #expect(TmuxDriver.match(#"(│ +1 +[0-9.]+ +0\.[0-9]+)"#, in: screen) != nil, "no row of epoch 1")
        #expect(TmuxDriver.match(#"(│ +2 +[0-9.]+ +0\.[0-9]+)"#, in: screen) != nil, "no row of epoch 2")
        #expect(screen.contains("Live: #1 training n 10 γ 0.5 λ 0.0 polytope — finished, 2/2 epochs"))
        screen = try tmux.waitFor("— opened it", timeout: 30)
        let saved = try #require(TmuxDriver.match(#"saved (\S+\.json)"#, in: screen))
        #expect(saved.hasSuffix("-train1.json"))
        #expect(screen.contains("implicit"))  // the Network pane shows the trained network
        // Contraction (ℓ∞) runs on it and gives the bound the training logged for epoch 2.
        tmux.send("n")
        let trained = try NetworkLoader.load(path: setup.sessions + "/" + saved)
        try Self.select("contraction", on: trained, norm: .linf, tmux)
        tmux.send("Enter")
        let contraction = try tmux.waitFor("Contraction ℓ∞: ", timeout: 60)
        tmux.send("q")
        try tmux.waitFor("__EXIT=0")

        let record = try SessionRecord.read(path: setup.sessionLogs()[0])
        let training = try #require(record.trainings.first)
        #expect(training.parameters.hidden == 10 && training.parameters.epochs == 2 && training.parameters.data == "digits")
        #expect(training.epochs.map(\.epoch) == [1, 2])
        #expect(training.summary?.status == .finished && training.summary?.epochs == 2)
        let path = try #require(training.summary?.saved)
        #expect(path.hasSuffix(saved.split(separator: "/").last.map(String.init) ?? saved))
        #expect(record.networks.last?.path == path)  // opened after training
        // The logged bound against ‖D‖∞ + ‖C‖∞‖B‖∞ / (1 − μ∞(A)) on the saved file (the
        // certified value may exceed it by the rounding margin only).
        guard case .implicit(let net) = try NetworkLoader.load(path: path) else { Issue.record("not implicit"); return }
        func rowSum(_ m: Matrix, _ i: Int, diagonal: Bool = false) -> Double {
            (0..<m.columns).reduce(0) { $0 + (diagonal && $1 == i ? m[i, $1] : abs(m[i, $1])) }
        }
        func norm(_ m: Matrix) -> Double { (0..<m.rows).map { rowSum(m, $0) }.max() ?? 0 }
        let mu = (0..<net.A.rows).map { rowSum(net.A, $0, diagonal: true) }.max()!
        #expect(mu <= 0.5 + 1e-9)
        let closedForm = norm(net.D) + norm(net.C) * norm(net.B) / (1 - mu)
        let logged = try #require(training.epochs.last?.certifiedBound)
        #expect(logged >= closedForm && logged <= closedForm * (1 + 1e-6), "\(logged) vs \(closedForm)")
        #expect(contraction.contains("Contraction ℓ∞: \(Presentation.shortNumber(logged)) certified upper bound"))
        let report = SessionReport.markdown(record, title: "train")
        #expect(report.contains("## Training run 1") && report.contains("network saved to `\(path)`"))
    }
}
