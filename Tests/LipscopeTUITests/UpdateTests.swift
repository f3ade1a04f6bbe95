import Foundation
import Testing
@testable import LipscopeEngine
@testable import LipscopeTUI

/// One test (at least) per key of the help list; `helpListIsCovered` checks the list itself.
@Suite struct UpdateKeyTests {
    static let coveredMain: Set<String> = ["? F1", "o", "O", "Enter", "Esc c", "↑ ↓", "Tab S-Tab", "PgUp PgDn", "n",
                                           "+ = → - ←", "[ ]", "k", "b", "d", ", .", "< >", "x", "s", "p", "t", "S", "w", "a", "q C-c",
                                           "l", "g", "{ }",  // the region keys: RegionControlTests
                                           "L", "v"]  // label and certify: CertifyJobTests
    static let coveredBrowser: Set<String> = ["↑ ↓ PgUp PgDn Home End", "Enter →", "Backspace ←", "Esc q", "a–z 0–9"]
    static let coveredPrompt: Set<String> = ["Enter", "Esc", "Backspace", "text"]
    static let coveredTrain: Set<String> = ["↑ ↓ Tab S-Tab", "→ > + = ← < -", "x", "Enter t", "Esc q"]

    @Test func helpListIsCovered() {
        #expect(Set(Keymap.bindings(.main).map(\.keysText)) == Self.coveredMain)
        #expect(Set(Keymap.bindings(.browser).map(\.keysText)) == Self.coveredBrowser)
        #expect(Set(Keymap.bindings(.prompt).map(\.keysText)) == Self.coveredPrompt)
        #expect(Set(Keymap.bindings(.train).map(\.keysText)) == Self.coveredTrain)
    }

    @Test func noKeyIsBoundTwiceInAScope() {
        for scope in KeyScope.allCases {
            var seen: [Key] = []
            for binding in Keymap.bindings(scope) {
                guard case .keys(let keys) = binding.match else { continue }
                for key in keys {
                    #expect(!seen.contains(key), "\(key.label) bound twice in \(scope)")
                    seen.append(key)
                }
            }
        }
    }

    @Test func theBottomBarComesFromTheBindings() {
        #expect(Keymap.bar.map(\.label) == ["Help", "Open", "Run", "Cancel", "Norm", "Degree", "Sweep", "Train", "Save", "Quit"])
        // Every bar entry names a key of its binding (or ± / ⏎ for the degree and Enter).
        for binding in Keymap.all {
            guard let bar = binding.bar, case .keys(let keys) = binding.match else { continue }
            #expect(keys.map(\.label).contains(bar.key) || ["±", "⏎"].contains(bar.key), "\(bar)")
        }
    }

    @Test func loadingANetworkListsOnlyApplicableMethodsAndLogsIt() {
        var s = WorkbenchState(methods: fakeMethods, sessionsDirectory: "/tmp/sessions", workingDirectory: "/work")
        let effects = s.send(.networkLoaded(path: "/work/examples/tiny_relu_1.json", network: tinyNetwork(), sha256: "00ff"))
        // ℓ2: sampling, lipsdp, naive (lipopt is ℓ∞ only, "never" is not applicable).
        #expect(s.applicable.map { s.methods[$0].id } == ["sampling", "lipsdp", "naive"])
        #expect(s.selectedMethodID == "sampling")
        guard case .log(.networkLoaded(_, let path, let sha, let summary))? = effects.first else {
            Issue.record("expected a network_loaded log effect, got \(effects)"); return
        }
        #expect(path == "/work/examples/tiny_relu_1.json" && sha == "00ff" && summary.name == "tiny_relu_1")
        #expect(s.message?.text == "loaded tiny_relu_1: feedforward 2-5-6-2")
        #expect(!s.checking)
    }

