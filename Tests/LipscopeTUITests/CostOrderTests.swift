import Foundation
import Testing
@testable import LipscopeEngine
@testable import LipscopeTUI

/// The Run list follows the predicted costs, and a method over the time budget runs only after
/// a second ⏎.
@Suite struct CostOrderTests {
    /// The check's answers carry predictions; the list is cheapest first whatever the order of
    /// the answers, and methods without a prediction come last in registry order.
    @Test func listIsOrderedByPredictedCost() {
        var s = WorkbenchState(methods: fakeMethods, sessionsDirectory: "/tmp/sessions", workingDirectory: "/work")
        _ = Update.apply(&s, .resize(rows: 40, cols: 120))
        let effects = Update.apply(&s, .networkLoaded(path: "/work/tiny.json", network: tinyNetwork(), sha256: nil))
        guard let token = effects.compactMap({ e -> Int? in if case .checkMethods(let t, _, _) = e { t } else { nil } }).first else {
            Issue.record("no check"); return
        }
        let predicted: [Int: Double] = [0: 5, 2: 0.5, 3: 0.01]
        for i in [3, 0, 4, 2, 1] {
            _ = Update.apply(&s, .methodChecked(token: token, method: i, applies: fakeMethods[i].id != "never" && fakeMethods[i].id != "lipopt",
                                                minimumDegree: nil, last: i == 1,
                                                predicted: predicted[i].map { CostPrediction(seconds: $0, basis: "test") }))
        }
        #expect(s.applicable.map { s.methods[$0].id } == ["naive", "lipsdp", "sampling"])
        #expect(s.screenText.contains("~10 ms"))
        #expect(s.screenText.contains("~500 ms"))
    }

    @Test func overBudgetRunsOnlyAfterASecondEnter() {
        var s = WorkbenchState(methods: fakeMethods, sessionsDirectory: "/tmp/sessions", workingDirectory: "/work", budget: 60)
        _ = Update.apply(&s, .resize(rows: 40, cols: 120))
        let effects = Update.apply(&s, .networkLoaded(path: "/work/tiny.json", network: tinyNetwork(), sha256: nil))
        guard case .checkMethods(let token, _, _)? = effects.first(where: { if case .checkMethods = $0 { true } else { false } }) else {
            Issue.record("no check"); return
        }
        _ = Update.apply(&s, .methodChecked(token: token, method: 2, applies: true, minimumDegree: nil, last: false,
                                            predicted: CostPrediction(seconds: 600, basis: "LMI of size 2000")))
        _ = Update.apply(&s, .methodChecked(token: token, method: 3, applies: true, minimumDegree: nil, last: true,
                                            predicted: CostPrediction(seconds: 1, basis: "row sums")))
        #expect(s.applicable.map { s.methods[$0].id } == ["naive", "lipsdp"])
        #expect(s.screenText.contains("~10 min!"))
        s.press(.down)
        #expect(s.selectedMethodID == "lipsdp")
        // First ⏎: a warning with the prediction and the budget, nothing starts.
        #expect(s.press(.enter).isEmpty)
        #expect(s.message?.text.contains("predicted ~10 min (LMI of size 2000), over the 60.00 s budget") == true)
        // Another key in between withdraws the warning.
        s.press(.char("n"), .char("n"))
        _ = Update.apply(&s, .methodChecked(token: s.checkToken, method: 2, applies: true, minimumDegree: nil, last: false,
                                            predicted: CostPrediction(seconds: 600, basis: "LMI of size 2000")))
        _ = Update.apply(&s, .methodChecked(token: s.checkToken, method: 3, applies: true, minimumDegree: nil, last: true,
                                            predicted: CostPrediction(seconds: 1, basis: "row sums")))
        s.press(.down)
        #expect(s.press(.enter).isEmpty)
        // Second ⏎ right after: it runs.
        let started = s.press(.enter)
        #expect(started.contains { if case .start = $0 { true } else { false } })
    }

    @Test func noBudgetNeverAsks() {
        var s = WorkbenchState(methods: fakeMethods, sessionsDirectory: "/tmp/sessions", workingDirectory: "/work", budget: nil)
        _ = Update.apply(&s, .resize(rows: 40, cols: 120))
        let effects = Update.apply(&s, .networkLoaded(path: "/work/tiny.json", network: tinyNetwork(), sha256: nil))
        guard case .checkMethods(let token, _, _)? = effects.first(where: { if case .checkMethods = $0 { true } else { false } }) else {
            Issue.record("no check"); return
        }
        _ = Update.apply(&s, .methodChecked(token: token, method: 2, applies: true, minimumDegree: nil, last: true,
                                            predicted: CostPrediction(seconds: 1e6, basis: "huge")))
        #expect(s.press(.enter).contains { if case .start = $0 { true } else { false } })
    }
}
