import Foundation
import Synchronization
import Testing
@testable import LipscopeEngine
@testable import LipscopeTUI

/// An `exact` run in the workbench: its streamed iterations plot the global upper bound and the
/// incumbent lower bound closing in on each other, like a solver's convergence.
@Suite struct ExactLiveTests {
    @Test func exactRunPlotsUpperAndLowerClosingTheGap() throws {
        var s = loadedState(methods: [ExactBound()])
        let start = s.press(.enter)
        guard case .start(let id, _, let request)? = start.first(where: { if case .start = $0 { true } else { false } }) else {
            Issue.record("no run started: \(start)"); return
        }
        // The real method, its events fed to the workbench as the runtime would.
        let events = Mutex<[JobEvent]>([])
        _ = Job.run(ExactBound(), request, sink: { e in events.withLock { $0.append(e) } })
        for e in events.withLock({ $0 }) { s.send(.job(run: id, e)) }
        let run = try #require(s.runs.last)
        #expect(run.result?.status == .optimal && run.result?.kind == .exact)
        let (series, log) = View.plotSeries(run)
        #expect(series.map(\.name) == ["upper", "lower"] && !log)
        let upper = series[0].values.filter(\.isFinite), lower = series[1].values.filter(\.isFinite)
        #expect(!upper.isEmpty && !lower.isEmpty)
        // The bound only falls, the incumbent only rises, and they meet at the reported value.
        #expect(zip(upper, upper.dropFirst()).allSatisfy { $1 <= $0 * (1 + 1e-12) })
        #expect(zip(lower, lower.dropFirst()).allSatisfy { $1 >= $0 * (1 - 1e-12) })
        let value = try #require(run.result?.value)
        #expect(abs(upper.last! - value) <= 1e-6 * value && abs(lower.last! - value) <= 1e-6 * value)
        #expect(s.screenText.contains("upper") && s.screenText.contains("lower"))
    }
}