    @Test func methodChecksArriveOneByOneAndStaleOnesAreIgnored() {
        var s = WorkbenchState(methods: fakeMethods, sessionsDirectory: "/tmp/sessions", workingDirectory: "/work")
        s.send(.networkLoaded(path: "/work/t.json", network: tinyNetwork(), sha256: nil))
        s.press(.down)  // lipsdp
        // Toggle the norm twice: only the second check counts.
        let first = Update.apply(&s, .key(.char("n")))
        let second = Update.apply(&s, .key(.char("n")))
        guard case .checkMethods(let t1, _, .linf)? = first.first, case .checkMethods(let t2, _, .l2)? = second.first else {
            Issue.record("\(first) \(second)"); return
        }
        #expect(s.checking && s.applicable.isEmpty)
        #expect(s.screenText.contains("Run (checking methods…)"))
        #expect(s.screenText.contains("checking which methods apply…"))
        #expect(s.press(.enter).isEmpty)
        #expect(s.message?.text == "still checking which methods apply…")
        _ = Update.apply(&s, .methodChecked(token: t1, method: 1, applies: true, minimumDegree: 2, last: false))
        #expect(s.applicable.isEmpty)  // stale
        // Answers of the current check: the first applicable one is selected until the kept one arrives.
        _ = Update.apply(&s, .methodChecked(token: t2, method: 0, applies: true, minimumDegree: nil, last: false))
        #expect(s.selectedMethodID == "sampling")
        _ = Update.apply(&s, .methodChecked(token: t2, method: 1, applies: false, minimumDegree: 2, last: false))
        _ = Update.apply(&s, .methodChecked(token: t2, method: 2, applies: true, minimumDegree: nil, last: false))
        #expect(s.selectedMethodID == "lipsdp")
        _ = Update.apply(&s, .methodChecked(token: t2, method: 3, applies: true, minimumDegree: nil, last: false))
        #expect(s.selectedMethodID == "lipsdp" && s.selected == 1)
        #expect(s.checking)
        _ = Update.apply(&s, .methodChecked(token: t2, method: 4, applies: false, minimumDegree: nil, last: true))
        #expect(!s.checking)
        #expect(s.applicable.map { s.methods[$0].id } == ["sampling", "lipsdp", "naive"])
        #expect(s.screenText.contains("┌ Run ─"))
    }

    @Test func answersInAnyOrderKeepTheRegistryOrderAndSelectTheFirst() {
        var s = WorkbenchState(methods: fakeMethods, sessionsDirectory: "/tmp/sessions", workingDirectory: "/work")
        let effects = Update.apply(&s, .networkLoaded(path: "/work/t.json", network: tinyNetwork(), sha256: nil))
        guard case .checkMethods(let t, _, .l2)? = effects.last else { Issue.record("\(effects)"); return }
        for (m, applies) in [(3, true), (2, true), (4, false), (1, false)] {
            _ = Update.apply(&s, .methodChecked(token: t, method: m, applies: applies, minimumDegree: nil, last: false))
        }
        #expect(s.selectedMethodID == "lipsdp")
        _ = Update.apply(&s, .methodChecked(token: t, method: 0, applies: true, minimumDegree: nil, last: true))
        #expect(s.applicable == [0, 2, 3])
        #expect(s.selectedMethodID == "sampling")
    }

    @Test func movingDuringACheckKeepsTheUsersChoice() {
        var s = WorkbenchState(methods: fakeMethods, sessionsDirectory: "/tmp/sessions", workingDirectory: "/work")
        s.send(.networkLoaded(path: "/work/t.json", network: tinyNetwork(), sha256: nil))
        s.press(.down, .down)  // naive
        guard case .checkMethods(let t, _, _)? = Update.apply(&s, .key(.char("n"))).first else { Issue.record("no check"); return }
        _ = Update.apply(&s, .methodChecked(token: t, method: 0, applies: true, minimumDegree: nil, last: false))
        _ = Update.apply(&s, .methodChecked(token: t, method: 1, applies: true, minimumDegree: 2, last: false))
        s.press(.down)  // the user picks LiPopt before naive's answer arrives
        #expect(s.selectedMethodID == "lipopt" && s.degree == 2)
        _ = Update.apply(&s, .methodChecked(token: t, method: 3, applies: true, minimumDegree: nil, last: true))
        #expect(s.selectedMethodID == "lipopt")
    }

    @Test func helpKeysOpenAndAnyKeyCloses() {
        var s = loadedState()
        s.press(.char("?"))
        guard case .help = s.mode else { Issue.record("? should open help"); return }
        #expect(s.screenText.contains("Help — any key closes"))
        s.press(.char("x"))
        guard case .main = s.mode else { Issue.record("any key closes help"); return }
        s.press(.function(1))
        guard case .help = s.mode else { Issue.record("F1 should open help"); return }
        s.press(.escape)
        guard case .main = s.mode else { Issue.record("Esc closes help"); return }
    }

