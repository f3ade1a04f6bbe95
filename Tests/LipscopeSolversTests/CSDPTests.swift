import Foundation
import Testing
@testable import LipscopeSolvers

@Suite(.serialized, .enabled(if: Fixtures.csdpAvailable, "csdp binary not on PATH"))
struct CSDPTests {
    @Test(arguments: ["truss1", "control1", "qap5", "theta1"]) func crossCheck(name: String) throws {
        let p = try SDPAFormat.read(path: Fixtures.sdplib(name))
        let r = try CSDPSolver().solve(.sdp(p))
        #expect(r.status == .optimal, "\(name): \(r.status) \(r.message)")
        let want = try #require(Fixtures.sdpOptimum(name))
        let got = try #require(r.primalObjective)
        #expect(Fixtures.relativeError(got, want) <= 1e-6, "\(name): \(got) vs \(want)")
        #expect(r.x.count == p.variableCount)
        #expect(r.dualMatrices?.count == p.blocks.count)
        // Agrees with DSDP.
        let d = try DSDPSolver().solve(.sdp(p))
        #expect(Fixtures.relativeError(got, d.primalObjective!) <= 1e-6)
    }

    @Test func infeasibility() throws {
        let p1 = try CSDPSolver().solve(.sdp(SDPAFormat.read(path: Fixtures.sdplib("infp1"))))
        #expect(p1.status == .primalInfeasible, "infp1: \(p1.status) \(p1.message)")
        let d1 = try CSDPSolver().solve(.sdp(SDPAFormat.read(path: Fixtures.sdplib("infd1"))))
        #expect(d1.status == .dualInfeasible, "infd1: \(d1.status) \(d1.message)")
    }

    @Test func eventsInOrderThenOneResult() async throws {
        let p = try SDPAFormat.read(path: Fixtures.sdplib("control1"))
        var iterations: [SolverIteration] = []
        var results = 0
        for await e in CSDPSolver().events(.sdp(p)) {
            switch e {
            case .iteration(let it): #expect(results == 0); iterations.append(it)
            case .finished(let r): results += 1; #expect(r.status == .optimal)
            case .failed(let err): Issue.record("failed: \(err)")
            }
        }
        #expect(results == 1)
        #expect(iterations.count > 5)
        #expect(iterations.first?.iteration == 0)
        #expect(zip(iterations, iterations.dropFirst()).allSatisfy { $0.iteration < $1.iteration && $0.elapsed <= $1.elapsed })
    }

    @Test func cancelMidSolve() throws {
        let p = try SDPAFormat.read(path: Fixtures.sdplib("arch0"))
        let log = IterationLog()
        let r = try CSDPSolver().solve(.sdp(p), options: .default, control: cancellingControl(after: 2, log: log))
        #expect(r.status == .cancelled)
    }

    @Test func missingBinaryIsAnError() {
        #expect(throws: SolverError.self) {
            try CSDPSolver(executable: "/nonexistent/csdp").solve(.sdp(SDPAFormat.read(path: Fixtures.sdplib("truss1"))))
        }
    }
}
