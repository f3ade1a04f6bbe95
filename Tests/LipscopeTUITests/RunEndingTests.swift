import Foundation
import Testing
@testable import LipscopeEngine
@testable import LipscopeTUI
import LipscopeTestSupport

/// What the workbench shows when runs and sweeps end: stale progress lines go, flat sweeps
/// plot flat, and a sweep stops once the hierarchy reached p*.
@Suite struct RunEndingTests {
    /// relaxed-exact ℓ∞ on tiny_relu_1, from Tests/Fixtures/testnets/expected.json.
    static let exactTiny = 1.7961325189435495

    func perOutput(_ values: [Double], status: BoundStatus = .optimal) -> BoundResult {
        var r = result("lipopt", status == .optimal ? values.max() : nil, norm: .linf, degree: 2, status: status)
        if status == .optimal { r.details["per_output"] = .array(values.map { .number($0) }) }
        return r
    }

    func runWithProgressLines(_ s: inout WorkbenchState) {
        s.press(.char("n"), .down, .enter)  // ℓ∞ LiPopt
        for line in ["SDP (order 2, sparse cliques: 6, largest 8): 1319 moments", "output 0: solving", "output 1: solving"] {
            _ = Update.apply(&s, .job(run: 1, .log(line)))
        }
        #expect(s.screenText.contains("output 1: solving"))
    }

    @Test func finishedRunReplacesItsSolvingLinesByThePerOutputValues() {
        var s = loadedState()
        runWithProgressLines(&s)
        let effects = Update.apply(&s, .job(run: 1, .finished(perOutput([1.796132524512271, 1.5307049075917114]))))
        let screen = s.screenText
        #expect(!screen.contains("solving"), "\(screen)")
        #expect(screen.contains("per output 0: 1.79613, 1: 1.5307"))
        #expect(screen.contains("SDP (order 2, sparse cliques: 6, largest 8): 1319 moments"))
        // The session log keeps what the method said (only the pane tidies up).
        #expect(effects.compactMap(\.loggedEvent).count == 1)
        #expect(s.runs[0].messages.count == 2)
    }

    @Test func cancelledRunSaysWhereItStopped() {
        var s = loadedState()
        runWithProgressLines(&s)
        _ = Update.apply(&s, .job(run: 1, .finished(perOutput([], status: .cancelled))))
        #expect(!s.screenText.contains("1: solving"))
        #expect(s.screenText.contains("cancelled while solving output 1"))
    }

    @Test func replayedRunsAreTidiedToo() {
        var s = loadedState()
        let params = RunParameters(method: "lipopt", label: "LiPopt-LP", norm: .linf, network: "tiny_relu_1")
        let record = SessionRecord(events: [
            .runStarted(time: "t", run: 1, parameters: params),
            .log(run: 1, message: "output 0: solving"), .log(run: 1, message: "output 1: solving"),
            .runFinished(time: "t", run: 1, result: perOutput([2, 3])),
        ])
        _ = Update.apply(&s, .replayLoaded(path: "/tmp/x.jsonl", record: record))
        #expect(s.runs[0].messages == ["per output 0: 2, 1: 3"])
    }

    /// The rows of a plot that hold braille dots.
    func dottedRows(_ values: [Double], log: Bool = false) -> [Int] {
        var screen = ScreenBuffer(rows: 10, cols: 40)
        Plot.braille(&screen, Rect(row: 0, col: 0, height: 10, width: 40), [Plot.Series(name: "b", values: values, style: .accent)],
                     log: log, spread: true)
        return (0..<10).filter { r in screen.line(r).unicodeScalars.contains { (0x2801...0x28FF).contains($0.value) } }
    }

    @Test func aConstantBoundPlotsFlatNotAsAV() {
        // LiPopt-LP degrees 3, 4, 5 on tiny_relu_1: p* up to the solver's last digits.
        let flat = [1.7961325197705968, 1.7961325190935626, 1.796132520497223]
        // Middle rows only (the middle pixel sits on the border of rows 4 and 5 of 10).
        for values in [flat, [2, 2, 2], [2.000001, 2, 2.000001]] {
            #expect(Set(dottedRows(values)).isSubset(of: [4, 5]), "\(values): \(dottedRows(values))")
            #expect(Set(dottedRows(values, log: true)).isSubset(of: [4, 5]))
        }
        // A real change still spans the plot.
        #expect(dottedRows([2.0, 1.9, 1.85]) == Array(0..<10))
        let (lo, hi) = Plot.yRange(1.79613, 1.79613, log: false)
        #expect(lo < 1.79613 && hi > 1.79613 && hi - lo < 0.01)
        #expect(Plot.yRange(0, 0, log: false) == (-0.5, 0.5))
    }