    @Test func openKeyShowsTheNetworkBrowserInTheNetworksDirectory() {
        var s = loadedState()
        let effects = s.press(.char("o"))
        guard case .listDirectory(let path, .network)? = effects.first else { Issue.record("\(effects)"); return }
        #expect(path == "/work/examples")
        guard case .browser(let b) = s.mode else { Issue.record("o opens the browser"); return }
        #expect(b.purpose == .network && b.loading)
    }

    @Test func capitalOBrowsesTheSessionsDirectory() {
        var s = loadedState()
        let effects = s.press(.char("O"))
        guard case .listDirectory(let path, .session)? = effects.first else { Issue.record("\(effects)"); return }
        #expect(path == "/tmp/sessions")
        guard case .browser(let b) = s.mode else { Issue.record("O opens the browser"); return }
        #expect(b.title == "Reopen session")
    }

    @Test func arrowsChooseTheMethodAndClampAtTheEnds() {
        var s = loadedState()
        s.press(.down)
        #expect(s.selectedMethodID == "lipsdp")
        s.press(.down, .down, .down)
        #expect(s.selectedMethodID == "naive")
        s.press(.up, .up, .up, .up)
        #expect(s.selectedMethodID == "sampling")
        #expect(s.screenText.contains("▸ Sampled lower bound"))
    }

    @Test func tabFocusesCompareWhereArrowsPickARowAndItsRunIsShown() {
        var s = loadedState()
        finishRun(&s, value: 2.0, kind: .lower)
        s.press(.down)
        finishRun(&s, value: 3.0)
        s.press(.tab)
        #expect(s.focus == .compare)
        #expect(s.compareCursor == 1 && s.shownRun == 2)
        s.press(.up)
        #expect(s.compareCursor == 0 && s.shownRun == 1)
        #expect(s.selectedMethodID == "lipsdp")  // the method did not move
        #expect(s.screenText.contains("Live: #1 Sampled lower bound"))
        s.press(.backTab)
        #expect(s.focus == .run)
    }

    @Test func pageKeysMoveFiveCompareRows() {
        var s = loadedState()
        for k in 1...8 { finishRun(&s, value: Double(k)) }
        s.press(.pageDown)
        #expect(s.compareCursor == 5 && s.shownRun == 6)
        s.press(.pageDown)
        #expect(s.compareCursor == 7)
        s.press(.pageUp)
        #expect(s.compareCursor == 2)
    }

    @Test func nTogglesTheNormAndTheApplicableMethods() {
        var s = loadedState()
        s.press(.down)  // lipsdp (ℓ2 only)
        s.press(.char("n"))
        #expect(s.norm == .linf)
        #expect(s.applicable.map { s.methods[$0].id } == ["sampling", "lipopt", "naive"])
        #expect(s.message?.text == "norm ℓ∞ — LipSDP-Neuron does not apply in ℓ∞; 3 methods do")
        #expect(s.selectedMethodID == "sampling")
        #expect(s.degree == nil)
        s.press(.down)
        #expect(s.selectedMethodID == "lipopt")
        #expect(s.degree == 2)
        s.press(.char("n"))
        #expect(s.norm == .l2)
        #expect(s.screenText.contains("norm ℓ2"))
    }

    @Test func plusMinusAndArrowsChangeTheDegreeNotBelowTheMinimum() {
        var s = loadedState()
        s.press(.char("n"), .down)  // ℓ∞, LiPopt (minimum degree 2)
        #expect(s.selectedMethodID == "lipopt" && s.degree == 2)
        s.press(.char("+"))
        #expect(s.degree == 3)
        s.press(.right, .char("="))
        #expect(s.degree == 5)
        s.press(.char("-"), .left)
        #expect(s.degree == 3)
        s.press(.left, .left, .left)
        #expect(s.degree == 2)
        #expect(s.message == Message(text: "degree 2 is the admissible minimum for LiPopt-LP on this network", isError: true))
        #expect(s.screenText.contains("degree 2 (min)"))
        // A method without a degree says so.
        s.press(.up)
        s.press(.char("+"))
        #expect(s.degree == nil)
        #expect(s.message?.text == "Sampled lower bound has no relaxation degree")
        // The degree goes into the request.
        s.press(.down, .char("+"))
        let start = s.press(.enter).compactMap(\.startedRun).first
        #expect(start?.request.degree == 3)
        #expect(start?.request.norm == .linf)
    }

