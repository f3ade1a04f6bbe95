import Foundation
import Testing
@testable import LipscopeEngine
@testable import LipscopeTUI
import LipscopeTestSupport

/// `v` certifies the region's label in the background: the start effect carries the CLI's
/// problem, the live pane counts classes as they settle, the verdict is the certifier's own
/// (checked against `lipscope certify`), c cancels it, and the session log keeps it.
@Suite struct CertifyJobTests {
    static let tinyPath = Fixtures.repositoryPath("examples/tiny_relu_1.json")
    static let mnistPath = Fixtures.path("vnncomp2021/mnist-net_256x2.onnx")
    static let center = [0.5, -0.25]

    struct Start {
        var run: Int
        var problem: Certifier.Problem
        var method: Certifier.Method
        var seed: UInt64
    }

    static func start(_ effects: [Effect]) -> Start? {
        for e in effects {
            if case .startCertify(let run, let problem, let method, let seed) = e { return Start(run: run, problem: problem, method: method, seed: seed) }
        }
        return nil
    }

    static func logged(_ effects: [Effect]) -> CertifyRecord? {
        for e in effects { if case .log(.certifyFinished(_, _, let record)) = e { return record } }
        return nil
    }

    /// Runs the certification as the runtime does (the certifier with a progress listener),
    /// feeding every update to the workbench in order. Returns the live title's progress text
    /// after each settled class, the outcome, and the effects of the end.
    static func drive(_ s: inout WorkbenchState, _ start: Start) throws -> (texts: [String], outcome: Certifier.Outcome, end: [Effect]) {
        var updates: [CertifyUpdate] = []
        let outcome = try Certifier.certify(start.problem, method: start.method, seed: start.seed) { progress in
            switch progress {
            case .phase(let phase): updates.append(.phase(phase))
            case .settled(let k, let m, let b, let l): updates.append(.settled(index: k, margin: m, bound: b, lowerMargin: l))
            }
        }
        var texts: [String] = []
        for update in updates {
            s.send(.certify(run: start.run, update))
            if case .settled = update {
                let text = try #require(s.certify).progressText
                #expect(s.screenText.contains(text), "\(s.screenText)")
                texts.append(text)
            }
        }
        let end = s.send(.certify(run: start.run, .finished(outcome)))
        return (texts, outcome, end)
    }

    /// `lipscope certify … --json`, parsed.
    static func cli(_ arguments: [String]) throws -> [String: Any] {
        let run = try CLIProcess.run(["certify"] + arguments + ["--json"])
        #expect(run.status == 0, "\(run.stderr)")
        return try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
    }

    /// A ball around a center file (no label): v says how to get one; L sets it.
    func tinyWithBall() -> WorkbenchState {
        var s = loadedState()
        s.send(.regionLoaded(path: "/work/x0.json", file: RegionFile(center: Self.center)))
        return s
    }

    @Test func withoutALabelVSaysHowToGetOne() throws {
        var s = tinyWithBall()
        #expect(Self.start(s.press(.char("v"))) == nil)
        let message = try #require(s.message)
        #expect(message.isError && message.text == "no label: x0.json carries none (a .vnnlib property does) — L sets one")
        s.press(.char("L"))
        #expect(s.region.label == 0 && s.message?.text == "label 0 — v certifies it over the region")
        #expect(s.screenText.contains("region ball r=0.03 around x0.json, label 0"))
        s.press(.char("L"), .char("L"))  // two outputs: 0 → 1 → 0
        #expect(s.region.label == 0)
        // Global: there is no region to certify over.
        s.press(.char("g"))
        #expect(Self.start(s.press(.char("v"))) == nil)
        #expect(s.message?.text == "the region is off (global) — g switches it on; certify needs a ball or a box")
    }

    @Test func graphsWithSkipConnectionsAreNotCertified() throws {
        let graph = try NetworkLoader.load(path: Fixtures.path("vnncomp2021/resnet_2b.onnx"))
        var s = loadedState(network: graph)
        #expect(Self.start(s.press(.char("v"))) == nil)
        #expect(s.message?.text.hasPrefix("certify needs a feedforward network (a chain of layers) or an implicit one") == true, "\(s.message?.text ?? "")")
    }

