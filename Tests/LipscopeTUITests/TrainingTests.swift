import Foundation
import Testing
@testable import LipscopeEngine
@testable import LipscopeTUI
import LipscopeTestSupport

/// Training in the workbench (t): the form, the effect that starts it, epochs in the live pane,
/// the end (the network is saved and opened), cancelling, and the session log's record of it.
@Suite struct TrainingTests {
    static let log = "/work/sessions/session-1.jsonl"

    static func epoch(_ k: Int, test: Double, bound: Double?) -> EpochRecord {
        EpochRecord(epoch: k, loss: 2.0 / Double(k), crossEntropy: 2.0 / Double(k), regularizer: 0, trainAccuracy: test + 0.01,
                    testAccuracy: test, muInf: 0.5, certifiedBound: bound, meanForwardIterations: 12.5, meanBackwardIterations: 9,
                    unconvergedBatches: 0, seconds: 0.75, elapsed: 0.8 * Double(k))
    }

    /// A loaded workbench with a session log, after `t` and Enter.
    static func trainingState(_ keys: Key...) -> (WorkbenchState, [Effect]) {
        var s = loadedState()
        _ = Update.apply(&s, .sessionLogOpened(path: log))
        s.press(.char("t"))
        let effects = (keys + [.enter]).flatMap { s.press($0) }
        return (s, effects)
    }