    @Test func bracketsCycleTheOutputIndex() {
        var s = loadedState()
        #expect(s.output == nil)
        s.press(.char("]"))
        #expect(s.output == 0)
        s.press(.char("]"))
        #expect(s.output == 1)
        s.press(.char("]"))
        #expect(s.output == nil)
        s.press(.char("["))
        #expect(s.output == 1)
        #expect(s.screenText.contains("output 1"))
        #expect(s.press(.enter).compactMap(\.startedRun).first?.request.output == 1)
    }

    @Test func enterStartsARunLogsItAndStreamsEventsIntoTheLivePane() {
        var s = loadedState()
        let effects = s.press(.enter)
        #expect(effects.count == 2)
        guard case .runStarted(_, 1, let p)? = effects[0].loggedEvent else { Issue.record("\(effects)"); return }
        #expect(p.method == "sampling" && p.norm == .l2 && p.network == "tiny_relu_1" && p.seed == 1)
        let start = effects[1].startedRun
        #expect(start?.run == 1 && start?.method == 0)
        #expect(s.isRunning)
        // A second Enter while running does not start another job.
        #expect(s.press(.enter).isEmpty)
        #expect(s.message?.text == "a run is active — Esc or c cancels it")
        // Events of the job.
        let e1 = Update.apply(&s, .job(run: 1, .progress(phase: "sampling", done: 3, total: 9)))
        guard case .progress(1, "sampling", 3, 9)? = e1.first?.loggedEvent else { Issue.record("\(e1)"); return }
        for i in 1...5 {
            let e = Update.apply(&s, .job(run: 1, .iteration(IterationRecord(index: i, elapsed: Double(i) / 10, metrics: [Metric("gap", pow(10, -Double(i))), Metric("pinf", 0.5)]))))
            guard case .iteration(1, let rec)? = e.first?.loggedEvent else { Issue.record("\(e)"); return }
            #expect(rec.index == i)
        }
        let screen = s.screenText
        #expect(screen.contains("Live: #1 Sampled lower bound ℓ2 — running 500 ms, 5 iterations"))
        #expect(screen.contains("sampling 3/9"))
        #expect(screen.contains("    it       gap      pinf     time"))
        #expect(screen.contains("     5     1e-05       0.5   500 ms"))
        #expect(screen.contains("● gap  ● pinf  (log scale)"))
        // Events of another (stale) run are ignored.
        #expect(Update.apply(&s, .job(run: 99, .log("x"))).isEmpty)
        // Finishing moves the run to the comparison and logs the result.
        let fin = Update.apply(&s, .job(run: 1, .finished(result("sampling", 1.5, kind: .lower))))
        guard case .runFinished(_, 1, let r)? = fin.first?.loggedEvent else { Issue.record("\(fin)"); return }
        #expect(r.value == 1.5)
        #expect(!s.isRunning && s.runs.count == 1)
        #expect(s.message?.text == "Sampled lower bound ℓ2: 1.5 lower bound (10 ms)")
        #expect(s.screenText.contains("  1 Sampled lower bound    ℓ2               1.5 ≥ optimal"))
    }

    @Test func escAndCCancelTheActiveRun() {
        for key in [Key.escape, Key.char("c")] {
            var s = loadedState()
            s.press(.enter)
            let effects = s.press(key)
            guard case .cancel(let run)? = effects.first else { Issue.record("\(key): \(effects)"); return }
            #expect(run == 1)
            #expect(s.active?.cancelling == true)
            #expect(s.screenText.contains("cancelling…"))
            #expect(s.press(key).isEmpty)  // only once
            _ = Update.apply(&s, .job(run: 1, .finished(result("sampling", nil, status: .cancelled))))
            #expect(s.compareRows.first?.result?.status == .cancelled)
            #expect(s.message?.isError == true)
            #expect(s.press(key).isEmpty)  // nothing to cancel
        }
    }