    /// An implicit net is certified as `lipscope certify` does it (ImplicitCertifier, its default
    /// method equilibrium, seed 1): the start effect carries the problem, the classes settle in
    /// the live pane, and the verdict and lower margins equal the CLI's.
    @Test func implicitNetIsCertifiedLikeTheCLI() throws {
        let path = Fixtures.path("testnets/implicit_n8.json")
        var s = loadedState(network: try NetworkLoader.load(path: path))
        s.send(.regionLoaded(path: "/work/x0.json", file: RegionFile(center: [0.1, -0.2, 0.3])))
        while s.region.label != 1 { s.press(.char("L")) }
        var found: (run: Int, problem: ImplicitCertifier.Problem, method: ImplicitCertifier.Method, seed: UInt64)?
        for e in s.press(.char("v")) {
            if case .startImplicitCertify(let run, let problem, let method, let seed) = e { found = (run, problem, method, seed) }
        }
        let start = try #require(found, "\(s.message?.text ?? "")")
        #expect(start.method == .equilibrium && start.seed == 1 && start.problem.label == 1 && start.problem.others == [0])
        #expect(start.problem.region == (try InputRegion(center: [0.1, -0.2, 0.3], radius: 0.03)))
        #expect(s.screenText.contains("certify label 1 r=0.03: 0/1 classes, 0 hold — running"))
        var updates: [CertifyUpdate] = []
        let outcome = try ImplicitCertifier.certify(start.problem, method: start.method, seed: start.seed) { progress in
            switch progress {
            case .phase(let phase): updates.append(.phase(phase))
            case .settled(let k, let m, let b, let l): updates.append(.settled(index: k, margin: m, bound: b, lowerMargin: l))
            }
        }
        for update in updates { s.send(.certify(run: start.run, update)) }
        #expect(s.certify?.progressText == "certify label 1 r=0.03: 1/1 classes, 1 hold")
        let end = s.send(.certify(run: start.run, .finishedImplicit(outcome)))
        #expect(outcome.verdict == .holds)
        #expect(s.message?.text == "certify label 1 r=0.03 (equilibrium): holds — 1/1 classes hold, \(Format.seconds(outcome.seconds))")
        let record = try #require(Self.logged(end))
        #expect(record.method == "equilibrium" && record.verdict == .holds && record.domains == nil)
        #expect(record.classes == [.init(other: 0, margin: outcome.margins[0], bound: outcome.bounds[0], lowerMargin: outcome.lowerMargins[0])])
        let cli = try Self.cli([path, "--center", "0.1,-0.2,0.3", "--label", "1", "--radius", "0.03"])
        #expect(cli["verdict"] as? String == "holds" && cli["method"] as? String == "equilibrium")
        let lower = try #require(cli["lower_margins"] as? [Double])
        #expect(lower.count == 1 && abs(lower[0] - outcome.lowerMargins[0]) <= 1e-9 * max(1, abs(lower[0])))
    }

    /// The tiny net over a ball: the start effect is the CLI's problem (label, other classes, the
    /// ball, bab), the run is shown live, and the verdict and margins equal `lipscope certify`'s.
    @Test func ballOnTheTinyNetMatchesTheCLI() throws {
        var s = tinyWithBall()
        // The label the net gives the center: the certification can hold.
        let y = tinyNetwork().forward(Self.center)
        let label = y.indices.max { y[$0] < y[$1] }!
        while s.region.label != label { s.press(.char("L")) }
        let start = try #require(Self.start(s.press(.char("v"))))
        #expect(start.method == .bab && start.seed == 1)
        #expect(start.problem.label == label && start.problem.others == [1 - label])
        #expect(start.problem.region == (try InputRegion(center: Self.center, radius: 0.03)))
        #expect(s.isRunning && s.runningCertify?.id == start.run)
        #expect(s.screenText.contains("Live: #\(start.run) certify label \(label) r=0.03: 0/1 classes, 0 hold — running"))
        // A bound run or a second certify waits for this one.
        s.press(.enter)
        #expect(s.active == nil && s.message?.text == "certify is running — Esc or c cancels it")
        #expect(Self.start(s.press(.char("v"))) == nil)

        let (texts, outcome, end) = try Self.drive(&s, start)
        let holds = outcome.lowerMargins[0] > 0 ? 1 : 0
        #expect(texts == ["certify label \(label) r=0.03: 1/1 classes, \(holds) hold"])
        let job = try #require(s.certify)
        #expect(!job.running && !s.isRunning)
        #expect(s.message?.text == "certify label \(label) r=0.03 (bab): \(outcome.verdict.rawValue) — \(holds)/1 classes hold, \(Format.seconds(outcome.seconds))")
        #expect(s.screenText.contains("label \(label) over the ball r=0.03 around x0.json, method bab — \(outcome.verdict.rawValue)"))

        let cli = try Self.cli([Self.tinyPath, "--center", "0.5,-0.25", "--label", "\(label)", "--radius", "0.03"])
        #expect(cli["verdict"] as? String == outcome.verdict.rawValue)
        #expect(outcome.verdict == .holds, "the center's label over a small ball")
        let lower = try #require(cli["lower_margins"] as? [Double])
        #expect(lower.count == 1 && abs(lower[0] - outcome.lowerMargins[0]) <= 1e-9 * max(1, abs(lower[0])))

        // The session log gets the run: region, label, method, verdict, bounds, seconds.
        let record = try #require(Self.logged(end))
        #expect(record.region == CertifyRecord.Region(center: Self.center, radius: 0.03, source: "x0.json"))
        #expect(record.label == label && record.others == [1 - label] && record.method == "bab")
        #expect(record.verdict == .holds && record.status == .finished && record.network == "tiny_relu_1")
        #expect(record.classes == [.init(other: 1 - label, margin: outcome.margins[0], bound: outcome.bounds[0], lowerMargin: outcome.lowerMargins[0])])
        #expect(record.seconds == outcome.seconds && record.domains == outcome.domains)
        // A bound run takes the live pane back.
        s.press(.enter)
        #expect(s.active != nil && !s.screenText.contains("certify label"))
    }

