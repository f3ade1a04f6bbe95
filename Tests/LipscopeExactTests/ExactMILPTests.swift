import Foundation
import Synchronization
import Testing
import LipscopeTestSupport
import LipscopeEngine

/// `engine=milp`: CBC on the LipMIP MILP against the brute-force oracle in ℓ∞, globally (the
/// MILP searches the ℓ∞ ball of radius `milp_radius`) and on balls; cancel during each phase.
@Suite struct ExactMILPTests {
    static let cases: [ExactOracleTests.Case] = Fixtures.tinyNets.flatMap { (n: String) -> [ExactOracleTests.Case] in
        [nil, 0.05, 0.5, 2.0].map { ExactOracleTests.Case(net: n, norm: .linf, radius: $0) }
    }

    @Test(arguments: ExactMILPTests.cases) func milpMatchesBruteForce(_ c: ExactOracleTests.Case) throws {
        let network = try Fixtures.load("testnets/\(c.net).json")
        var oracle = BruteForceOracle(network, box: ExactOracleTests.box(network, radius: c.radius))
        let want = try oracle.constant(.linf)
        let r = Job.run(ExactBound(), ExactOracleTests.request(network, .linf, radius: c.radius, extra: ["engine": "milp"]))
        #expect(r.status == .optimal, "\(c): \(r.details["reason"] ?? .null)")
        #expect(r.details["engine"] == .string("milp"))
        guard case .object(let milp)? = r.details["milp"], case .number(let lower)? = milp["lower"],
              case .number(let bound)? = milp["solver_bound"] else {
            Issue.record("\(c): no milp details \(r.details)"); return
        }
        #expect(milp["status"] == .string("optimal"), "\(c): \(milp)")
        // The MILP's incumbent, re-checked as a true Jacobian, is the constant itself.
        #expect(abs(lower - want) <= 1e-9 * want, "\(c): milp lower \(lower) vs brute force \(want)")
        // CBC stops at the relative gap 1e-6; its bound is the solver's word, checked here.
        #expect(bound >= lower * (1 - 1e-9) && bound <= want * (1 + 2e-6), "\(c): milp bound \(bound) vs \(want)")
        // The value (the pattern search seeded with the incumbent) is the same constant.
        let got = try #require(r.value)
        #expect(r.kind == .exact)
        #expect(abs(got - want) <= 1e-9 * want, "\(c): exact \(got) vs brute force \(want)")
        guard case .array(let w)? = r.details["witness"] else { Issue.record("no witness"); return }
        let x = w.compactMap { if case .number(let v) = $0 { v } else { nil } }
        let j = try #require(network.jacobian(at: x))
        #expect(abs(try Norm.linf.induced(j) - want) <= 1e-9 * want)
    }

    @Test func milpIsForTheInfinityNormOnly() throws {
        let network = try Fixtures.load("testnets/tiny_relu_1.json")
        let r = Job.run(ExactBound(), BoundRequest(network: network, norm: .l2, options: ["engine": "milp"]))
        #expect(r.status == .failed)
        guard case .string(let why)? = r.details["reason"] else { Issue.record("no reason"); return }
        #expect(why.contains("engine"), "\(why)")
    }

    /// Cancel while CBC runs: within 2 s, status cancelled, both sides kept.
    @Test func cancelDuringTheMILP() throws {
        let network = try Fixtures.load("testnets-real/glipsdp_fnn2_seed0.json")
        let rows = Mutex<[IterationRecord]>([])
        let job = Job.start(ExactBound(), BoundRequest(network: network, norm: .linf, options: ["engine": "milp"])) { event in
            if case .iteration(let it) = event { rows.withLock { $0.append(it) } }
        }
        while rows.withLock({ $0.count }) < 2 { Thread.sleep(forTimeInterval: 0.05) }
        let asked = Date()
        job.cancel()
        let r = job.wait()
        #expect(Date().timeIntervalSince(asked) < 2)
        #expect(r.status == .cancelled)
        guard case .number(let lower)? = r.details["lower"], case .number(let upper)? = r.details["upper"] else {
            Issue.record("details lost: \(r.details)"); return
        }
        #expect(lower > 0 && lower <= upper && upper.isFinite)
    }

    /// Cancel during the LipSDP step that follows an unclosed pattern search: cancelled (not
    /// failed), with the search's lower and upper bounds kept.
    @Test func cancelDuringLipSDPKeepsBothSides() throws {
        let network = try Fixtures.load("testnets-real/glipsdp_fnn2_seed0.json")
        let sdpStarted = Mutex(false)
        let request = BoundRequest(network: network, norm: .l2, options: ["engine": "pattern", "max_nodes": "20"])
        let job = Job.start(ExactBound(), request) { event in
            if case .log(let line) = event, line.contains("lipsdp") { sdpStarted.withLock { $0 = true } }
        }
        // Cancel at once: the structured LipSDP solve of this net takes well under 0.1 s.
        while !sdpStarted.withLock({ $0 }) { Thread.sleep(forTimeInterval: 0.001) }
        job.cancel()
        let r = job.wait()
        #expect(r.status == .cancelled, "\(r.status): \(r.details["reason"] ?? .null)")
        guard case .number(let lower)? = r.details["lower"], case .number(let upper)? = r.details["upper"] else {
            Issue.record("details lost: \(r.details)"); return
        }
        #expect(lower > 0 && lower <= upper && upper.isFinite)
    }
}