    @Test func sSweepsTheDegreeUntilTheBudgetOrTheTop() {
        var s = loadedState()
        // A method without a degree cannot be swept.
        #expect(s.press(.char("s")).isEmpty)
        #expect(s.message?.text == "s sweeps the degree of a hierarchy method (LiPopt); Sampled lower bound has no degree")
        s.press(.char("n"), .down)  // LiPopt, degree 2
        var effects = s.press(.char("s"))
        #expect(effects.compactMap(\.startedRun).first?.request.degree == 2)
        #expect(s.sweep?.fromDegree == 2 && s.sweep?.toDegree == 6 && s.plot == .sweep)
        var run = 1
        for (degree, seconds) in [(2, 0.5), (3, 2.0)] {
            effects = Update.apply(&s, .job(run: run, .finished(result("lipopt", 4.0 - Double(degree) / 4, norm: .linf, degree: degree, seconds: seconds))))
            let next = effects.compactMap(\.startedRun).first
            #expect(next?.request.degree == degree + 1)
            run = next?.run ?? run
        }
        // Degree 4 takes longer than the budget: the sweep stops.
        effects = Update.apply(&s, .job(run: run, .finished(result("lipopt", 2.9, norm: .linf, degree: 4, seconds: 100))))
        #expect(effects.compactMap(\.startedRun).isEmpty)
        #expect(s.sweep?.running == false)
        #expect(s.sweep?.points.map(\.degree) == [2, 3, 4])
        #expect(s.sweep?.stopReason == "degree 4 took 100 s, over the 60.00 s budget")
        let screen = s.screenText
        let expected = ["Sweep LiPopt-LP ℓ∞: degree 4 took 100 s", "bound vs degree", "      4          2.9     100 s  optimal"]
        let missing = expected.filter { !screen.contains($0) }
        #expect(missing.isEmpty, "\(missing) not on\n\(screen.replacingOccurrences(of: "⠀", with: " "))")
        #expect(s.compareRows.count == 3)
    }

    @Test func loadingAnotherNetworkStopsASweepAndHidesOtherRuns() {
        var s = loadedState()
        s.press(.char("n"), .down, .char("s"))
        #expect(s.sweep?.running == true)
        s.send(.networkLoaded(path: "/work/m.json", network: multiOutputNetwork(), sha256: nil))
        #expect(s.sweep?.running == false)
        #expect(s.sweep?.stopReason == "stopped: another network was loaded")
        // The active run (on the old network) finishes into a hidden row; no next degree starts.
        let effects = Update.apply(&s, .job(run: 1, .finished(result("lipopt", 3, norm: .linf, degree: 2))))
        #expect(effects.compactMap(\.startedRun).isEmpty)
        #expect(s.compareRows.isEmpty)
        #expect(s.screenText.contains("1 runs on other networks hidden"))
        s.send(.networkLoaded(path: "/work/examples/tiny_relu_1.json", network: tinyNetwork(), sha256: nil))
        #expect(s.compareRows.map(\.id) == [1])
    }

    @Test func pTogglesConvergenceAndSweepPlots() {
        var s = loadedState()
        s.press(.char("p"))
        #expect(s.plot == .convergence)
        #expect(s.message?.text == "no degree sweep yet — s starts one")
        s.press(.char("n"), .down, .char("s"))
        #expect(s.plot == .sweep)
        s.press(.char("p"))
        #expect(s.plot == .convergence)
        s.press(.char("p"))
        #expect(s.plot == .sweep)
        // Choosing a compare row shows that run's convergence.
        _ = Update.apply(&s, .job(run: 1, .finished(result("lipopt", 2, norm: .linf, degree: 2, status: .cancelled))))
        #expect(s.plot == .sweep)
        s.press(.tab)
        #expect(s.plot == .convergence)
    }

    @Test func shiftSSortsTheComparison() {
        var s = loadedState()
        finishRun(&s, value: 3.0, seconds: 0.1)
        finishRun(&s, value: 1.0, seconds: 0.3)
        finishRun(&s, value: 2.0, seconds: 0.2)
        #expect(s.compareRows.map(\.id) == [1, 2, 3])
        s.press(.char("S"))
        #expect(s.sort == .bound && s.compareRows.map(\.id) == [2, 3, 1])
        s.press(.char("S"))
        #expect(s.sort == .time && s.compareRows.map(\.id) == [1, 3, 2])
        #expect(s.screenText.contains("Compare (time)"))
        s.press(.char("S"))
        #expect(s.sort == .run)
    }