    /// VNN-LIB properties of the 784-input MNIST net: the box as given, the property's label and
    /// classes; classes are counted as they settle; the verdict agrees with `lipscope certify
    /// --vnnlib` and with VNN-COMP 2021's answer (verdicts.csv); a violation comes with its
    /// counterexample.
    /// (prop_0 holds too, in about 3 s on an idle machine, but only within bab's wall-clock time
    /// limit: on a loaded machine it is `unknown`, so it is not a test case.)
    @Test(arguments: [("prop_7_0.03.vnnlib", Certifier.Verdict.violated)])
    func vnnlibPropertyOnMNISTCountsClassesToTheVerdict(name: String, expected: Certifier.Verdict) throws {
        let vnnlib = Fixtures.path("vnncomp2021/\(name)")
        let net = try NetworkLoader.load(path: Self.mnistPath)
        var s = loadedState(network: net)
        let file = try RegionFile.load(path: vnnlib, inputSize: 784, outputSize: 10)
        s.send(.regionLoaded(path: vnnlib, file: file))
        let property = try VNNLIBFormat.load(path: vnnlib)
        let start = try #require(Self.start(s.press(.char("v"))))
        #expect(start.problem.label == property.label && start.problem.others == property.others)
        #expect(start.problem.region == property.region)
        let (texts, outcome, end) = try Self.drive(&s, start)
        // One text per class, the count going up by one each time, to all of them.
        #expect(texts.count == property.others.count)
        let title = "certify label \(property.label) box"
        for (k, text) in texts.enumerated() { #expect(text.hasPrefix("\(title): \(k + 1)/\(property.others.count) classes, ")) }
        let holding = outcome.lowerMargins.filter { $0 > 0 }.count
        #expect(texts.last == "\(title): \(property.others.count)/\(property.others.count) classes, \(holding) hold")

        #expect(outcome.verdict == expected)
        let cli = try Self.cli([Self.mnistPath, "--vnnlib", vnnlib])
        #expect(cli["verdict"] as? String == expected.rawValue)
        let message = try #require(s.message)
        let record = try #require(Self.logged(end))
        #expect(record.verdict == expected)
        if expected == .violated {
            let ce = try #require(outcome.counterexample)
            #expect(message.isError && message.text.hasPrefix("\(title) (bab): violated — class \(ce.winner) reaches label \(property.label) (forward pass checked), "))
            #expect(s.screenText.contains("counterexample: class \(ce.winner) reaches"))
            #expect(record.counterexample?.other == ce.winner)
        } else {
            #expect(!message.isError && message.text == "\(title) (bab): \(expected.rawValue) — \(holding)/9 classes hold, \(Format.seconds(outcome.seconds))")
            #expect(record.counterexample == nil)
        }
        #expect(record.region.lower == property.region.lower && record.region.upper == property.region.upper)
        #expect(record.region.source == name && record.region.radius == nil)
        #expect(record.classes.map(\.other) == property.others && record.classes.map(\.lowerMargin) == outcome.lowerMargins)
    }

    @Test func cancelStopsTheJobAndTheLogSaysSo() throws {
        var s = tinyWithBall()
        s.press(.char("L"))
        let start = try #require(Self.start(s.press(.char("v"))))
        let cancel = s.press(.char("c"))
        #expect(cancel.contains { if case .cancel(start.run) = $0 { true } else { false } })
        #expect(s.screenText.contains("certify label 0 r=0.03: 0/1 classes, 0 hold — cancelling…"))
        #expect(s.press(.char("c")).isEmpty, "a second c does not cancel twice")
        let end = s.send(.certify(run: start.run, .cancelled(seconds: 0.25)))
        #expect(!s.isRunning)
        #expect(s.message == Message(text: "certify label 0 r=0.03 (bab): cancelled — 0/1 classes settled, 0 hold, \(Format.seconds(0.25))", isError: true))
        let record = try #require(Self.logged(end))
        #expect(record.status == .cancelled && record.verdict == .unknown && record.classes.isEmpty && record.seconds == 0.25)
        // Late updates of the cancelled run change nothing.
        s.send(.certify(run: start.run, .settled(index: 0, margin: 1, bound: 1, lowerMargin: 1)))
        #expect(s.certify?.record.classes.isEmpty == true)
        // Quitting while certifying cancels it.
        let again = try #require(Self.start(s.press(.char("v"))))
        s.press(.char("q"))
        let quit = s.press(.char("y"))
        #expect(quit.contains { if case .cancel(again.run) = $0 { true } else { false } } && quit.contains(where: \.isQuit))
    }

    /// The certifier's listener: it sees every class once with the outcome's values, does not
    /// change the outcome, and stops the certification when it throws (the runtime's cancel).
    @Test func theProgressListenerChangesNothingAndCanStopIt() throws {
        let net = try #require(try NetworkLoader.load(path: Self.mnistPath).layerChain)
        let property = try VNNLIBFormat.load(path: Fixtures.path("vnncomp2021/prop_0_0.03.vnnlib"))
        let problem = Certifier.Problem(network: net, region: property.region, label: property.label, others: property.others)
        for method in [Certifier.Method.crown, .naive] {
            let plain = try Certifier.certify(problem, method: method)
            var settled: [Int: Double] = [:], phases: [String] = []
            let heard = try Certifier.certify(problem, method: method) { p in
                switch p {
                case .phase(let phase): phases.append(phase)
                case .settled(let k, _, _, let lower):
                    #expect(settled[k] == nil, "class \(k) settled twice")
                    settled[k] = lower
                }
            }
            #expect(heard.verdict == plain.verdict && heard.lowerMargins == plain.lowerMargins, "\(method)")
            #expect(settled.count == problem.others.count && problem.others.indices.allSatisfy { settled[$0] == heard.lowerMargins[$0] })
            #expect(phases.first == "bounding the region")
        }
        #expect(throws: CancelledError.self) {
            try Certifier.certify(problem, method: .crown) { _ in throw CancelledError() }
        }
    }

