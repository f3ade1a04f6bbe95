import Foundation
import Synchronization
import Testing
@testable import LipscopeEngine

/// Streaming and cancellation: build progress, LP size, solver iterations; cancel in the
/// build phase and in the solve phase; too_large past the limit; lowest degree in compare.
@Suite struct LiveTests {
    static func banded() throws -> Network { try LiPoptFixtures.load("banded_20x20x1.json") }

    /// Cancels at the first event matching `trigger`; returns the result and the events seen.
    static func cancelled(at trigger: @escaping @Sendable (JobEvent) -> Bool) throws -> (BoundResult, [String]) {
        let seen = Mutex<[String]>([])
        let holder = Mutex<Job?>(nil)
        let fired = Atomic<Bool>(false)
        let request = BoundRequest(network: try banded(), norm: .linf, degree: 3, options: ["cliques": "dense"])
        let job = Job.start(LiPoptLPBound(), request) { event in
            switch event {
            case .progress(let phase, _, _): seen.withLock { $0.append("progress:\(phase)") }
            case .log(let s): seen.withLock { $0.append("log:\(s)") }
            case .iteration: seen.withLock { $0.append("iteration") }
            case .finished: seen.withLock { $0.append("finished") }
            }
            if trigger(event), !fired.exchange(true, ordering: .relaxed) {
                while holder.withLock({ $0 }) == nil { usleep(100) }
                holder.withLock { $0?.cancel() }
            }
        }
        holder.withLock { $0 = job }
        let r = job.wait()
        return (r, seen.withLock { $0 })
    }

    @Test func cancelDuringBuild() throws {
        let (r, events) = try Self.cancelled { if case .progress = $0 { return true }; return false }
        #expect(r.status == .cancelled)
        #expect(!events.contains("iteration"))
    }

    @Test func cancelDuringSolve() throws {
        let (r, events) = try Self.cancelled { if case .iteration = $0 { return true }; return false }
        #expect(r.status == .cancelled)
        #expect(events.contains { $0.hasPrefix("log:LP") }, "LP size is logged before solving")
        #expect(events.contains { $0.hasPrefix("progress:building") })
    }

    @Test func tooLargeNamesTheSize() throws {
        let request = BoundRequest(network: try Self.banded(), norm: .linf, degree: 4,
                                   options: ["cliques": "dense", "max_lp_nonzeros": "100000"])
        let r = Job.run(LiPoptLPBound(), request)
        #expect(r.status == .tooLarge)
        if case .string(let reason)? = r.details["reason"] { #expect(reason.contains("nonzeros")) }
        let below = Job.run(LiPoptLPBound(), BoundRequest(network: try Self.banded(), norm: .linf, degree: 1))
        #expect(below.status == .notApplicable)
        let l2 = Job.run(LiPoptLPBound(), BoundRequest(network: try Self.banded(), norm: .l2))
        #expect(l2.status == .notApplicable)
    }

    @Test func compareRunsLiPoptAtTheLowestDegree() throws {
        let net = try LiPoptFixtures.load("tiny_relu_5.json")
        let c = Comparison.run(net, norms: [.linf]) { BoundRequest(network: $0, norm: $1) }
        let lp = try #require(c.results.first { $0.method == "lipopt-lp" })
        #expect(lp.degree == 3 && lp.status == .optimal && lp.certified)
        #expect(abs(lp.value! - 0.3567678097590801) <= 1e-6)
        let sdp = try #require(c.results.first { $0.method == "lipopt-sdp" })
        #expect(sdp.degree == 2 && sdp.status == .optimal)
        #expect(abs(sdp.value! - 0.3567678098) <= 1e-5)
    }
}