    @Test func wPromptsForANameAndSaves() {
        var s = loadedState()
        s.press(.char("w"))
        guard case .prompt(let text) = s.mode else { Issue.record("w opens the prompt"); return }
        #expect(text == "tiny_relu_1")
        #expect(s.screenText.contains("Save session as: tiny_relu_1"))
        s.press(.backspace, .backspace, .char("-"), .char("x"))
        let effects = s.press(.enter)
        guard case .save(let name)? = effects.first else { Issue.record("\(effects)"); return }
        #expect(name == "tiny_relu-x")
        _ = Update.apply(&s, .saved(log: "sessions/tiny_relu-x.jsonl", report: "sessions/tiny_relu-x.md"))
        #expect(s.message?.text == "saved sessions/tiny_relu-x.jsonl and tiny_relu-x.md")
        // Esc cancels; an empty name is refused.
        s.press(.char("w"), .escape)
        #expect(s.message?.text == "save cancelled")
        s.press(.char("w"))
        for _ in 0..<20 { s.press(.backspace) }
        #expect(s.press(.enter).isEmpty)
        #expect(s.message?.isError == true)
    }

    @Test func aAddsANoteToTheSessionLog() {
        var s = loadedState()
        s.press(.char("a"))
        guard case .note = s.mode else { Issue.record("a opens the note prompt"); return }
        for c in "LipSDP lookss" { s.press(.char(c)) }
        s.press(.backspace)
        for c in " tight" { s.press(.char(c)) }
        #expect(s.screenText.contains("Note: LipSDP looks tight"))
        let effects = s.press(.enter)
        guard case .note(_, let text)? = effects.first?.loggedEvent else { Issue.record("\(effects)"); return }
        #expect(text == "LipSDP looks tight")
        #expect(s.message?.text == "note added to the session log")
        s.press(.char("a"), .char("x"), .escape)
        #expect(s.message?.text == "note discarded")
        #expect(s.press(.char("a"), .enter).isEmpty)
    }

    @Test func qQuitsAtOnceWhenIdleAndAsksWhileRunning() {
        var s = loadedState()
        #expect(s.press(.char("q")).contains { $0.isQuit })
        #expect(s.quitting)

        var r = loadedState()
        r.press(.enter)
        #expect(r.press(.char("q")).isEmpty)
        guard case .confirmQuit = r.mode else { Issue.record("q asks while a run is active"); return }
        #expect(r.screenText.contains("A run is active. Quit anyway"))
        r.press(.char("n"))
        #expect(!r.quitting && r.message?.text == "not quitting")
        r.press(.ctrl("c"))
        let effects = r.press(.char("y"))
        guard case .cancel(1)? = effects.first, effects.last?.isQuit == true else { Issue.record("\(effects)"); return }
        #expect(r.quitting)
    }

    @Test func unknownKeysSaySo() {
        var s = loadedState()
        #expect(s.press(.char("z")).isEmpty)
        #expect(s.message == Message(text: "'z' does nothing here — ? lists the keys", isError: true))
    }

    // MARK: - Browser keys

    func browserState() -> WorkbenchState {
        var s = loadedState()
        s.press(.char("o"))
        let entries = [BrowserEntry(name: "..", isDirectory: true), BrowserEntry(name: "nets", isDirectory: true)]
            + (1...15).map { BrowserEntry(name: "net\($0).json", isDirectory: false) }
            + [BrowserEntry(name: "tiny.nnet", isDirectory: false)]
        _ = Update.apply(&s, .directoryListed(path: "/work/examples", entries: entries))
        return s
    }

    func browser(_ s: WorkbenchState) -> Browser? {
        if case .browser(let b) = s.mode { return b }
        return nil
    }