    /// The new log event: written, read back equal, rebuilt into the session record, and shown
    /// again by a replay; logs from before it load unchanged.
    @Test func sessionLogRoundTripAndReplay() throws {
        let record = CertifyRecord(network: "tiny_relu_1", label: 0, others: [1], method: "bab",
                                   region: .init(center: [0.5, -0.25], radius: 0.03, source: "x0.json"), verdict: .unknown,
                                   status: .finished, classes: [.init(other: 1, margin: 0.5, bound: -0.125, lowerMargin: -.infinity)],
                                   seconds: 1.5, counterexample: nil, note: "time limit", domains: 17)
        let event = SessionEvent.certifyFinished(time: "2026-12-06T20:00:00.000Z", run: 4, record: record)
        let line = event.jsonLine()
        #expect(line.contains("\"type\":\"certify_finished\"") && line.contains("\"lower_margin\":\"-inf\""))
        #expect(try SessionEvent.decode(line: line) == event)
        #expect(event.run == 4 && event.withTime("t") == .certifyFinished(time: "t", run: 4, record: record))

        let old = """
        {"type":"session_start","version":"0.9.0","time":"2026-01-01T00:00:00.000Z"}
        {"type":"note","text":"before certify existed","time":"2026-01-01T00:00:01.000Z"}
        {"type":"session_end","time":"2026-01-01T00:00:02.000Z"}
        """
        let oldContents = SessionLogReader.parse(Data(old.utf8))
        #expect(oldContents.problem == nil && oldContents.events.count == 3)
        #expect(SessionRecord(contents: oldContents).certifications.isEmpty)

        let contents = SessionLogReader.parse(Data((old.split(separator: "\n").dropLast().joined(separator: "\n") + "\n" + line + "\n").utf8))
        #expect(contents.problem == nil)
        let session = SessionRecord(contents: contents)
        #expect(session.certifications == [record])
        // `lipscope report` lists it.
        let report = SessionReport.markdown(session, title: "t")
        #expect(report.contains("1 certify run(s)") && report.contains("## Certify runs"))
        #expect(report.contains("| tiny_relu_1 | ball r=0.03 around x0.json | 0 | bab | **unknown** | 0/1 | "), "\(report)")

        var s = loadedState()
        let effects = s.send(.replayLoaded(path: "/work/sessions/old.jsonl", record: session))
        var copied = record
        copied.replayedFrom = "old.jsonl"
        #expect(Self.logged(effects) == copied)
        #expect(s.message?.text.hasPrefix("reopened old.jsonl: 0 runs, 1 certify run (last: unknown)") == true, "\(s.message?.text ?? "")")
        #expect(s.screenText.contains("certify label 0 r=0.03 (bab): unknown — 0/1 classes hold, \(Format.seconds(1.5)) (replayed)"), "\(s.screenText)")
        #expect(s.screenText.contains("note: time limit"))
    }