    // MARK: - Sweeps and p*

    static let methods: [any BoundMethod] = fakeMethods + [FakeMethod(id: "relaxed-exact", label: "Relaxed exact")]
    static let exactIndex = methods.count - 1

    func sweepState(network: Network = tinyNetwork()) -> WorkbenchState {
        var s = loadedState(methods: Self.methods, network: network)
        s.press(.char("n"), .down)  // ℓ∞, LiPopt (degree ≥ 2)
        #expect(s.selectedMethodID == "lipopt")
        return s
    }

    @Test func sweepLearnsPStarFirstWhenCheapAndStopsOnReachingIt() {
        var s = sweepState()
        var effects = s.press(.char("s"))
        let first = effects.compactMap(\.startedRun).first
        #expect(first?.method == Self.exactIndex && first?.request.norm == .linf && first?.request.degree == nil)
        #expect(s.sweep?.exactRun == first?.run)
        effects = Update.apply(&s, .job(run: 1, .finished(result("relaxed-exact", Self.exactTiny, norm: .linf))))
        #expect(s.sweep?.exact == Self.exactTiny)
        #expect(effects.compactMap(\.startedRun).first?.request.degree == 2)
        // Degree 2 is above p*: the sweep goes on; degree 3 is p* to 4e-10: it stops.
        effects = Update.apply(&s, .job(run: 2, .finished(result("lipopt", 1.85, norm: .linf, degree: 2))))
        #expect(effects.compactMap(\.startedRun).first?.request.degree == 3)
        effects = Update.apply(&s, .job(run: 3, .finished(result("lipopt", 1.7961325197705968, norm: .linf, degree: 3))))
        #expect(effects.compactMap(\.startedRun).isEmpty)
        #expect(s.sweep?.running == false)
        #expect(s.sweep?.points.map(\.degree) == [2, 3])
        let reason = "reached relaxed-exact p* = 1.79613 at degree 3; higher degrees cannot be lower"
        #expect(s.sweep?.stopReason == reason)
        #expect(s.message?.text == "sweep of LiPopt-LP: " + reason)
        let screen = s.screenText
        #expect(screen.contains("p* = 1.79613 (relaxed-exact"))
        #expect(screen.contains("bound vs degree (p* green)"))
    }

    @Test func pStarFromTheComparisonIsUsedWithoutRunningIt() {
        var s = loadedState(methods: Self.methods)
        s.press(.char("n"))
        // Run relaxed-exact from the list (it is the last applicable method).
        s.press(.down, .down, .down)
        #expect(s.selectedMethodID == "relaxed-exact")
        finishRun(&s, value: Self.exactTiny)
        // An output-restricted value is another p*: not used for the whole output.
        s.press(.char("]"))
        finishRun(&s, value: 1.5)
        s.press(.char("["), .up, .up)
        #expect(s.selectedMethodID == "lipopt" && s.output == nil)
        let effects = s.press(.char("s"))
        #expect(effects.compactMap(\.startedRun).first?.request.degree == 2)
        #expect(s.sweep?.exact == Self.exactTiny && s.sweep?.exactRun == nil)
        _ = Update.apply(&s, .job(run: 3, .finished(result("lipopt", Self.exactTiny * (1 + 1e-8), norm: .linf, degree: 2))))
        #expect(s.sweep?.running == false && s.sweep?.stopReason?.hasPrefix("reached relaxed-exact p*") == true)
    }

    @Test func noPStarRunOnNetworksWhereItIsNotCheap() {
        let big = try! NetworkLoader.load(path: Fixtures.repositoryPath("Tests/Fixtures/testnets/small_relu_20.json"))
        var s = sweepState(network: big)
        #expect(s.network!.summary.hiddenNeurons > WorkbenchState.cheapExactNeurons)
        let first = s.press(.char("s")).compactMap(\.startedRun).first
        #expect(first?.method == 1 && first?.request.degree == 2)
        #expect(s.sweep?.exact == nil)
        _ = Update.apply(&s, .job(run: 1, .finished(result("lipopt", nil, norm: .linf, degree: 2, status: .tooLarge))))
        #expect(s.screenText.contains("p* unknown: relaxed-exact not run (20 hidden neurons > 16); run it first"))
    }

    @Test func cancellingDuringThePStarRunStopsTheSweep() {
        var s = sweepState()
        s.press(.char("s"), .char("c"))
        let effects = Update.apply(&s, .job(run: 1, .finished(result("relaxed-exact", nil, norm: .linf, status: .cancelled))))
        #expect(effects.compactMap(\.startedRun).isEmpty)
        #expect(s.sweep?.running == false && s.sweep?.stopReason == "cancelled by the user")
    }
}