    @Test func browserMovesWithArrowsPagesHomeEnd() {
        var s = browserState()
        s.press(.down, .down)
        #expect(browser(s)?.selected == 2)
        s.press(.up)
        #expect(browser(s)?.selected == 1)
        s.press(.pageDown)
        #expect(browser(s)?.selected == 11)
        s.press(.pageDown)
        #expect(browser(s)?.selected == 17)
        s.press(.pageUp)
        #expect(browser(s)?.selected == 7)
        s.press(.home)
        #expect(browser(s)?.selected == 0)
        s.press(.end)
        #expect(browser(s)?.selected == 17)
        #expect(s.screenText.contains("▸ tiny.nnet"))
        #expect(s.screenText.contains("Open network — /work/examples"))
    }

    @Test func browserEnterOpensDirectoriesAndFiles() {
        var s = browserState()
        s.press(.down)
        var effects = s.press(.enter)
        guard case .listDirectory("/work/examples/nets", .network)? = effects.first else { Issue.record("\(effects)"); return }
        _ = Update.apply(&s, .directoryListed(path: "/work/examples/nets", entries: [BrowserEntry(name: "..", isDirectory: true), BrowserEntry(name: "a.json", isDirectory: false)]))
        s.press(.down)
        effects = s.press(.enter)
        guard case .loadNetwork("/work/examples/nets/a.json")? = effects.first else { Issue.record("\(effects)"); return }
        // A load error keeps the browser and the previous network.
        _ = Update.apply(&s, .loadFailed(path: "/work/examples/nets/a.json", message: "a.json: expected a network, found garbage"))
        #expect(browser(s) != nil)
        #expect(s.network?.summary.name == "tiny_relu_1")
        #expect(s.message?.text == "a.json: expected a network, found garbage — keeping tiny_relu_1")
        // Success closes it.
        s.send(.networkLoaded(path: "/work/examples/nets/a.json", network: multiOutputNetwork(), sha256: nil))
        #expect(browser(s) == nil)
        #expect(s.network?.summary.name == "medium_1")
    }

    @Test func browserBackspaceAndLeftGoToTheParentAndReselectWhereWeCameFrom() {
        var s = browserState()
        var effects = s.press(.backspace)
        guard case .listDirectory("/work", .network)? = effects.first else { Issue.record("\(effects)"); return }
        _ = Update.apply(&s, .directoryListed(path: "/work", entries: [BrowserEntry(name: "..", isDirectory: true), BrowserEntry(name: "Sources", isDirectory: true), BrowserEntry(name: "examples", isDirectory: true)]))
        #expect(browser(s)?.selected == 2)
        effects = s.press(.left)
        guard case .listDirectory("/", .network)? = effects.first else { Issue.record("\(effects)"); return }
        // ".." with Enter also goes up.
        var t = browserState()
        effects = t.press(.enter)
        guard case .listDirectory("/work", .network)? = effects.first else { Issue.record("\(effects)"); return }
    }

    @Test func browserLettersJumpToMatchingEntries() {
        var s = browserState()
        s.press(.char("t"))
        #expect(browser(s)?.selected == 17)
        s.press(.char("n"))
        #expect(browser(s)?.selected == 1)
        s.press(.char("n"))
        #expect(browser(s)?.selected == 2)
        s.press(.char("9"))
        #expect(browser(s)?.selected == 2)  // no match: stays
    }

    @Test func browserEscCloses() {
        var s = browserState()
        s.press(.escape)
        #expect(browser(s) == nil)
        #expect(s.network?.summary.name == "tiny_relu_1")
    }

    @Test func sessionBrowserReplaysTheChosenLog() {
        var s = loadedState()
        s.press(.char("O"))
        _ = Update.apply(&s, .directoryListed(path: "/tmp/sessions", entries: [BrowserEntry(name: "a.jsonl", isDirectory: false)]))
        let effects = s.press(.enter)
        guard case .replay("/tmp/sessions/a.jsonl")? = effects.first else { Issue.record("\(effects)"); return }
    }

    // MARK: - Prompt keys (also in wPromptsForANameAndSaves)

    @Test func promptTypesTextAndBackspaces() {
        var s = loadedState()
        s.press(.char("w"))
        for _ in 0..<11 { s.press(.backspace) }
        s.press(.char("r"), .char("u"), .char("n"), .char(" "), .char("2"))
        guard case .prompt(let text) = s.mode else { Issue.record("prompt"); return }
        #expect(text == "run 2")
        let effects = s.press(.enter)
        guard case .save("run-2")? = effects.first else { Issue.record("\(effects)"); return }
        guard case .main = s.mode else { Issue.record("Enter closes the prompt"); return }
    }