    /// The real runtime: `v` starts the certifier on a thread, its updates come back through the
    /// inbox, and the session log file gets the run; a cancel stops it at its next stage.
    @Test func theRuntimeCertifiesOnAThreadAndLogsIt() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lipscope-certify-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let runtime = Runtime(options: WorkbenchOptions(sessionsDirectory: dir, methods: fakeMethods), inbox: Inbox())
        runtime.start(rows: 40, cols: 120, colors: false)
        runtime.dispatch(.networkLoaded(path: Self.tinyPath, network: tinyNetwork(), sha256: nil))
        runtime.dispatch(.regionLoaded(path: "/work/x0.json", file: RegionFile(center: Self.center, label: 0)))

        /// Feeds the inbox to the runtime until nothing runs (or 60 s pass).
        func settle() {
            let deadline = Date().addingTimeInterval(60)
            while runtime.state.isRunning && Date() < deadline {
                for event in runtime.inbox.drain() { runtime.dispatch(event) }
                Thread.sleep(forTimeInterval: 0.01)
            }
        }
        runtime.dispatch(.key(.char("v")))
        #expect(runtime.state.runningCertify != nil && runtime.certifications.count == 1)
        settle()
        let done = try #require(runtime.state.certify)
        #expect(!done.running && done.record.status == .finished && done.record.verdict == .holds)
        #expect(runtime.certifications.isEmpty, "the finished run's cancel switch is dropped")

        // A cancel right after the start stops the certifier at its next stage (on the MNIST
        // net bounding the region alone takes a good part of a second: the cancel comes first).
        let vnnlib = Fixtures.path("vnncomp2021/prop_7_0.03.vnnlib")
        runtime.dispatch(.networkLoaded(path: Self.mnistPath, network: try NetworkLoader.load(path: Self.mnistPath), sha256: nil))
        runtime.dispatch(.regionLoaded(path: vnnlib, file: try RegionFile.load(path: vnnlib, inputSize: 784, outputSize: 10)))
        runtime.dispatch(.key(.char("v")))
        runtime.dispatch(.key(.char("c")))
        settle()
        let cancelled = try #require(runtime.state.certify)
        #expect(cancelled.id != done.id && cancelled.record.status == .cancelled && !runtime.state.isRunning)

        // An implicit net runs on the same kind of thread (ImplicitCertifier).
        let implicitPath = Fixtures.path("testnets/implicit_n8.json")
        runtime.dispatch(.networkLoaded(path: implicitPath, network: try NetworkLoader.load(path: implicitPath), sha256: nil))
        runtime.dispatch(.regionLoaded(path: "/work/x1.json", file: RegionFile(center: [0.1, -0.2, 0.3], label: 1)))
        runtime.dispatch(.key(.char("v")))
        #expect(runtime.state.runningCertify != nil)
        settle()
        let implicit = try #require(runtime.state.certify)
        #expect(!implicit.running && implicit.record.status == .finished && implicit.record.verdict == .holds)
        #expect(implicit.record.method == "equilibrium" && runtime.certifications.isEmpty)

        runtime.finish()
        let log = try #require(runtime.logPath)
        let record = try SessionRecord.read(path: log)
        #expect(record.problem == nil && record.certifications == [done.record, cancelled.record, implicit.record])
    }
}