    @Test func tOpensTheFormWithTheDefaultsAndEnterStartsTheTrainingEffect() throws {
        var s = loadedState()
        _ = Update.apply(&s, .sessionLogOpened(path: Self.log))
        #expect(s.press(.char("t")).isEmpty)
        guard case .trainForm = s.mode else { Issue.record("\(s.mode)"); return }
        let screen = s.screenText
        #expect(screen.contains("Train an implicit network (t)"))
        #expect(screen.contains("▸ hidden states n     ◂ 100 ▸"))
        #expect(screen.contains("γ (μ∞(A) ≤ γ)         0.5"))
        #expect(screen.contains("parameterization      polytope"))
        #expect(screen.contains("saves  sessions/session-1-train1.json"))
        // γ one step up, epochs one down, then train.
        let effects = s.press(.down, .right, .down, .down, .left, .enter)
        let parameters = try #require(effects.compactMap { e -> TrainingParameters? in
            if case .startTraining(1, let p) = e { return p }; return nil
        }.first, "\(effects)")
        #expect(parameters == TrainingParameters(data: "digits", hidden: 100, gamma: 0.6, lambda: 0, epochs: 14, seed: 1,
                                                 parameterization: .polytope, out: "/work/sessions/session-1-train1.json"))
        #expect(effects.compactMap(\.loggedEvent).first == .trainingStarted(time: "", run: 1, parameters: parameters))
        #expect(parameters.settings.name == "session-1-train1")
        guard case .main = s.mode else { Issue.record("\(s.mode)"); return }
        #expect(s.isRunning && s.runningTraining?.id == 1)
        #expect(s.screenText.contains("● training"))
        #expect(s.screenText.contains("waiting for the first epoch…"))
        // One run at a time: Enter does not start a bound run, t not a second training.
        #expect(s.press(.enter).isEmpty)
        #expect(s.message?.text == "training is running — Esc or c cancels it")
        #expect(s.press(.char("t")).isEmpty)
        #expect(s.message?.isError == true)
    }

    @Test func formStepsStayInRangeAndRejectWhatTheEngineRejects() {
        var form = TrainForm()
        for _ in 0..<20 { form.step(.gamma, up: true) }
        #expect(form.gamma == 0.99)  // never 1: no contraction
        for _ in 0..<300 { form.step(.epochs, up: false) }
        #expect(form.epochs == 1)
        form.step(.seed, up: false); form.step(.seed, up: false)
        #expect(form.seed == 0)
        form.step(.lambda, up: true)
        #expect(form.lambda == 1e-4 && form.problem == nil)
        form.parameterization = .monotone
        #expect(form.problem?.contains("λ > 0 needs an ℓ∞ parameterization") == true)
        // The form refuses to start what the engine would refuse.
        var s = loadedState()
        s.trainForm = form
        s.press(.char("t"))
        #expect(s.press(.enter).isEmpty)
        #expect(s.message?.isError == true && s.training == nil)
        s.press(.char("x"))  // the cursor is on hidden: its default
        s.press(.down, .down, .char("x"))  // λ back to 0
        #expect(s.trainForm.lambda == 0 && s.trainForm.problem == nil)
        s.press(.escape)
        #expect(s.message?.text == "training not started")
    }

    @Test func epochEventsFillTheLiveTableAndThePlot() {
        var (s, _) = Self.trainingState()
        let log = s.send(.training(run: 1, .log("1438 training and 359 test examples")))
        #expect(log.compactMap(\.loggedEvent) == [.log(run: 1, message: "1438 training and 359 test examples")])
        let e1 = Self.epoch(1, test: 0.8125, bound: 41.5), e2 = Self.epoch(2, test: 0.9031, bound: nil)
        #expect(s.send(.training(run: 1, .epoch(e1))).compactMap(\.loggedEvent) == [.trainingEpoch(run: 1, record: e1)])
        s.send(.training(run: 1, .epoch(e2)))
        s.send(.training(run: 7, .epoch(e2)))  // not this run: ignored
        #expect(s.training?.epochs == [e1, e2])
        #expect(s.training?.view.iterations.map(\.index) == [1, 2])
        let screen = s.screenText
        #expect(screen.contains("Live: #1 training n 100 γ 0.5 λ 0.0 polytope — running"))
        #expect(screen.contains("epoch 2/15"))
        #expect(screen.contains("epoch      loss train_acc  test_acc    mu_inf     bound      iter   epoch_s"))
        #expect(screen.contains("    1         2    0.8225    0.8125       0.5      41.5      12.5      0.75"))
        // Epoch 2 has no certificate: no finite bound is promised.
        #expect(screen.contains("    2         1    0.9131    0.9031       0.5       inf      12.5      0.75"))
        #expect(screen.contains("● test_acc  ● train_acc"))
    }

    @Test func theEndSavesLogsAndOpensTheTrainedNetwork() throws {
        var (s, _) = Self.trainingState()
        s.send(.training(run: 1, .epoch(Self.epoch(1, test: 0.8, bound: 30))))
        s.send(.training(run: 1, .epoch(Self.epoch(2, test: 0.9, bound: 25.25))))
        let saved = "/work/sessions/session-1-train1.json"
        let summary = TrainingSummary(status: .finished, epochs: 2, seconds: 1.6, saved: saved)
        let effects = s.send(.training(run: 1, .finished(summary)))
        #expect(effects.compactMap(\.loggedEvent) == [.trainingFinished(time: "", run: 1, summary: summary)])
        guard case .loadNetwork(saved)? = effects.last else { Issue.record("\(effects)"); return }
        let text = "trained 2 epochs in 1.60 s: test accuracy 90.00 %, certified ℓ∞ bound 25.25 (η = 1); saved session-1-train1.json"
        #expect(s.message == Message(text: text, isError: false))
        #expect(!s.isRunning)
        #expect(s.screenText.contains("Live: #1 training n 100 γ 0.5 λ 0.0 polytope — finished, 2/15 epochs"))
        // The runtime loads it: the workbench works on it and the live pane keeps the epochs.
        let net = try NetworkLoader.load(path: Fixtures.repositoryPath("Tests/Fixtures/testnets/implicit_n20.json"))
        s.send(.networkLoaded(path: saved, network: net, sha256: nil))
        #expect(s.network?.path == saved)
        #expect(s.message?.text == text + " — opened it (n: ℓ∞ for contraction)")
        #expect(s.liveRun?.id == 1)
        // Later events of the ended run change nothing.
        #expect(s.send(.training(run: 1, .epoch(Self.epoch(3, test: 0.9, bound: 1)))).isEmpty)
        // Enter runs bounds again.
        #expect(s.press(.enter).contains { $0.startedRun != nil })
    }

    @Test func cancelKeepsTheLastFinishedEpochAndSaysSo() {
        var (s, _) = Self.trainingState()
        s.send(.training(run: 1, .epoch(Self.epoch(1, test: 0.7, bound: 12))))
        let effects = s.press(.char("c"))
        guard case .cancel(1)? = effects.first, effects.count == 1 else { Issue.record("\(effects)"); return }
        #expect(s.message?.text == "cancelling training after the current batch… (keeps the last finished epoch's network)")
        #expect(s.press(.escape).isEmpty)  // already cancelling
        #expect(s.screenText.contains("cancelling…"))
        let summary = TrainingSummary(status: .cancelled, reason: "cancelled by the user after 1 epoch", epochs: 1, seconds: 1,
                                      saved: "/work/sessions/session-1-train1.json")
        let end = s.send(.training(run: 1, .finished(summary)))
        #expect(s.message?.text == "training cancelled after 1 epoch: test accuracy 70.00 %, certified ℓ∞ bound 12 (η = 1); "
                + "kept epoch 1's network in session-1-train1.json")
        #expect(end.contains { if case .loadNetwork = $0 { true } else { false } })
        // Cancelled before any epoch: nothing saved, nothing opened.
        var (t, _) = Self.trainingState()
        t.press(.escape)
        let none = t.send(.training(run: 1, .finished(TrainingSummary(status: .cancelled, epochs: 0, seconds: 0.2))))
        #expect(t.message?.text == "training cancelled after 0 epochs; no epoch finished, nothing saved")
        #expect(!none.contains { if case .loadNetwork = $0 { true } else { false } })
    }

    @Test func quittingWhileTrainingAsksAndCancelsIt() {
        var (s, _) = Self.trainingState()
        #expect(s.press(.char("q")).isEmpty)
        #expect(s.screenText.contains("Training is running. Quit anyway (it will be cancelled)? y/n"))
        let effects = s.press(.char("y"))
        guard case .cancel(1)? = effects.first, effects.last?.isQuit == true else { Issue.record("\(effects)"); return }
    }

    @Test func sessionLogRoundTripWithATrainingRunAndItsReport() throws {
        let dir = makeTempDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/session.jsonl"
        let parameters = TrainingParameters(hidden: 10, gamma: 0.9, lambda: 1e-3, epochs: 2, seed: 3, parameterization: .direct,
                                            out: dir + "/session-train1.json")
        let e1 = Self.epoch(1, test: 0.5, bound: 80), e2 = Self.epoch(2, test: 0.625, bound: nil)
        let summary = TrainingSummary(status: .cancelled, reason: "cancelled by the user after 2 epochs", epochs: 2, seconds: 1.5,
                                      saved: dir + "/session-train1.json")
        let events: [SessionEvent] = [
            .sessionStart(version: "0.1.0", time: "t0"),
            .trainingStarted(time: "t1", run: 1, parameters: parameters),
            .log(run: 1, message: "1438 training and 359 test examples"),
            .trainingEpoch(run: 1, record: e1),
            .trainingEpoch(run: 1, record: e2),
            .trainingFinished(time: "t2", run: 1, summary: summary),
            .sessionEnd(time: "t3"),
        ]
        let writer = try SessionLogWriter(path: path)
        for e in events { writer.append(e) }
        writer.close()
        let contents = try SessionLogReader.read(path: path)
        #expect(contents.events == events)
        #expect(contents.problem == nil)
        let line = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")[1]
        #expect(line.contains(#""type":"training_started""#) && line.contains(#""learning_rate":0.005"#) && line.contains(#""parameterization":"direct""#))
        let record = SessionRecord(contents: contents)
        #expect(record.runs.isEmpty)
        #expect(record.trainings == [SessionTraining(id: 1, started: "t1", parameters: parameters, epochs: [e1, e2],
                                                     messages: ["1438 training and 359 test examples"], summary: summary)])
        let report = SessionReport.markdown(record, title: "t")
        #expect(report.contains("- 0 runs (0 finished) on 0 network(s), 1 training run(s)"))
        #expect(report.contains("## Training run 1"))
        #expect(report.contains("- repeat with: `lipscope train --data digits --hidden 10 --gamma 0.9 --lambda 0.001 --epochs 2 --seed 3 --param direct --batch 64 --learning-rate 0.005 --out \(dir)/session-train1.json`"))
        #expect(report.contains("- **cancelled** (cancelled by the user after 2 epochs): 2 epochs in 1.50 s"))
        #expect(report.contains("- network saved to `\(dir)/session-train1.json`"))
        #expect(report.contains("| 1 | 2.000000 | 51.00 % | 50.00 % | 0.500000 | 80.000000 | 12.5 | 750.0 ms |"))
        #expect(report.contains("| 2 | 1.000000 | 63.50 % | 62.50 % | 0.500000 | not certified (μ∞(A) ≥ 1) | 12.5 | 750.0 ms |"))
        // Reopening the log in the workbench does not break: it says there was a training run.
        var s = loadedState()
        s.send(.replayLoaded(path: path, record: record))
        #expect(s.message?.text.hasPrefix("reopened session.jsonl: 0 runs, 1 training run (lipscope report shows them)") == true)
    }
}