    // MARK: - Replay and other events

    @Test func replayBringsBackRowsAndPlotsAndLogsThem() {
        var s = loadedState()
        let params = RunParameters(method: "lipsdp", label: "LipSDP-Neuron", norm: .l2, network: "tiny_relu_1")
        let its = (1...20).map { IterationRecord(index: $0, elapsed: Double($0) / 100, metrics: [Metric("gap", pow(2, -Double($0)))]) }
        let record = SessionRecord(events: [
            .sessionStart(version: "0.1.0", time: "t"),
            .runStarted(time: "t", run: 1, parameters: params),
        ] + its.map { .iteration(run: 1, record: $0) } + [
            .runFinished(time: "t", run: 1, result: result("lipsdp", 1.9)),
            .runStarted(time: "t", run: 2, parameters: params),  // never finished
        ], problem: "line 25 is truncated (the log ends mid-line); recovered the 24 lines before it")
        let effects = Update.apply(&s, .replayLoaded(path: "/tmp/sessions/old.jsonl", record: record))
        #expect(s.runs.count == 1)
        #expect(s.runs[0].parameters.replayedFrom == "old.jsonl")
        #expect(s.runs[0].iterations.count == 20)
        let logged = effects.compactMap(\.loggedEvent)
        #expect(logged.count == 1 + 20 + 1 + 1)
        #expect(s.message?.isError == true)
        #expect(s.message?.text.hasPrefix("reopened old.jsonl: 1 runs — log recovered: line 25 is truncated") == true)
        let screen = s.screenText
        #expect(screen.contains("Live: #1 LipSDP-Neuron ℓ2 — optimal, 20 iterations, 10 ms (replayed)"))
        #expect(screen.contains("● gap  (log scale)"))
        #expect(screen.contains("  1 LipSDP-Neuron          ℓ2               1.9 ✓ optimal"))
    }

    @Test func resizeAndTickUpdateTheState() {
        var s = loadedState()
        _ = Update.apply(&s, .resize(rows: 24, cols: 80))
        #expect(s.rows == 24 && s.cols == 80)
        s.press(.enter)
        _ = Update.apply(&s, .tick(s.clock + 2.5))
        #expect(s.screenText.contains("● running 2.50 s"))
    }

    @Test func sessionLogEventsShowInTheTitleOrAsAnError() {
        var s = loadedState()
        _ = Update.apply(&s, .sessionLogOpened(path: "/work/sessions/session-1.jsonl"))
        #expect(s.screenText.contains("log sessions/session-1.jsonl"))
        _ = Update.apply(&s, .sessionLogFailed("read-only file system"))
        #expect(s.message == Message(text: "session log: read-only file system — this session is not logged", isError: true))
    }
}

@Suite struct LiveStreamTests {
    @Test func manyIterationsStayBoundedAndCheap() {
        var s = loadedState()
        s.press(.enter)
        let clock = ContinuousClock.now
        for i in 1...100_000 {
            _ = Update.apply(&s, .job(run: 1, .iteration(IterationRecord(index: i, elapsed: Double(i) * 1e-4, metrics: [Metric("gap", 1 / Double(i))]))))
        }
        let seconds = (ContinuousClock.now - clock).seconds
        #expect(seconds < 10, "100k iteration events took \(seconds) s")
        let run = s.active!
        #expect(run.iterationCount == 100_000)
        #expect(run.iterations.count <= RunView.keepIterations)
        #expect(run.iterations.last?.index == 100_000)
        #expect(run.iterations.first?.index == 1)
        #expect(run.iterations.map(\.index) == run.iterations.map(\.index).sorted())
        #expect(s.screenText.contains("100000 iterations"))
    }
}

/// Runs the selected method to completion with a given result.
func finishRun(_ s: inout WorkbenchState, value: Double, kind: BoundKind = .upper, seconds: Double = 0.01) {
    guard let start = s.press(.enter).compactMap(\.startedRun).first else { Issue.record("no run started"); return }
    let method = s.methods[start.method]
    _ = Update.apply(&s, .job(run: start.run, .finished(result(method.id, value, kind: kind, seconds: seconds))))
}
